#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <new>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "allocation_counter.hpp"
#include "quietcore/core/error.hpp"
#include "quietcore/core/histogram.hpp"

namespace qc::core {
namespace {

using ::testing::HasSubstr;

HistogramConfig config(unsigned precision_bits, std::uint64_t highest = UINT64_MAX) {
    return HistogramConfig{precision_bits, highest};
}

std::string error_of(auto&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

TEST(HistogramConfig, RejectsBadConfigurationsNamingTheField) {
    EXPECT_THAT(error_of([] { Histogram h(config(0)); }), HasSubstr("precision_bits 0"));
    EXPECT_THAT(error_of([] { Histogram h(config(17)); }), HasSubstr("precision_bits 17"));
    EXPECT_THAT(error_of([] { Histogram h(config(7, 0)); }), HasSubstr("highest_trackable 0"));
    EXPECT_NO_THROW(Histogram h(config(1, 1)));
    EXPECT_NO_THROW(Histogram h(config(16)));
}

TEST(HistogramLayout, SmallValuesAreExactThenBucketsDoubleInWidth) {
    Histogram h(config(2));  // exact below 2^3 = 8, then 4 buckets per power of two
    for (std::uint64_t v = 0; v < 8; ++v) {
        EXPECT_EQ(h.bucket_index(v), v);
        EXPECT_EQ(h.bucket_lower(v), v);
        EXPECT_EQ(h.bucket_upper(v), v);
    }
    // [8, 16): width 2.
    EXPECT_EQ(h.bucket_index(8), 8u);
    EXPECT_EQ(h.bucket_index(9), 8u);
    EXPECT_EQ(h.bucket_index(10), 9u);
    EXPECT_EQ(h.bucket_index(15), 11u);
    EXPECT_EQ(h.bucket_lower(11), 14u);
    EXPECT_EQ(h.bucket_upper(11), 15u);
    // [16, 32): width 4.
    EXPECT_EQ(h.bucket_index(16), 12u);
    EXPECT_EQ(h.bucket_index(19), 12u);
    EXPECT_EQ(h.bucket_index(20), 13u);
    EXPECT_EQ(h.bucket_lower(12), 16u);
    EXPECT_EQ(h.bucket_upper(12), 19u);
}

// Every bucket: contiguous with the next, maps back to itself at both ends,
// and no wider than the documented bound allows.
void check_layout(const Histogram& h) {
    unsigned bits = h.config().precision_bits;
    for (std::size_t i = 0; i < h.bucket_count(); ++i) {
        std::uint64_t lo = h.bucket_lower(i);
        std::uint64_t hi = h.bucket_upper(i);
        ASSERT_LE(lo, hi) << i;
        ASSERT_EQ(h.bucket_index(lo), i) << i;
        ASSERT_EQ(h.bucket_index(hi), i) << i;
        // Width (hi - lo + 1) at most lo * 2^-bits, in integers: doubles
        // would round 2^k - 1 up to 2^k.
        ASSERT_LE(hi - lo + 1, std::max<std::uint64_t>(1, lo >> bits)) << i;
        if (i + 1 < h.bucket_count()) {
            ASSERT_EQ(h.bucket_lower(i + 1), hi + 1) << i;
        }
    }
    EXPECT_EQ(h.bucket_lower(0), 0u);
    EXPECT_EQ(h.bucket_upper(h.bucket_count() - 1), h.config().highest_trackable);
}

TEST(HistogramLayout, BucketsTileTheTrackableRangeWithinTheBound) {
    for (unsigned bits : {1u, 3u, 7u, 10u}) {
        SCOPED_TRACE(bits);
        check_layout(Histogram(config(bits)));
        check_layout(Histogram(config(bits, 1)));
        check_layout(Histogram(config(bits, 1'000'003)));
        check_layout(Histogram(config(bits, (std::uint64_t{1} << 40) - 1)));
    }
}

TEST(HistogramLayout, RelativeErrorBoundIsTwoToMinusPrecision) {
    EXPECT_DOUBLE_EQ(Histogram(config(1)).relative_error_bound(), 0.5);
    EXPECT_DOUBLE_EQ(Histogram(config(7)).relative_error_bound(), 1.0 / 128);
    EXPECT_DOUBLE_EQ(Histogram(config(16)).relative_error_bound(), 1.0 / 65536);
}

TEST(Histogram, EmptyReportsZeros) {
    Histogram h;
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.overflow(), 0u);
    EXPECT_EQ(h.min(), 0u);
    EXPECT_EQ(h.max(), 0u);
    EXPECT_EQ(h.mean(), 0.0);
    EXPECT_EQ(h.percentile(50), 0u);
    EXPECT_EQ(h.percentile(100), 0u);
    EXPECT_TRUE(h.buckets().empty());
}

TEST(Histogram, RecordsZeroTheHighestTrackableAndOverflow) {
    Histogram h(config(3, 1000));
    h.record(0);
    h.record(1000);
    h.record(1001);
    h.record(UINT64_MAX);
    EXPECT_EQ(h.count(), 4u);
    EXPECT_EQ(h.overflow(), 2u);
    EXPECT_EQ(h.min(), 0u);
    EXPECT_EQ(h.max(), UINT64_MAX);

    auto buckets = h.buckets();
    ASSERT_EQ(buckets.size(), 2u);
    EXPECT_EQ(buckets[0].lower, 0u);
    EXPECT_EQ(buckets[0].upper, 0u);
    EXPECT_EQ(buckets[0].count, 1u);
    EXPECT_LE(buckets[1].lower, 1000u);
    EXPECT_EQ(buckets[1].upper, 1000u);  // clipped to highest_trackable
    EXPECT_EQ(buckets[1].count, 1u);

    EXPECT_EQ(h.percentile(25), 0u);
    EXPECT_EQ(h.percentile(50), 1000u);
    // Ranks among the overflowed values report the exact maximum.
    EXPECT_EQ(h.percentile(75), UINT64_MAX);
    EXPECT_EQ(h.percentile(100), UINT64_MAX);
}

TEST(Histogram, MeanIsExactBeyondSixtyFourBitSums) {
    Histogram h;
    h.record(UINT64_MAX, 3);
    h.record(1);
    EXPECT_EQ(h.count(), 4u);
    long double exact = (3.0L * static_cast<long double>(UINT64_MAX) + 1.0L) / 4.0L;
    EXPECT_DOUBLE_EQ(h.mean(), static_cast<double>(exact));
}

TEST(Histogram, RecordWithCountEqualsRepeatedRecords) {
    Histogram once(config(4));
    Histogram repeated(config(4));
    once.record(12345, 7);
    once.record(3, 0);  // a count of zero records nothing
    for (int i = 0; i < 7; ++i) {
        repeated.record(12345);
    }
    EXPECT_EQ(to_json(once), to_json(repeated));
    EXPECT_EQ(once.count(), 7u);
    EXPECT_EQ(once.min(), 12345u);
}

TEST(Histogram, PercentileRejectsOutOfRangeNamingIt) {
    Histogram h;
    h.record(5);
    EXPECT_THAT(error_of([&] { h.percentile(-1); }), HasSubstr("percentile -1"));
    EXPECT_THAT(error_of([&] { h.percentile(100.5); }), HasSubstr("percentile 100.5"));
    EXPECT_THAT(error_of([&] { h.percentile(std::nan("")); }), HasSubstr("percentile nan"));
    EXPECT_THAT(error_of([&] { percentile_rank(101, 10); }), HasSubstr("percentile 101"));
}

TEST(PercentileRank, IsTheNearestRank) {
    EXPECT_EQ(percentile_rank(50, 0), 0u);
    EXPECT_EQ(percentile_rank(0, 10), 1u);
    EXPECT_EQ(percentile_rank(100, 10), 10u);
    EXPECT_EQ(percentile_rank(50, 4), 2u);
    EXPECT_EQ(percentile_rank(50, 3), 2u);
    EXPECT_EQ(percentile_rank(25, 1), 1u);
    EXPECT_EQ(percentile_rank(10.5, 200), 21u);
    EXPECT_EQ(percentile_rank(10.6, 200), 22u);
    // Decimal percentiles that binary floating point stores a hair high.
    EXPECT_EQ(percentile_rank(99.9, 1000), 999u);
    EXPECT_EQ(percentile_rank(99.99, 10000), 9999u);
    EXPECT_EQ(percentile_rank(0.1, 1000), 1u);
}

// Percentiles against the exact nearest-rank values of the same data.
void check_percentiles(const std::vector<std::uint64_t>& data, unsigned bits) {
    Histogram h(config(bits));
    for (std::uint64_t v : data) {
        h.record(v);
    }
    std::vector<std::uint64_t> sorted = data;
    std::sort(sorted.begin(), sorted.end());
    ASSERT_EQ(h.count(), sorted.size());
    EXPECT_EQ(h.min(), sorted.front());
    EXPECT_EQ(h.max(), sorted.back());
    long double sum = 0;
    for (std::uint64_t v : sorted) {
        sum += static_cast<long double>(v);
    }
    EXPECT_NEAR(h.mean(), static_cast<double>(sum / sorted.size()), 1e-9 * h.mean());

    double bound = h.relative_error_bound();
    for (double p : {0.0, 0.1, 1.0, 10.0, 25.0, 33.3, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
        std::uint64_t exact = sorted[percentile_rank(p, sorted.size()) - 1];
        std::uint64_t got = h.percentile(p);
        EXPECT_GE(got, exact) << "p" << p << " bits " << bits;
        EXPECT_LE(static_cast<double>(got - exact), static_cast<double>(exact) * bound)
            << "p" << p << " bits " << bits << " exact " << exact << " got " << got;
    }
}

TEST(HistogramPercentiles, MatchExactPercentilesWithinTheBound) {
    std::mt19937_64 rng(20240607);
    constexpr int kSamples = 100'000;
    std::vector<std::vector<std::uint64_t>> distributions(4);
    std::uniform_int_distribution<std::uint64_t> uniform(0, 1'000'000);
    std::exponential_distribution<double> exponential(1.0 / 2000);
    std::lognormal_distribution<double> lognormal(8.0, 2.0);  // heavy tail
    std::bernoulli_distribution coin(0.97);
    std::normal_distribution<double> fast(80, 5), slow(50'000, 4'000);  // bimodal jitter
    for (int i = 0; i < kSamples; ++i) {
        distributions[0].push_back(uniform(rng));
        distributions[1].push_back(static_cast<std::uint64_t>(exponential(rng)));
        distributions[2].push_back(static_cast<std::uint64_t>(lognormal(rng)));
        double b = coin(rng) ? fast(rng) : slow(rng);
        distributions[3].push_back(static_cast<std::uint64_t>(std::max(0.0, b)));
    }
    for (std::size_t d = 0; d < distributions.size(); ++d) {
        for (unsigned bits : {2u, 7u, 12u}) {
            SCOPED_TRACE("distribution " + std::to_string(d));
            check_percentiles(distributions[d], bits);
        }
    }
}

TEST(HistogramPercentiles, ValuesAtBucketEdgesAndAcrossTheFullRange) {
    std::vector<std::uint64_t> data;
    for (unsigned e = 0; e < 64; ++e) {
        std::uint64_t p = std::uint64_t{1} << e;
        data.insert(data.end(), {p - 1, p, p + 1});
    }
    data.push_back(UINT64_MAX);
    check_percentiles(data, 1);
    check_percentiles(data, 5);
    check_percentiles(data, 16);
}

TEST(HistogramMerge, EqualsRecordingEverythingInOne) {
    std::mt19937_64 rng(7);
    std::lognormal_distribution<double> lognormal(6.0, 1.5);
    Histogram all(config(6, 10'000));
    Histogram first(config(6, 10'000));
    Histogram second(config(6, 10'000));
    for (int i = 0; i < 50'000; ++i) {
        auto v = static_cast<std::uint64_t>(lognormal(rng));
        all.record(v);
        (i % 3 == 0 ? first : second).record(v);
    }
    ASSERT_GT(all.overflow(), 0u);  // the merge must carry overflow too
    first.merge(second);
    EXPECT_EQ(to_json(first), to_json(all));

    Histogram empty(config(6, 10'000));
    empty.merge(all);
    EXPECT_EQ(to_json(empty), to_json(all));
}

TEST(HistogramMerge, RejectsADifferentConfigurationNamingBoth) {
    Histogram a(config(7, 1000));
    Histogram b(config(8, 1000));
    Histogram c(config(7, 2000));
    std::string e = error_of([&] { a.merge(b); });
    EXPECT_THAT(e, HasSubstr("precision_bits=8 highest_trackable=1000"));
    EXPECT_THAT(e, HasSubstr("precision_bits=7 highest_trackable=1000"));
    EXPECT_THAT(error_of([&] { a.merge(c); }), HasSubstr("highest_trackable=2000"));
}

TEST(Histogram, ResetEmptiesAndKeepsWorking) {
    Histogram h(config(5));
    h.record(10);
    h.record(1'000'000);
    h.reset();
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.min(), 0u);
    EXPECT_EQ(h.max(), 0u);
    EXPECT_EQ(h.mean(), 0.0);
    EXPECT_TRUE(h.buckets().empty());
    h.record(42);
    EXPECT_EQ(h.min(), 42u);
    EXPECT_EQ(h.max(), 42u);
    EXPECT_EQ(h.percentile(50), 42u);
}

TEST(Histogram, CopiesAreIndependentSnapshots) {
    Histogram h(config(5));
    h.record(100);
    Histogram copy = h;
    EXPECT_EQ(to_json(copy), to_json(h));
    copy.record(5000);
    EXPECT_EQ(h.count(), 1u);
    EXPECT_EQ(copy.count(), 2u);

    Histogram other(config(9, 77));
    other = h;  // takes h's configuration too
    EXPECT_EQ(other.config(), h.config());
    EXPECT_EQ(to_json(other), to_json(h));

    Histogram moved = std::move(copy);
    EXPECT_EQ(moved.count(), 2u);
}

TEST(Histogram, RecordAllocatesNothing) {
    Histogram h(config(7, 1'000'000));
    std::mt19937_64 rng(3);
    std::vector<std::uint64_t> values(100'000);
    for (auto& v : values) {
        v = rng() % 2'000'000;  // half of them overflow
    }
    {
        qc::test::AllocationCounter counter;
        for (std::uint64_t v : values) {
            h.record(v);
            h.record(v, 3);
        }
        EXPECT_EQ(counter.allocations(), 0u);
    }
    EXPECT_EQ(h.count(), 400'000u);
}

TEST(HistogramJson, HasTheStableFieldsAndValues) {
    Histogram h(config(4, 100'000));
    for (std::uint64_t v = 1; v <= 1000; ++v) {
        h.record(v);
    }
    h.record(200'000);
    nlohmann::json j = to_json(h, {50, 99.9, 100});

    EXPECT_EQ(j["configuration"]["precision_bits"], 4);
    EXPECT_EQ(j["configuration"]["highest_trackable"], 100'000);
    EXPECT_EQ(j["configuration"]["relative_error_bound"], 1.0 / 16);
    EXPECT_EQ(j["configuration"]["bucket_count"], h.bucket_count());
    EXPECT_EQ(j["count"], 1001);
    EXPECT_EQ(j["overflow"], 1);
    EXPECT_EQ(j["min"], 1);
    EXPECT_EQ(j["max"], 200'000);
    EXPECT_DOUBLE_EQ(j["mean"].get<double>(), h.mean());

    ASSERT_EQ(j["percentiles"].size(), 3u);
    EXPECT_EQ(j["percentiles"][0]["p"], 50.0);
    EXPECT_EQ(j["percentiles"][0]["value"], h.percentile(50));
    EXPECT_EQ(j["percentiles"][1]["p"], 99.9);
    EXPECT_EQ(j["percentiles"][1]["value"], h.percentile(99.9));
    EXPECT_EQ(j["percentiles"][2]["value"], 200'000);

    auto buckets = h.buckets();
    ASSERT_EQ(j["buckets"].size(), buckets.size());
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
        EXPECT_EQ(j["buckets"][i]["lower"], buckets[i].lower);
        EXPECT_EQ(j["buckets"][i]["upper"], buckets[i].upper);
        EXPECT_EQ(j["buckets"][i]["count"], buckets[i].count);
        total += buckets[i].count;
    }
    EXPECT_EQ(total, 1000u);  // the overflowed value is in no bucket

    EXPECT_THAT(error_of([&] { to_json(h, {50, 120}); }), HasSubstr("percentile 120"));
}

// One writer, one reader polling as a housekeeping thread would.
TEST(HistogramConcurrency, ReaderSeesConsistentFieldsWhileWriterRecords) {
    constexpr std::uint64_t kRecords = 2'000'000;
    constexpr std::uint64_t kDistinct = 5000;
    Histogram h(config(7));
    std::atomic<bool> done{false};

    std::thread writer([&] {
        for (std::uint64_t i = 0; i < kRecords; ++i) {
            h.record(i % kDistinct);
        }
        done.store(true, std::memory_order_release);
    });

    std::uint64_t reads = 0, last_count = 0, bad = 0;
    while (!done.load(std::memory_order_acquire) || reads == 0) {
        std::uint64_t n = h.count();
        bad += n < last_count ? 1 : 0;  // count never goes backwards
        last_count = n;
        bad += h.max() >= kDistinct ? 1 : 0;
        bad += n > 0 && h.min() >= kDistinct ? 1 : 0;  // min stored before the count
        bad += n > 0 && h.percentile(50) >= kDistinct ? 1 : 0;
        std::uint64_t in_buckets = 0;
        h.for_each_bucket([&](const HistogramBucket& b) {
            in_buckets += b.count;
            bad += b.lower >= kDistinct ? 1 : 0;
        });
        bad += in_buckets > kRecords ? 1 : 0;
        ++reads;
    }
    writer.join();

    EXPECT_EQ(bad, 0u) << "after " << reads << " reads";
    EXPECT_EQ(h.count(), kRecords);
    EXPECT_EQ(h.min(), 0u);
    EXPECT_EQ(h.max(), kDistinct - 1);
    std::uint64_t in_buckets = 0;
    h.for_each_bucket([&](const HistogramBucket& b) { in_buckets += b.count; });
    EXPECT_EQ(in_buckets, kRecords);
    EXPECT_DOUBLE_EQ(h.mean(), (kDistinct - 1) / 2.0);
}

}  // namespace
}  // namespace qc::core
