// The Prometheus metrics of `qc-monitor serve` (prometheus-cpp registry,
// text exposition format). Counters mirror the kernel's counters: a series
// starts at the kernel's value when first seen and grows by each interval's
// delta (a kernel counter that went back is counted from its new start, so
// the series never falls). The per-CPU context switches start at 0 when they
// come from the threads' counts (no kernel total to mirror).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "check/check_runner.hpp"
#include "quietcore/core/cpu_set.hpp"
#include "watch/cpu_counters.hpp"
#include "watch/interval_report.hpp"

namespace qc::monitor {

// Every metric and label name the exporter uses (tested against
// prometheus-cpp's CheckMetricName / CheckLabelName).
inline constexpr std::string_view kMetricNames[] = {
    "quietcore_cpu_interrupts_total",
    "quietcore_cpu_softirqs_total",
    "quietcore_cpu_context_switches_total",
    "quietcore_cpu_isolated",
    "quietcore_isolation_breaks_total",
    "quietcore_thread_isolation_breaks_total",
    "quietcore_thread_isolated",
    "quietcore_monitor_samples_total",
    "quietcore_monitor_last_sample_timestamp_seconds",
    "quietcore_monitor_start_time_seconds",
    "quietcore_monitor_notices_total",
    "quietcore_monitor_info",
    "quietcore_health_check_status",
    "quietcore_health_checks_last_run_timestamp_seconds",
};
inline constexpr std::string_view kLabelNames[] = {
    "cpu",
    "kind",
    "description",
    "source",
    "pid",
    "tid",
    "comm",
    "cause",
    "check",
    "status",
    "context_switch_source",
    "kernel_task_isolation",
    "isolated_cpus",
    "housekeeping_cpus",
};

class MetricsExporter {
  public:
    // `online` and `isolated` give quietcore_cpu_isolated; `pinned` and the
    // context switch source go into quietcore_monitor_info.
    MetricsExporter(const core::CpuSet& online, const core::CpuSet& isolated,
                    const core::CpuSet& pinned, double start_wall_seconds);

    // A snapshot, and the interval that ended with it (nullptr for the first).
    void observe(const CounterSnapshot& snap, const IntervalReport* report);
    // The verdicts of a health check run.
    void observe_health(const CheckRun& run, double wall_seconds);

    // The text exposition format of every metric.
    std::string serialize() const;
    const std::shared_ptr<prometheus::Registry>& registry() const noexcept { return registry_; }

  private:
    struct Mirrored {
        prometheus::Counter* counter = nullptr;
        std::string description;
        std::uint64_t last = 0;
    };
    struct ThreadSeries {
        prometheus::Gauge* isolated = nullptr;
        std::map<std::string, prometheus::Counter*> breaks;  // by cause
        std::map<std::string, std::uint64_t> last;           // by cause
        std::map<std::string, std::string> labels;
    };

    void mirror_table(const isolation::InterruptTable& table, bool softirqs);
    void mirror_threads(const CounterSnapshot& snap);
    void set_info(const CounterSnapshot& snap);

    std::shared_ptr<prometheus::Registry> registry_;
    prometheus::Family<prometheus::Counter>& interrupts_;
    prometheus::Family<prometheus::Counter>& softirqs_;
    prometheus::Family<prometheus::Counter>& switches_;
    prometheus::Family<prometheus::Gauge>& cpu_isolated_;
    prometheus::Family<prometheus::Counter>& breaks_;
    prometheus::Family<prometheus::Counter>& thread_breaks_;
    prometheus::Family<prometheus::Gauge>& thread_isolated_;
    prometheus::Counter& samples_;
    prometheus::Gauge& last_sample_;
    prometheus::Counter& notices_;
    prometheus::Family<prometheus::Gauge>& info_;
    prometheus::Family<prometheus::Gauge>& health_;
    prometheus::Gauge& health_last_run_;

    core::CpuSet isolated_;
    core::CpuSet pinned_;
    prometheus::Gauge* info_series_ = nullptr;
    // (softirqs?, cpu, row name) -> series.
    std::map<std::tuple<bool, unsigned, std::string>, Mirrored> mirrored_;
    std::map<unsigned, Mirrored> schedstat_;
    std::map<unsigned, prometheus::Counter*> thread_switches_;
    std::map<std::tuple<unsigned, std::string, std::string>, prometheus::Counter*> break_series_;
    std::map<int, ThreadSeries> threads_;  // by tid
};

}  // namespace qc::monitor
