// The measurement: one pinned thread per CPU runs the gap loop (only the
// cycle counter and pre-allocated memory) between a common start and end
// cycle; the main thread, on the housekeeping CPU, sleeps meanwhile and takes
// the /proc snapshots around the run.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "jitter_analysis.hpp"
#include "jitter_options.hpp"
#include "quietcore/core/cycle_counter.hpp"

namespace qc::jitter {

struct CpuAttribution {
    std::map<std::string, std::uint64_t> interrupts;  // non-zero deltas only
    std::map<std::string, std::uint64_t> softirqs;
    std::uint64_t involuntary_ctxt_switches = 0;
    // With --isolate: kernel entries seen while isolated, by cause name.
    std::optional<std::map<std::string, std::uint64_t>> isolation_breaks;
};

struct CpuResult {
    unsigned cpu = 0;
    JitterSummary summary;
    CpuAttribution attribution;
};

struct RunResult {
    core::CycleCalibration calibration;
    std::uint64_t start_monotonic_ns = 0;  // CLOCK_MONOTONIC at the run's start cycle
    std::string isolation_backend;         // --isolate: "kernel" or "soft"; else empty
    std::vector<CpuResult> cpus;
};

// Thrown when the warm-up shows --threshold below a CPU's loop cost.
struct ThresholdBelowLoopCost {
    std::string message;
};

// Throws ThresholdBelowLoopCost, core::Error or std::system_error.
RunResult run_jitter(const Options& options);

}  // namespace qc::jitter
