// A log-linear histogram of uint64 values (cycles or nanoseconds) in memory
// fixed at construction, written by one isolated worker and read by
// housekeeping (DESIGN.md "Measuring").
//
// Layout (HdrHistogram's idea): with P = precision_bits, values below 2^(P+1)
// each have a bucket of their own; above that, every power-of-two range
// [2^e, 2^(e+1)) is cut into 2^P equal buckets of width 2^(e-P).
//
// Error bound: a bucket's width is at most 2^-P times any value in it, and
// values below 2^(P+1) are exact. percentile() reports the upper end of the
// bucket holding the value of that rank, clipped to [min(), max()], so for a
// true value v the result r satisfies v <= r <= v + v * 2^-P. min() and max()
// are exact. Values above highest_trackable are counted in overflow() and
// still update min, max and mean; a percentile whose rank falls among them is
// reported as max().
//
// Threads: record(), reset() and merge() (into this histogram) are for one
// writer at a time. Every field is a lock-free atomic that the writer updates
// with a load and a store (no lock prefix, no RMW), so a reader on another
// thread sees each field whole, never torn. The total is stored last, with
// release, and read with acquire: whatever count() a reader sees, the
// buckets, min, max and sum it reads next hold at least those records (they
// may hold a few more, in flight). Without that order arm64 let count() run
// ahead of min(), which then read as UINT64_MAX.
#pragma once

#include <atomic>
#include <bit>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace qc::core {

struct HistogramConfig {
    unsigned precision_bits = 7;                   // 1 .. 16; bound 2^-7 < 0.8%
    std::uint64_t highest_trackable = UINT64_MAX;  // >= 1

    friend bool operator==(const HistogramConfig&, const HistogramConfig&) = default;
    std::string to_string() const;  // "precision_bits=7 highest_trackable=1000"
};

struct HistogramBucket {
    std::uint64_t lower;  // smallest value counted here
    std::uint64_t upper;  // largest value counted here (inclusive)
    std::uint64_t count;
};

class Histogram {
  public:
    // The one allocation, zero-filled (so its pages are touched here). Throws
    // Error naming the bad field for precision_bits outside 1 .. 16 or a
    // highest_trackable of 0.
    explicit Histogram(HistogramConfig config = {});
    Histogram(const Histogram& other);  // a snapshot: allocates
    Histogram& operator=(const Histogram& other);
    // A moved-from histogram may only be destroyed or assigned to.
    Histogram(Histogram&&) noexcept = default;
    Histogram& operator=(Histogram&&) noexcept = default;
    ~Histogram() = default;

    // Wait-free, allocation-free, no syscall: safe on an isolated CPU.
    void record(std::uint64_t value) noexcept { record(value, 1); }
    void record(std::uint64_t value, std::uint64_t count) noexcept {
        if (count == 0) {
            return;
        }
        if (value <= config_.highest_trackable) {
            add(bucket(bucket_index(value)), count);
        } else {
            add(stat(kOverflow), count);
        }
        if (value < load(stat(kMin))) {
            stat(kMin).store(value, std::memory_order_relaxed);
        }
        if (value > load(stat(kMax))) {
            stat(kMax).store(value, std::memory_order_relaxed);
        }
        // 128-bit running sum, so the mean stays exact for any input.
        u128 sum = (u128{load(stat(kSumHigh))} << 64) | load(stat(kSumLow));
        sum += u128{value} * count;
        stat(kSumLow).store(static_cast<std::uint64_t>(sum), std::memory_order_relaxed);
        stat(kSumHigh).store(static_cast<std::uint64_t>(sum >> 64), std::memory_order_relaxed);
        // Last: publishes the fields above (a plain store on x86, stlr on arm64).
        stat(kTotal).store(load(stat(kTotal)) + count, std::memory_order_release);
    }

    // Adds every count of `other` (same configuration, else Error naming
    // both). `other` may be written concurrently by its own writer.
    void merge(const Histogram& other);
    // Back to empty; keeps the memory.
    void reset() noexcept;

