// Histogram::record, as an isolated worker calls it once per measured gap,
// against a plain array increment (the floor any histogram pays) and an
// atomic fetch_add increment (what a lock-prefixed thread-safe counter pays).
#include <benchmark/benchmark.h>

#include <atomic>
#include <bit>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "peer_ratio.hpp"
#include "quietcore/core/histogram.hpp"

namespace {

constexpr std::size_t kValues = 4096;  // a power of two: index with a mask
constexpr std::size_t kMask = kValues - 1;

// Gap-like values (cycles): mostly tens to hundreds, a long tail to ~10^6.
const std::vector<std::uint64_t>& gap_values() {
    static const std::vector<std::uint64_t> values = [] {
        std::mt19937_64 rng(1);
        std::lognormal_distribution<double> gaps(4.5, 1.5);
        std::vector<std::uint64_t> v(kValues);
        for (auto& x : v) {
            x = static_cast<std::uint64_t>(gaps(rng));
        }
        return v;
    }();
    return values;
}

void BM_HistogramRecord(benchmark::State& state) {
    const auto& values = gap_values();
    qc::core::Histogram h(qc::core::HistogramConfig{7, UINT64_MAX});
    std::size_t i = 0;
    for (auto _ : state) {
        h.record(values[i++ & kMask]);
    }
    benchmark::DoNotOptimize(h.count());
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecord);

// Same value stream, same table size, no bucketing and no summary fields.
void BM_ArrayIncrement(benchmark::State& state) {
    const auto& values = gap_values();
    qc::core::Histogram sized(qc::core::HistogramConfig{7, UINT64_MAX});
    std::vector<std::uint64_t> counts(std::bit_ceil(sized.bucket_count()), 0);
    const std::size_t mask = counts.size() - 1;
    std::size_t i = 0;
    for (auto _ : state) {
        ++counts[values[i++ & kMask] & mask];
    }
    benchmark::DoNotOptimize(counts.data());
    benchmark::ClobberMemory();
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ArrayIncrement);

void BM_AtomicFetchAddIncrement(benchmark::State& state) {
    const auto& values = gap_values();
    qc::core::Histogram sized(qc::core::HistogramConfig{7, UINT64_MAX});
    const std::size_t n = std::bit_ceil(sized.bucket_count());
    auto counts = std::make_unique<std::atomic<std::uint64_t>[]>(n);
    const std::size_t mask = n - 1;
    std::size_t i = 0;
    for (auto _ : state) {
        counts[values[i++ & kMask] & mask].fetch_add(1, std::memory_order_relaxed);
    }
    benchmark::DoNotOptimize(counts.get());
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AtomicFetchAddIncrement);

// Housekeeping side, for scale: one percentile of a histogram of 10^6 gaps.
void BM_HistogramPercentile99(benchmark::State& state) {
    const auto& values = gap_values();
    qc::core::Histogram h(qc::core::HistogramConfig{7, UINT64_MAX});
    for (std::size_t i = 0; i < 1'000'000; ++i) {
        h.record(values[i & kMask]);
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(h.percentile(99));
    }
}
BENCHMARK(BM_HistogramPercentile99);

}  // namespace

int main(int argc, char** argv) {
    return qc::bench::run_with_ratios(argc, argv,
                                      {{"BM_HistogramRecord", "BM_ArrayIncrement"},
                                       {"BM_HistogramRecord", "BM_AtomicFetchAddIncrement"}});
}
