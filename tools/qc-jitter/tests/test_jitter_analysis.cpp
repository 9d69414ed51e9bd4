// Exact results of the jitter analysis on synthetic delta sequences.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "../jitter_analysis.hpp"
#include "quietcore/core/error.hpp"

namespace qc::jitter {
namespace {

// One tick per ns keeps expected values readable.
JitterAnalysis make(JitterConfig config, double cycles_per_ns = 1.0) {
    return JitterAnalysis(config, core::CycleConverter(cycles_per_ns));
}

void feed_all(JitterAnalysis& a, const std::vector<std::uint64_t>& deltas) {
    for (std::uint64_t d : deltas) {
        a.feed(d);
    }
}

TEST(JitterAnalysis, RejectsZeroBucketWidthAndCount) {
    JitterConfig width0;
    width0.bucket_width_ns = 0;
    EXPECT_THROW(make(width0), core::Error);
    JitterConfig count0;
    count0.bucket_count = 0;
    EXPECT_THROW(make(count0), core::Error);
}

TEST(JitterAnalysis, CountsLoopsCostAndStolenTime) {
    JitterConfig c{.bucket_width_ns = 10, .bucket_count = 10, .threshold_ns = 50, .max_records = 8};
    JitterAnalysis a = make(c);
    // 20s are the loop; 50 (at threshold), 70 and 200 are gaps; 49 is not.
    feed_all(a, {20, 20, 50, 20, 49, 70, 20, 200, 20});
    const JitterSummary s = a.summarize();
    EXPECT_EQ(s.loops, 9u);
    EXPECT_EQ(s.loop_cost_ns, 20u);
    EXPECT_EQ(s.min_ns, 20u);
    EXPECT_EQ(s.max_ns, 200u);
    EXPECT_DOUBLE_EQ(s.mean_ns, (20.0 * 5 + 50 + 49 + 70 + 200) / 9);
    EXPECT_EQ(s.elapsed_ns, 20u * 5 + 50 + 49 + 70 + 200);
    EXPECT_EQ(s.interruptions, 3u);
    EXPECT_EQ(s.stolen_ns, (50u - 20) + (70 - 20) + (200 - 20));
    EXPECT_EQ(s.records_dropped, 0u);
    // Starts: the time of the read before each gap.
    const std::vector<GapRecord> expected{
        {40, 50}, {40 + 50 + 20 + 49, 70}, {40 + 50 + 20 + 49 + 70 + 20, 200}};
    EXPECT_EQ(s.records, expected);
    std::uint64_t recorded = 0;
    for (const GapRecord& r : s.records) {
        recorded += r.length_ns - s.loop_cost_ns;
    }
    EXPECT_EQ(recorded, s.stolen_ns);
    EXPECT_DOUBLE_EQ(s.interruptions_per_s, 3 * 1e9 / s.elapsed_ns);
    EXPECT_DOUBLE_EQ(s.stolen_pct, 100.0 * s.stolen_ns / s.elapsed_ns);
}

TEST(JitterAnalysis, BoundsRecordsAndCountsTheDropped) {
    JitterConfig c{
        .bucket_width_ns = 100, .bucket_count = 4, .threshold_ns = 100, .max_records = 2};
    JitterAnalysis a = make(c);
    feed_all(a, {10, 100, 10, 150, 10, 300, 10, 120});
    const JitterSummary s = a.summarize();
    EXPECT_EQ(s.interruptions, 4u);
    ASSERT_EQ(s.records.size(), 2u);
    EXPECT_EQ(s.records[0], (GapRecord{10, 100}));
    EXPECT_EQ(s.records[1], (GapRecord{120, 150}));
    EXPECT_EQ(s.records_dropped, 2u);
    // Stolen counts every gap, recorded or not.
    EXPECT_EQ(s.stolen_ns, 90u + 140 + 290 + 110);
}

TEST(JitterAnalysis, ZeroMaxRecordsDropsAll) {
    JitterConfig c{.bucket_width_ns = 10, .bucket_count = 4, .threshold_ns = 30, .max_records = 0};
    JitterAnalysis a = make(c);
    feed_all(a, {5, 40, 5, 31});
    const JitterSummary s = a.summarize();
    EXPECT_TRUE(s.records.empty());
    EXPECT_EQ(s.records_dropped, 2u);
    EXPECT_EQ(s.stolen_ns, 35u + 26);
}

TEST(JitterAnalysis, PlacesValuesInLinearBucketsWithOverflow) {
    JitterConfig c{
        .bucket_width_ns = 10, .bucket_count = 3, .threshold_ns = 1000, .max_records = 1};
    JitterAnalysis a = make(c);
    // Edges: 9|10, 19|20, 29|30 (30 = 3 * 10 overflows); out-of-order values
    // exercise the cached-bucket shortcut in both directions.
    feed_all(a, {0, 9, 10, 19, 5, 20, 29, 30, 1000, 25, 11, 10});
    const JitterSummary s = a.summarize();
    EXPECT_EQ(s.bucket_width_ns, 10u);
    EXPECT_EQ(s.counts, (std::vector<std::uint64_t>{3, 4, 3}));
    EXPECT_EQ(s.overflow, 2u);
    std::uint64_t total = s.overflow;
    for (std::uint64_t n : s.counts) {
        total += n;
    }
    EXPECT_EQ(total, s.loops);
}

TEST(JitterAnalysis, PercentilesExactForSmallValuesAndWithinBoundForLarge) {
    JitterConfig c{
        .bucket_width_ns = 1000, .bucket_count = 8, .threshold_ns = 1'000'000, .max_records = 1};
    JitterAnalysis a = make(c);
    // 10000 deltas: 9000 of 30 ns, 900 of 40, 90 of 100, 9 of 200, 1 of 123457.
    for (int i = 0; i < 9000; ++i)
        a.feed(30);
    for (int i = 0; i < 900; ++i)
        a.feed(40);
    for (int i = 0; i < 90; ++i)
        a.feed(100);
    for (int i = 0; i < 9; ++i)
        a.feed(200);
    a.feed(123457);
    const JitterSummary s = a.summarize();
    EXPECT_EQ(s.loops, 10000u);
    EXPECT_EQ(s.p50_ns, 30u);      // rank 5000
    EXPECT_EQ(s.p99_ns, 40u);      // rank 9900
    EXPECT_EQ(s.p999_ns, 100u);    // rank 9990
    EXPECT_EQ(s.p9999_ns, 200u);   // rank 9999
    EXPECT_EQ(s.max_ns, 123457u);  // exact
    // A large value in the middle rank: within 2^-7 above the truth.
    JitterAnalysis b = make(c);
    for (int i = 0; i < 3; ++i)
        b.feed(123457);
    const JitterSummary t = b.summarize();
    EXPECT_GE(t.p50_ns, 123457u);
    EXPECT_LE(t.p50_ns, 123457u + 123457u / 128);
}

TEST(JitterAnalysis, ConvertsTicksToNanoseconds) {
    JitterConfig c{.bucket_width_ns = 10, .bucket_count = 10, .threshold_ns = 50, .max_records = 4};
    JitterAnalysis a = make(c, 2.0);  // 2 ticks per ns
    feed_all(a, {40, 40, 300, 40});
    const JitterSummary s = a.summarize();
    EXPECT_EQ(s.loop_cost_ns, 20u);
    EXPECT_EQ(s.max_ns, 150u);
    EXPECT_EQ(s.elapsed_ns, 210u);
    ASSERT_EQ(s.records.size(), 1u);
    EXPECT_EQ(s.records[0], (GapRecord{40, 150}));
    EXPECT_EQ(s.stolen_ns, 130u);
    EXPECT_EQ(s.counts[2], 3u);
    EXPECT_EQ(s.overflow, 1u);
}

TEST(JitterAnalysis, ResetForgetsTheWarmUp) {
    JitterConfig c{.bucket_width_ns = 10, .bucket_count = 2, .threshold_ns = 15, .max_records = 2};
    JitterAnalysis a = make(c);
    feed_all(a, {1, 100, 100, 100});
    a.reset();
    feed_all(a, {5, 16});
    const JitterSummary s = a.summarize();
    EXPECT_EQ(s.loops, 2u);
    EXPECT_EQ(s.loop_cost_ns, 5u);
    EXPECT_EQ(s.interruptions, 1u);
    EXPECT_EQ(s.records, (std::vector<GapRecord>{{5, 16}}));
    EXPECT_EQ(s.counts, (std::vector<std::uint64_t>{1, 1}));
    EXPECT_EQ(s.overflow, 0u);
    EXPECT_EQ(s.elapsed_ns, 21u);
}

TEST(JitterAnalysis, EmptyRunReportsZeros) {
    JitterAnalysis a = make(JitterConfig{});
    const JitterSummary s = a.summarize();
    EXPECT_EQ(s.loops, 0u);
    EXPECT_EQ(s.loop_cost_ns, 0u);
    EXPECT_EQ(s.stolen_ns, 0u);
    EXPECT_EQ(s.counts.size(), 64u);
    EXPECT_DOUBLE_EQ(s.stolen_pct, 0.0);
}

}  // namespace
}  // namespace qc::jitter