    const HistogramConfig& config() const noexcept { return config_; }
    std::size_t bucket_count() const noexcept { return bucket_count_; }
    // 2^-precision_bits: see the error bound above.
    double relative_error_bound() const noexcept;

    // Including overflow. Acquire: pairs with record()'s last store.
    std::uint64_t count() const noexcept { return stat(kTotal).load(std::memory_order_acquire); }
    std::uint64_t overflow() const noexcept { return load(stat(kOverflow)); }
    // Exact; 0 when empty.
    std::uint64_t min() const noexcept;
    std::uint64_t max() const noexcept { return load(stat(kMax)); }
    double mean() const noexcept;  // 0 when empty

    // Nearest rank: the value at rank percentile_rank(p, count()) in sorted
    // order, within the bound above; min() for p = 0, max() for 100, 0 when
    // empty. Throws Error naming p unless 0 <= p <= 100.
    std::uint64_t percentile(double p) const;

    // Non-empty buckets in increasing order (the overflow count is not a
    // bucket). The visitor form allocates nothing.
    template <typename F>
    void for_each_bucket(F&& visit) const {
        for (std::size_t i = 0; i < bucket_count_; ++i) {
            std::uint64_t c = load(bucket(i));
            if (c != 0) {
                visit(HistogramBucket{bucket_lower(i), bucket_upper(i), c});
            }
        }
    }
    std::vector<HistogramBucket> buckets() const;

    // The bucket a value falls in, and that bucket's bounds; public so the
    // layout can be tested and documented by example.
    std::size_t bucket_index(std::uint64_t value) const noexcept {
        // Shift = how many low bits the bucket ignores; 0 below 2^(P+1).
        unsigned shift = static_cast<unsigned>(std::bit_width(value >> (precision_bits() + 1)));
        return (std::size_t{shift} << precision_bits()) + (value >> shift);
    }
    std::uint64_t bucket_lower(std::size_t index) const noexcept;
    std::uint64_t bucket_upper(std::size_t index) const noexcept;

  private:
    __extension__ typedef unsigned __int128 u128;
    using Counter = std::atomic<std::uint64_t>;
    static_assert(Counter::is_always_lock_free);

    static std::uint64_t load(const Counter& c) noexcept {
        return c.load(std::memory_order_relaxed);
    }
    // Single writer: a plain load and store, not a locked read-modify-write.
    static void add(Counter& c, std::uint64_t n) noexcept {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    unsigned precision_bits() const noexcept { return config_.precision_bits; }

    // The summary counters share the one allocation with the buckets, ahead
    // of them.
    enum Stat : std::size_t { kTotal, kOverflow, kMin, kMax, kSumLow, kSumHigh, kStatSlots };
    Counter& stat(Stat s) noexcept { return slots_[s]; }
    const Counter& stat(Stat s) const noexcept { return slots_[s]; }
    Counter& bucket(std::size_t i) noexcept { return slots_[kStatSlots + i]; }
    const Counter& bucket(std::size_t i) const noexcept { return slots_[kStatSlots + i]; }

    HistogramConfig config_;
    std::size_t bucket_count_ = 0;
    std::unique_ptr<Counter[]> slots_;
};

// The nearest rank (1-based) of percentile p among `count` sorted values:
// ceil(p/100 * count), at least 1, forgiving the rounding of a decimal p (so
// 99.9 of 1000 is rank 999, not 1000). 0 when count is 0. Throws Error naming
// p unless 0 <= p <= 100.
std::uint64_t percentile_rank(double p, std::uint64_t count);

// Stable field names:
// {"configuration": {"precision_bits", "highest_trackable", "relative_error_bound",
//                    "bucket_count"},
//  "count", "overflow", "min", "max", "mean",
//  "percentiles": [{"p": 50.0, "value": ...}, ...],
//  "buckets": [{"lower", "upper", "count"}, ...]}
// Housekeeping only. Throws Error for a bad entry in `percentiles`.
nlohmann::json to_json(const Histogram& histogram,
                       const std::vector<double>& percentiles = {50, 90, 99, 99.9, 99.99, 100});

}  // namespace qc::core
