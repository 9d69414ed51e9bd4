// The /status document of `qc-monitor serve`: what is watched, the last
// interval (as `watch --json` prints it), the recent breaks, the health
// checks' verdicts and the uptime.
#pragma once

#include <cstddef>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "check/check_runner.hpp"
#include "quietcore/core/cpu_set.hpp"
#include "watch/interval_report.hpp"

namespace qc::monitor {

struct StatusSetup {
    core::CpuSet isolated;
    std::string isolated_source;
    core::CpuSet online;
    core::CpuSet running_on;  // the CPUs the monitor is pinned to
    double interval_seconds = 1;
    double start_wall_seconds = 0;
    double start_monotonic_seconds = 0;
};

class MonitorStatus {
  public:
    static constexpr std::size_t kRecentBreaks = 100;

    explicit MonitorStatus(StatusSetup setup) : setup_(std::move(setup)) {}

    void observe_sample(SwitchSource source, bool kernel_task_isolation);
    void observe(const IntervalReport& report);
    void observe_health(const CheckRun& run, double wall_seconds);

    // {"isolated", "isolated_source", "online", "running_on", "interval_seconds",
    //  "started", "uptime_seconds", "samples", "context_switch_source",
    //  "kernel_task_isolation", "breaks_total", "recent_breaks": [...] (newest
    //  last, at most kRecentBreaks), "last_interval": {...} | null,
    //  "health": {"last_run", "counts": {"ok", "warn", "fail", "skip"},
    //             "checks": [{"id", "status", "summary"}]} | null}
    nlohmann::json to_json(double now_monotonic_seconds) const;

  private:
    StatusSetup setup_;
    std::uint64_t samples_ = 0;
    std::uint64_t breaks_total_ = 0;
    SwitchSource switch_source_ = SwitchSource::threads;
    bool kernel_task_isolation_ = false;
    std::deque<nlohmann::json> recent_breaks_;
    nlohmann::json last_interval_ = nullptr;
    nlohmann::json health_ = nullptr;
};

}  // namespace qc::monitor
