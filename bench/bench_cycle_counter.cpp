// Each cycle-counter read against clock_gettime(CLOCK_MONOTONIC_RAW), the
// clock it is calibrated against, and the integer cycles->ns conversion
// against a floating-point multiply. The calibration and read-cost figures
// the library measures at start are printed in the context header.
#include <benchmark/benchmark.h>
#include <time.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "peer_ratio.hpp"
#include "quietcore/core/cycle_counter.hpp"

namespace {

using qc::core::CycleCounter;

void BM_CycleCounterRead(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(CycleCounter::read());
    }
}
BENCHMARK(BM_CycleCounterRead);

void BM_CycleCounterReadStart(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(CycleCounter::read_start());
    }
}
BENCHMARK(BM_CycleCounterReadStart);

void BM_CycleCounterReadEnd(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(CycleCounter::read_end());
    }
}
BENCHMARK(BM_CycleCounterReadEnd);

void BM_ClockGettimeMonotonicRaw(benchmark::State& state) {
    timespec ts{};
    for (auto _ : state) {
        clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
        benchmark::DoNotOptimize(ts);
    }
}
BENCHMARK(BM_ClockGettimeMonotonicRaw);

void BM_SteadyClockNow(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(std::chrono::steady_clock::now());
    }
}
BENCHMARK(BM_SteadyClockNow);

// A fixed rate, so the benchmark does not depend on this run's calibration.
constexpr double kCyclesPerNs = 2.345678;

void BM_CycleConverterToNs(benchmark::State& state) {
    qc::core::CycleConverter conv(kCyclesPerNs);
    std::uint64_t cycles = 123456789;
    for (auto _ : state) {
        benchmark::DoNotOptimize(conv.to_ns(cycles));
        cycles += 7919;
    }
}
BENCHMARK(BM_CycleConverterToNs);

void BM_DoubleMultiplyToNs(benchmark::State& state) {
    double ns_per_cycle = 1.0 / kCyclesPerNs;
    benchmark::DoNotOptimize(ns_per_cycle);
    std::uint64_t cycles = 123456789;
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            static_cast<std::uint64_t>(static_cast<double>(cycles) * ns_per_cycle));
        cycles += 7919;
    }
}
BENCHMARK(BM_DoubleMultiplyToNs);

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

void add_counter_context() {
    qc::core::CycleCounterFacts facts = qc::core::cycle_counter_facts();
    benchmark::AddCustomContext("qc_counter", std::string(facts.counter));
    benchmark::AddCustomContext("qc_invariant", std::string(facts.invariant ? "yes" : "no") + " (" +
                                                    std::string(facts.invariant_source) + ")");
#if defined(__x86_64__)
    benchmark::AddCustomContext("qc_end_read", facts.end_read_uses_rdtscp
                                                   ? "rdtscp; lfence"
                                                   : "lfence; rdtsc; lfence (no RDTSCP in CPUID)");
#elif defined(__aarch64__)
    benchmark::AddCustomContext("qc_end_read", "isb; mrs cntvct_el0; isb");
#endif
    qc::core::CycleCalibration cal = qc::core::calibrate_cycle_counter();
    benchmark::AddCustomContext(
        "qc_calibrated_mhz",
        fixed(cal.hz() / 1e6, 3) + " +- " + fixed(cal.relative_error * 1e6, 1) + " ppm");
    for (auto kind :
         {qc::core::CounterRead::plain, qc::core::CounterRead::start, qc::core::CounterRead::end}) {
        qc::core::ReadCost cost = qc::core::measure_read_cost(kind);
        benchmark::AddCustomContext("qc_read_" + std::string(qc::core::to_string(kind)) + "_ticks",
                                    "min " + std::to_string(cost.min_ticks) + ", median " +
                                        std::to_string(cost.median_ticks) + ", mean " +
                                        fixed(cost.mean_ticks, 1));
    }
}

}  // namespace

int main(int argc, char** argv) {
    add_counter_context();
    return qc::bench::run_with_ratios(argc, argv,
                                      {{"BM_CycleCounterRead", "BM_ClockGettimeMonotonicRaw"},
                                       {"BM_CycleCounterReadStart", "BM_ClockGettimeMonotonicRaw"},
                                       {"BM_CycleCounterReadEnd", "BM_ClockGettimeMonotonicRaw"},
                                       {"BM_CycleConverterToNs", "BM_DoubleMultiplyToNs"}});
}
