// What watch and serve share at run time: pinning the monitor to the
// housekeeping CPUs, the stop signals, and the sleep between samples.
#pragma once

#include <chrono>
#include <csignal>
#include <optional>
#include <ostream>
#include <string>

#include "check/check_context.hpp"
#include "check/system_root.hpp"
#include "quietcore/core/cpu_set.hpp"

namespace qc::monitor {

// Pins the calling thread to the live system's online CPUs
// (/sys/devices/system/cpu/online) minus `isolated`, whatever root the
// counters are read from. Call it before any other thread exists: threads
// started later (civetweb's) inherit the mask, so nothing of the monitor
// runs on an isolated CPU. Returns the CPUs; throws core::Error when no CPU
// is left or the kernel refuses (a cpuset that excludes them all).
core::CpuSet pin_to_housekeeping(const core::CpuSet& isolated);

// The calling thread's allowed CPUs.
core::CpuSet current_affinity();

// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread it
// starts afterwards (create it before them), so they arrive only through
// wait_until(). The destructor takes any that are still pending and restores
// the old mask.
class StopSignals {
  public:
    StopSignals();
    ~StopSignals();
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

    // Sleeps (no polling) until `deadline` or a stop signal; true when one came.
    bool wait_until(std::chrono::steady_clock::time_point deadline);
    // The stop signal received, 0 when none.
    int received() const noexcept { return received_; }

  private:
    sigset_t old_mask_{};
    sigset_t stop_set_{};
    int received_ = 0;
};

// The CPUs a watch / serve run looks at and where it runs.
struct MonitorCpus {
    CheckContext ctx;  // isolated, isolated_known, isolated_source, online, ...
    core::CpuSet pinned;
};

// Checks --root, derives the isolated CPUs like `check` does (--isolated,
// else /sys/devices/system/cpu/isolated and nohz_full under the root), and
// pins to the housekeeping CPUs. On failure writes "qc-monitor <command>:
// <reason>" to `err` and returns nullopt (the caller exits
// kExitCouldNotRun). With require_isolated, no isolated CPU is a failure
// with a hint to pass --isolated. `sys` must outlive the result.
std::optional<MonitorCpus> prepare_monitor(std::string_view command, const SystemRoot& sys,
                                           const std::optional<std::string>& isolated,
                                           bool require_isolated, std::ostream& err);

}  // namespace qc::monitor
