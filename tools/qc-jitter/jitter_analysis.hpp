// The pure half of qc-jitter: what one measuring loop learns from its
// successive cycle-counter deltas. feed() runs on the measured CPU, so it
// makes no syscall and allocates nothing; every buffer is allocated (and
// zero-filled, so touched) by the constructor. summarize() is housekeeping.
//
// Per delta (converted to ns): the log-linear core histogram (percentiles,
// within its 2^-precision_bits bound), an oslat-style linear histogram of
// bucket_count buckets of bucket_width_ns plus an overflow count, and, for a
// gap >= threshold_ns, a record {start, length} in a bounded array (further
// gaps are counted as dropped). The loop's own cost is the minimum delta;
// time stolen = sum over gaps >= threshold of (gap - loop cost).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "quietcore/core/cycle_counter.hpp"
#include "quietcore/core/histogram.hpp"

namespace qc::jitter {

struct JitterConfig {
    std::uint64_t bucket_width_ns = 1000;
    std::size_t bucket_count = 64;
    std::uint64_t threshold_ns = 20000;
    std::size_t max_records = 1000;
};

struct GapRecord {
    std::uint64_t start_ns = 0;  // since the first delta's start
    std::uint64_t length_ns = 0;
    friend bool operator==(const GapRecord&, const GapRecord&) = default;
};

struct JitterSummary {
    std::uint64_t loops = 0;  // deltas fed
    std::uint64_t elapsed_ns = 0;
    std::uint64_t loop_cost_ns = 0;  // the minimum delta
    std::uint64_t min_ns = 0;
    double mean_ns = 0;
    std::uint64_t p50_ns = 0, p99_ns = 0, p999_ns = 0, p9999_ns = 0;
    std::uint64_t max_ns = 0;
    std::uint64_t interruptions = 0;  // gaps >= threshold
    double interruptions_per_s = 0;   // over elapsed_ns
    std::uint64_t stolen_ns = 0;
    double stolen_pct = 0;  // of elapsed_ns
    std::vector<GapRecord> records;
    std::uint64_t records_dropped = 0;
    std::uint64_t bucket_width_ns = 0;
    std::vector<std::uint64_t> counts;  // bucket i = [i*w, (i+1)*w)
    std::uint64_t overflow = 0;
};

class JitterAnalysis {
  public:
    // Throws core::Error naming the field for a bucket width or count of 0.
    JitterAnalysis(const JitterConfig& config, core::CycleConverter converter);

    void feed(std::uint64_t delta_ticks) noexcept {
        const std::uint64_t ns = converter_.to_ns(delta_ticks);
        histogram_.record(ns);
        record_linear(ns);
        if (ns >= config_.threshold_ns) [[unlikely]] {
            record_gap(ns);
        }
        elapsed_ticks_ += delta_ticks;
    }

    // Back to empty, keeping the memory (after a warm-up run).
    void reset() noexcept;

    std::uint64_t loops() const noexcept { return histogram_.count(); }
    std::uint64_t min_ns() const noexcept { return histogram_.min(); }
    const JitterConfig& config() const noexcept { return config_; }

    JitterSummary summarize() const;

  private:
    void record_linear(std::uint64_t ns) noexcept {
        // Most deltas repeat the previous bucket: skip the division then.
        if (ns - cached_lower_ < config_.bucket_width_ns) [[likely]] {
            ++counts_[cached_index_];
            return;
        }
        const std::uint64_t index = ns / config_.bucket_width_ns;
        if (index >= config_.bucket_count) {
            ++overflow_;
            return;
        }
        cached_index_ = static_cast<std::size_t>(index);
        cached_lower_ = index * config_.bucket_width_ns;
        ++counts_[cached_index_];
    }
    void record_gap(std::uint64_t ns) noexcept;

    JitterConfig config_;
    core::CycleConverter converter_;
    core::Histogram histogram_;
    std::vector<std::uint64_t> counts_;
    std::uint64_t overflow_ = 0;
    std::size_t cached_index_ = 0;
    std::uint64_t cached_lower_ = 0;
    std::vector<GapRecord> records_;  // capacity max_records, start in ticks until summarize
    std::size_t record_count_ = 0;
    std::uint64_t interruptions_ = 0;
    std::uint64_t gap_sum_ns_ = 0;
    std::uint64_t elapsed_ticks_ = 0;
};

}  // namespace qc::jitter
