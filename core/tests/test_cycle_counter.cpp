#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "quietcore/core/cycle_counter.hpp"
#include "quietcore/core/error.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace qc::core {
namespace {

using ::testing::HasSubstr;

std::int64_t monotonic_raw_ns() {
    timespec ts{};
    EXPECT_EQ(::clock_gettime(CLOCK_MONOTONIC_RAW, &ts), 0);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::uint64_t read_kind(CounterRead kind) {
    switch (kind) {
        case CounterRead::plain:
            return CycleCounter::read();
        case CounterRead::start:
            return CycleCounter::read_start();
        case CounterRead::end:
            return CycleCounter::read_end();
    }
    ADD_FAILURE() << "unknown read kind";
    return 0;
}

// How many times a sequence of reads went backwards.
std::uint64_t backward_steps(CounterRead kind, int reads) {
    std::uint64_t backwards = 0;
    std::uint64_t previous = read_kind(kind);
    for (int i = 0; i < reads; ++i) {
        std::uint64_t now = read_kind(kind);
        backwards += now < previous ? 1 : 0;
        previous = now;
    }
    return backwards;
}

constexpr CounterRead kAllReads[] = {CounterRead::plain, CounterRead::start, CounterRead::end};

TEST(CycleCounter, EveryReadIsMonotonicWithinAThread) {
    for (CounterRead kind : kAllReads) {
        EXPECT_EQ(backward_steps(kind, 200'000), 0u) << to_string(kind);
    }
}

TEST(CycleCounter, ReadsStayMonotonicInConcurrentThreads) {
    std::vector<std::uint64_t> backwards(2, 0);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < backwards.size(); ++t) {
        threads.emplace_back([&backwards, t] {
            for (CounterRead kind : kAllReads) {
                backwards[t] += backward_steps(kind, 100'000);
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_EQ(backwards[0], 0u);
    EXPECT_EQ(backwards[1], 0u);
}

TEST(CycleCounter, CounterAdvancesAcrossASleep) {
    std::uint64_t before = CycleCounter::read_start();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::uint64_t after = CycleCounter::read_end();
    EXPECT_GT(after, before);
}

TEST(CycleCounter, NameMatchesTheArchitecture) {
#if defined(__x86_64__)
    EXPECT_EQ(CycleCounter::name(), "tsc");
#elif defined(__aarch64__)
    EXPECT_EQ(CycleCounter::name(), "cntvct_el0");
#endif
}

TEST(CycleCalibration, RateIsInASaneRangeWithAnHonestError) {
    CalibrationOptions options;
    options.window = std::chrono::milliseconds(5);
    options.repetitions = 4;
    CycleCalibration cal = calibrate_cycle_counter(options);

    ASSERT_EQ(cal.samples.size(), 4u);
    EXPECT_EQ(cal.window, options.window);
#if defined(__x86_64__)
    // TSCs tick at the CPU's nominal clock: 100 MHz .. 10 GHz is generous.
    EXPECT_GT(cal.cycles_per_ns, 0.1);
    EXPECT_LT(cal.cycles_per_ns, 10.0);
#elif defined(__aarch64__)
    // The generic timer runs at 1 MHz .. a few GHz (1 GHz is mandated from Armv8.6).
    EXPECT_GT(cal.cycles_per_ns, 0.001);
    EXPECT_LT(cal.cycles_per_ns, 10.0);
#endif
    EXPECT_DOUBLE_EQ(cal.hz(), cal.cycles_per_ns * 1e9);
    for (double s : cal.samples) {
        EXPECT_GT(s, 0.0);
        EXPECT_LE(s, cal.cycles_per_ns * (1 + cal.relative_spread * 2) + 1e-12);
        EXPECT_GE(s, cal.cycles_per_ns * (1 - cal.relative_spread * 2) - 1e-12);
    }
    EXPECT_GE(cal.relative_spread, 0.0);
    EXPECT_GE(cal.relative_bracket_uncertainty, 0.0);
    EXPECT_DOUBLE_EQ(cal.relative_error, cal.relative_spread + cal.relative_bracket_uncertainty);
    // Loose: the VM may be noisy, but two clocks that disagree by 20% are broken.
    EXPECT_LT(cal.relative_error, 0.2);
    if (cal.stated_hz != 0) {
        EXPECT_NEAR(cal.hz() / static_cast<double>(cal.stated_hz), 1.0, 0.2);
    }
}

TEST(CycleCalibration, ConvertedCyclesAgreeWithTheClockOverASleep) {
    CycleCalibration cal = calibrate_cycle_counter();
    CycleConverter conv = cal.converter();

    // Each counter read sits between two clock reads, so the counter's
    // interval is no shorter than the inner clock interval and no longer than
    // the outer one, whatever the scheduler does in between.
    std::int64_t outer_begin = monotonic_raw_ns();
    std::uint64_t cycles_begin = CycleCounter::read_start();
    std::int64_t inner_begin = monotonic_raw_ns();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::int64_t inner_end = monotonic_raw_ns();
    std::uint64_t cycles_end = CycleCounter::read_end();
    std::int64_t outer_end = monotonic_raw_ns();

    double counter_ns = static_cast<double>(conv.to_ns(cycles_end - cycles_begin));
    // Loose: a noisy VM's calibration may be off by more than it claims.
    double tolerance = std::max(0.05, 2 * cal.relative_error);
    EXPECT_GE(counter_ns, static_cast<double>(inner_end - inner_begin) * (1 - tolerance));
    EXPECT_LE(counter_ns, static_cast<double>(outer_end - outer_begin) * (1 + tolerance));
}

TEST(CycleCalibration, RejectsBadOptionsNamingThem) {
    auto message_of = [](CalibrationOptions o) -> std::string {
        try {
            calibrate_cycle_counter(o);
        } catch (const Error& e) {
            return e.what();
        }
        return "no error";
    };
    CalibrationOptions zero_window;
    zero_window.window = std::chrono::nanoseconds(0);
    EXPECT_THAT(message_of(zero_window), HasSubstr("window 0 ns"));
    CalibrationOptions long_window;
    long_window.window = std::chrono::seconds(11);
    EXPECT_THAT(message_of(long_window), HasSubstr("window 11000000000 ns"));
    CalibrationOptions no_reps;
    no_reps.repetitions = 0;
    EXPECT_THAT(message_of(no_reps), HasSubstr("repetitions 0"));
    CalibrationOptions many_reps;
    many_reps.repetitions = 1001;
    EXPECT_THAT(message_of(many_reps), HasSubstr("repetitions 1001"));
}

TEST(CycleConverter, ConvertsAndRoundTripsAcrossRates) {
    std::mt19937_64 rng(42);
    for (double rate : {1e-4, 0.024, 0.0625, 1.0, 2.5, 3.123456789, 999.0}) {
        CycleConverter conv(rate);
        EXPECT_EQ(conv.cycles_per_ns(), rate);
        std::vector<std::uint64_t> values = {0, 1, 2, 999, 1'000'000, 1'000'000'000'000};
        for (int i = 0; i < 1000; ++i) {
            values.push_back(rng() >> 24);  // up to 2^40 cycles: no saturation at any rate here
        }
        // Truncation in both directions loses at most this many cycles.
        auto slack = static_cast<std::uint64_t>(std::ceil(rate)) + 1;
        for (std::uint64_t c : values) {
            std::uint64_t ns = conv.to_ns(c);
            double exact_ns = static_cast<double>(c) / rate;
            EXPECT_NEAR(static_cast<double>(ns), exact_ns, 1.0 + exact_ns * 1e-12)
                << "rate " << rate << " cycles " << c;
            std::uint64_t back = conv.to_cycles(ns);
            EXPECT_LE(back, c) << "rate " << rate << " cycles " << c;
            EXPECT_GE(back + slack, c) << "rate " << rate << " cycles " << c;
        }
    }
}

TEST(CycleConverter, SaturatesInsteadOfWrapping) {
    CycleConverter slow(1e-4);  // 10000 ns per cycle
    EXPECT_EQ(slow.to_ns(UINT64_MAX), UINT64_MAX);
    EXPECT_EQ(slow.to_ns(UINT64_MAX / 10000 + 10), UINT64_MAX);
    EXPECT_LT(slow.to_ns(UINT64_MAX / 10000 - 10), UINT64_MAX);
    CycleConverter fast(1000.0);
    EXPECT_EQ(fast.to_cycles(UINT64_MAX), UINT64_MAX);
    // 1/1000 has no exact binary form: allow the last couple of units.
    EXPECT_NEAR(static_cast<double>(fast.to_ns(UINT64_MAX)), static_cast<double>(UINT64_MAX / 1000),
                2.0);
}

TEST(CycleConverter, RejectsBadRatesNamingThem) {
    for (double bad : {0.0, -1.0, 5e-5, 1001.0, std::numeric_limits<double>::quiet_NaN(),
                       std::numeric_limits<double>::infinity()}) {
        try {
            CycleConverter conv(bad);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const Error& e) {
            std::ostringstream name;
            name << "cycles per ns " << bad;
            EXPECT_THAT(e.what(), HasSubstr(name.str()));
        }
    }
}

TEST(CycleCounterReadCost, IsPositiveAndSmallForEveryRead) {
    CycleConverter conv = calibrate_cycle_counter().converter();
    for (CounterRead kind : kAllReads) {
        ReadCost cost = measure_read_cost(kind, 20'000);
        EXPECT_LE(cost.min_ticks, cost.median_ticks) << to_string(kind);
        EXPECT_GT(cost.mean_ticks, 0.0) << to_string(kind);
#if defined(__x86_64__)
        // rdtsc has a latency of many cycles: two reads never see one value.
        EXPECT_GT(cost.min_ticks, 0u) << to_string(kind);
#endif
        // "Small": far below a microsecond on hardware; 100 us allows for
        // emulators and a very noisy VM without going meaningless.
        EXPECT_LT(conv.to_ns(cost.median_ticks), 100'000u) << to_string(kind);
        EXPECT_LT(cost.mean_ticks / conv.cycles_per_ns(), 100'000.0) << to_string(kind);
    }
}

TEST(CycleCounterReadCost, RejectsBadSampleCountsNamingThem) {
    for (unsigned bad : {0u, 2u, 100'000'001u}) {
        try {
            measure_read_cost(CounterRead::plain, bad);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const Error& e) {
            EXPECT_THAT(e.what(), HasSubstr("samples " + std::to_string(bad)));
        }
    }
}

TEST(CpuinfoTscFlags, FindsTheFlagsOfTheFirstFlagsLine) {
    std::string cpuinfo =
        "processor\t: 0\n"
        "vendor_id\t: GenuineIntel\n"
        "flags\t\t: fpu tsc msr constant_tsc rep_good nonstop_tsc cpuid\n"
        "vmx flags\t: vnmi\n"
        "\n"
        "processor\t: 1\n"
        "flags\t\t: fpu tsc\n";
    CpuinfoTscFlags f = parse_cpuinfo_tsc_flags(cpuinfo);
    EXPECT_TRUE(f.flags_line_found);
    EXPECT_TRUE(f.constant_tsc);
    EXPECT_TRUE(f.nonstop_tsc);
}

TEST(CpuinfoTscFlags, MatchesWholeWordsOnlyAndOnlyTheFlagsKey) {
    std::string cpuinfo =
        "vmx flags\t: constant_tsc nonstop_tsc\n"
        "flags\t\t: fpu constant_tsc_extra xnonstop_tsc nonstop_tsc\n";
    CpuinfoTscFlags f = parse_cpuinfo_tsc_flags(cpuinfo);
    EXPECT_TRUE(f.flags_line_found);
    EXPECT_FALSE(f.constant_tsc);
    EXPECT_TRUE(f.nonstop_tsc);
}

TEST(CpuinfoTscFlags, Arm64CpuinfoHasNoFlagsLine) {
    std::string cpuinfo =
        "processor\t: 0\n"
        "BogoMIPS\t: 50.00\n"
        "Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid\n";
    CpuinfoTscFlags f = parse_cpuinfo_tsc_flags(cpuinfo);
    EXPECT_FALSE(f.flags_line_found);
    EXPECT_FALSE(f.constant_tsc);
    EXPECT_FALSE(f.nonstop_tsc);
    EXPECT_FALSE(parse_cpuinfo_tsc_flags("").flags_line_found);
    // A last line without a newline still counts.
    EXPECT_TRUE(parse_cpuinfo_tsc_flags("flags : constant_tsc").constant_tsc);
}

TEST(CycleCounterFacts, AreConsistentWithTheirSources) {
    CycleCounterFacts facts = cycle_counter_facts();
    EXPECT_EQ(facts.counter, CycleCounter::name());
#if defined(__x86_64__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    bool rdtscp = __get_cpuid(0x80000001U, &a, &b, &c, &d) != 0 && ((d >> 27) & 1U) != 0;
    EXPECT_EQ(facts.end_read_uses_rdtscp, rdtscp);
    bool invariant = __get_cpuid(0x80000007U, &a, &b, &c, &d) != 0 && ((d >> 8) & 1U) != 0;
    EXPECT_EQ(facts.cpuid_invariant_tsc, invariant);
    EXPECT_TRUE(facts.cpuinfo.flags_line_found);
    bool expected =
        facts.cpuid_invariant_tsc || (facts.cpuinfo.constant_tsc && facts.cpuinfo.nonstop_tsc);
    EXPECT_EQ(facts.invariant, expected);
    if (facts.cpuid_invariant_tsc) {
        EXPECT_EQ(facts.invariant_source, "cpuid");
    } else if (facts.invariant) {
        EXPECT_EQ(facts.invariant_source, "cpuinfo");
    } else {
        EXPECT_EQ(facts.invariant_source, "none");
    }
#elif defined(__aarch64__)
    EXPECT_TRUE(facts.invariant);
    EXPECT_EQ(facts.invariant_source, "architectural");
    EXPECT_GT(facts.stated_hz, 0u);  // cntfrq_el0 is always programmed by firmware
#endif
}

#if defined(__aarch64__)
// The generic timer's frequency register, read here independently of the
// library so the test can fail if the library reads something else.
std::uint64_t cntfrq_el0() {
    std::uint64_t hz;
    asm volatile("mrs %0, cntfrq_el0" : "=r"(hz));
    return hz;
}

std::int64_t monotonic_ns() {
    timespec ts{};
    EXPECT_EQ(::clock_gettime(CLOCK_MONOTONIC, &ts), 0);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

TEST(CycleCounterArm64, StatedRateComesFromCntfrqEl0) {
    const std::uint64_t hz = cntfrq_el0();
    EXPECT_GT(hz, 0u);
    EXPECT_EQ(cycle_counter_facts().stated_hz, hz);
    CalibrationOptions options;
    options.repetitions = 1;
    EXPECT_EQ(calibrate_cycle_counter(options).stated_hz, hz);
}

TEST(CycleCounterArm64, CalibratedRateMatchesCntfrqEl0) {
    CycleCalibration cal = calibrate_cycle_counter();
    EXPECT_NEAR(cal.hz() / static_cast<double>(cntfrq_el0()), 1.0, 0.05)
        << "calibrated " << cal.hz() << " Hz, cntfrq_el0 " << cntfrq_el0() << " Hz";
}

// cntvct_el0 counted at cntfrq_el0 (no calibration involved) spans the same
// time as CLOCK_MONOTONIC over a sleep: each counter read sits between two
// clock reads, so its interval lies between the inner and outer ones.
TEST(CycleCounterArm64, CntvctAdvancesWithClockMonotonicAtCntfrq) {
    const double ns_per_tick = 1e9 / static_cast<double>(cntfrq_el0());
    for (int round = 0; round < 3; ++round) {
        const std::int64_t outer_begin = monotonic_ns();
        const std::uint64_t ticks_begin = CycleCounter::read_start();
        const std::int64_t inner_begin = monotonic_ns();
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + 40 * round));
        const std::int64_t inner_end = monotonic_ns();
        const std::uint64_t ticks_end = CycleCounter::read_end();
        const std::int64_t outer_end = monotonic_ns();

        ASSERT_GT(ticks_end, ticks_begin);
        const double counter_ns = static_cast<double>(ticks_end - ticks_begin) * ns_per_tick;
        // One tick of resolution either way, and 2% for a clock slewed by NTP.
        EXPECT_GE(counter_ns, static_cast<double>(inner_end - inner_begin) * 0.98 - ns_per_tick)
            << "round " << round;
        EXPECT_LE(counter_ns, static_cast<double>(outer_end - outer_begin) * 1.02 + ns_per_tick)
            << "round " << round;
    }
}
#endif

TEST(CounterRead, NamesEveryKind) {
    EXPECT_EQ(to_string(CounterRead::plain), "plain");
    EXPECT_EQ(to_string(CounterRead::start), "start");
    EXPECT_EQ(to_string(CounterRead::end), "end");
}

}  // namespace
}  // namespace qc::core
