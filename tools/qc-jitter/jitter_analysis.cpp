#include "jitter_analysis.hpp"

#include <algorithm>

#include "quietcore/core/error.hpp"

namespace qc::jitter {

namespace {
JitterConfig checked(const JitterConfig& config) {
    if (config.bucket_width_ns == 0) {
        throw core::Error("--bucket-width: must be at least 1 ns, got 0");
    }
    if (config.bucket_count == 0) {
        throw core::Error("--bucket-count: must be at least 1, got 0");
    }
    return config;
}
}  // namespace

JitterAnalysis::JitterAnalysis(const JitterConfig& config, core::CycleConverter converter)
    : config_(checked(config)),
      converter_(converter),
      histogram_(core::HistogramConfig{}),
      counts_(config.bucket_count, 0),
      records_(config.max_records) {}

void JitterAnalysis::reset() noexcept {
    histogram_.reset();
    std::fill(counts_.begin(), counts_.end(), 0);
    overflow_ = 0;
    cached_index_ = 0;
    cached_lower_ = 0;
    record_count_ = 0;
    interruptions_ = 0;
    gap_sum_ns_ = 0;
    elapsed_ticks_ = 0;
}

void JitterAnalysis::record_gap(std::uint64_t ns) noexcept {
    ++interruptions_;
    gap_sum_ns_ += ns;
    if (record_count_ < records_.size()) {
        // The gap began at the previous read; keep ticks, convert later
        // (a sum of truncated ns would drift).
        records_[record_count_++] = GapRecord{elapsed_ticks_, ns};
    }
}

JitterSummary JitterAnalysis::summarize() const {
    JitterSummary s;
    s.loops = histogram_.count();
    s.elapsed_ns = converter_.to_ns(elapsed_ticks_);
    s.loop_cost_ns = histogram_.min();
    s.min_ns = histogram_.min();
    s.mean_ns = histogram_.mean();
    s.p50_ns = histogram_.percentile(50);
    s.p99_ns = histogram_.percentile(99);
    s.p999_ns = histogram_.percentile(99.9);
    s.p9999_ns = histogram_.percentile(99.99);
    s.max_ns = histogram_.max();
    s.interruptions = interruptions_;
    s.stolen_ns = gap_sum_ns_ - interruptions_ * s.loop_cost_ns;
    if (s.elapsed_ns > 0) {
        s.interruptions_per_s =
            static_cast<double>(interruptions_) * 1e9 / static_cast<double>(s.elapsed_ns);
        s.stolen_pct = 100.0 * static_cast<double>(s.stolen_ns) / static_cast<double>(s.elapsed_ns);
    }
    s.records.reserve(record_count_);
    for (std::size_t i = 0; i < record_count_; ++i) {
        s.records.push_back(
            GapRecord{converter_.to_ns(records_[i].start_ns), records_[i].length_ns});
    }
    s.records_dropped = interruptions_ - record_count_;
    s.bucket_width_ns = config_.bucket_width_ns;
    s.counts = counts_;
    s.overflow = overflow_;
    return s;
}

}  // namespace qc::jitter
