#include "watch/metrics_exporter.hpp"

#include <prometheus/text_serializer.h>

#include "quietcore/isolation/break_record.hpp"

namespace qc::monitor {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

std::string cpu_label(int cpu) {
    return cpu < 0 ? std::string("unknown") : std::to_string(cpu);
}

}  // namespace

MetricsExporter::MetricsExporter(const core::CpuSet& online, const core::CpuSet& isolated,
                                 const core::CpuSet& pinned, double start_wall_seconds)
    : registry_(std::make_shared<prometheus::Registry>()),
      interrupts_(BuildCounter()
                      .Name("quietcore_cpu_interrupts_total")
                      .Help("Interrupts taken by each CPU, by /proc/interrupts row (kind: LOC, "
                            "RES, CAL, a device IRQ number, ...); mirrors the kernel's count")
                      .Register(*registry_)),
      softirqs_(BuildCounter()
                    .Name("quietcore_cpu_softirqs_total")
                    .Help("Softirqs run on each CPU, by kind (/proc/softirqs); mirrors the "
                          "kernel's count")
                    .Register(*registry_)),
      switches_(BuildCounter()
                    .Name("quietcore_cpu_context_switches_total")
                    .Help("Context switches on each CPU: schedule() calls from /proc/schedstat, "
                          "or without it (CONFIG_SCHEDSTATS off) an approximation adding each "
                          "thread's switches to the CPU it last ran on, counted from the "
                          "monitor's start; see quietcore_monitor_info")
                    .Register(*registry_)),
      cpu_isolated_(BuildGauge()
                        .Name("quietcore_cpu_isolated")
                        .Help("1 for the online CPUs the monitor treats as isolated, 0 for the "
                              "housekeeping ones")
                        .Register(*registry_)),
      breaks_(BuildCounter()
                  .Name("quietcore_isolation_breaks_total")
                  .Help("Breaks of isolation flagged on each isolated CPU: one per interval "
                        "and kind whose interrupts or softirqs exceeded what a tick-free CPU "
                        "gets (source interrupt/softirq), one per break the kernel reported "
                        "for a thread there (source kernel, kind = cause)")
                  .Register(*registry_)),
      thread_breaks_(BuildCounter()
                         .Name("quietcore_thread_isolation_breaks_total")
                         .Help("Breaks of a thread's task isolation by cause, from "
                               "/proc/<pid>/task/<tid>/task_isolation of the quietcore kernel "
                               "patch; mirrors the kernel's count")
                         .Register(*registry_)),
      thread_isolated_(BuildGauge()
                           .Name("quietcore_thread_isolated")
                           .Help("1 while the kernel reports the thread isolated (task "
                                 "isolation of the quietcore kernel patch), else 0")
                           .Register(*registry_)),
      samples_(BuildCounter()
                   .Name("quietcore_monitor_samples_total")
                   .Help("Samples of the counters taken by the monitor")
                   .Register(*registry_)
                   .Add({})),
      last_sample_(BuildGauge()
                       .Name("quietcore_monitor_last_sample_timestamp_seconds")
                       .Help("Unix time of the monitor's last sample")
                       .Register(*registry_)
                       .Add({})),
      notices_(BuildCounter()
                   .Name("quietcore_monitor_notices_total")
                   .Help("Counters that went back (wrap or reset) and CPUs or rows that came "
                         "or went between samples")
                   .Register(*registry_)
                   .Add({})),
      info_(BuildGauge()
                .Name("quietcore_monitor_info")
                .Help("Always 1: the monitor's configuration in labels")
                .Register(*registry_)),
      health_(BuildGauge()
                  .Name("quietcore_health_check_status")
                  .Help("1 for the status the health check had at its last run "
                        "(ok, warn, fail, skip), 0 for the others")
                  .Register(*registry_)),
      health_last_run_(BuildGauge()
                           .Name("quietcore_health_checks_last_run_timestamp_seconds")
                           .Help("Unix time the health checks last ran; 0 before the first run")
                           .Register(*registry_)
                           .Add({})),
      isolated_(isolated),
      pinned_(pinned) {
    for (unsigned cpu : online.cpus()) {
        cpu_isolated_.Add({{"cpu", std::to_string(cpu)}}).Set(isolated.contains(cpu) ? 1 : 0);
    }
    BuildGauge()
        .Name("quietcore_monitor_start_time_seconds")
        .Help("Unix time the monitor started")
        .Register(*registry_)
        .Add({})
        .Set(start_wall_seconds);
}

void MetricsExporter::mirror_table(const isolation::InterruptTable& table, bool softirqs) {
    for (const auto& row : table.rows) {
        if (row.counts.size() != table.cpus.size()) {
            continue;
        }
        const std::string description = softirqs ? std::string() : row.description;
        for (std::size_t col = 0; col < table.cpus.size(); ++col) {
            const unsigned cpu = table.cpus[col];
            const std::uint64_t now = row.counts[col];
            auto [it, fresh] = mirrored_.try_emplace({softirqs, cpu, row.name});
            Mirrored& m = it->second;
            if (!fresh && m.description != description) {
                // The IRQ number now belongs to another device: a new series.
                (softirqs ? softirqs_ : interrupts_).Remove(m.counter);
                fresh = true;
            }
            if (fresh) {
                std::map<std::string, std::string> labels{{"cpu", std::to_string(cpu)},
                                                          {"kind", row.name}};
                if (!softirqs) {
                    labels.emplace("description", description);
                }
                m.counter = &(softirqs ? softirqs_ : interrupts_).Add(labels);
                m.counter->Increment(static_cast<double>(now));
                m.description = description;
            } else {
                m.counter->Increment(static_cast<double>(counter_delta(m.last, now).count));
            }
            m.last = now;
        }
    }
}

void MetricsExporter::mirror_threads(const CounterSnapshot& snap) {
    // Series of threads that are gone, or no longer of interest, go.
    for (auto it = threads_.begin(); it != threads_.end();) {
        const auto t = snap.threads.find(it->first);
        if (t == snap.threads.end() || !t->second.task_isolation) {
            thread_isolated_.Remove(it->second.isolated);
            for (auto& [cause, counter] : it->second.breaks) {
                thread_breaks_.Remove(counter);
            }
            it = threads_.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto& [tid, t] : snap.threads) {
        if (!t.task_isolation) {
            continue;
        }
        const auto& st = *t.task_isolation;
        auto it = threads_.find(tid);
        if (it == threads_.end()) {
            if (!st.isolated && st.breaks == 0) {
                continue;  // never isolated: not exported
            }
            ThreadSeries s;
            s.labels = {
                {"pid", std::to_string(t.pid)}, {"tid", std::to_string(t.tid)}, {"comm", t.comm}};
            s.isolated = &thread_isolated_.Add(s.labels);
            it = threads_.emplace(tid, std::move(s)).first;
        }
        ThreadSeries& s = it->second;
        s.isolated->Set(st.isolated ? 1 : 0);
        for (std::size_t i = 1; i < isolation::kBreakCauseCount; ++i) {
            const auto cause = static_cast<isolation::BreakCause>(i);
            if (cause == isolation::BreakCause::unknown) {
                continue;  // the file has no counter for it
            }
            const std::string name(isolation::to_string(cause));
            const std::uint64_t now = st.breaks_of(cause);
            auto counter = s.breaks.find(name);
            if (counter == s.breaks.end()) {
                auto labels = s.labels;
                labels.emplace("cause", name);
                counter = s.breaks.emplace(name, &thread_breaks_.Add(labels)).first;
                counter->second->Increment(static_cast<double>(now));
            } else {
                counter->second->Increment(
                    static_cast<double>(counter_delta(s.last[name], now).count));
            }
            s.last[name] = now;
        }
    }
}

void MetricsExporter::set_info(const CounterSnapshot& snap) {
    if (info_series_ != nullptr) {
        info_.Remove(info_series_);
    }
    info_series_ =
        &info_.Add({{"context_switch_source", std::string(to_string(snap.switch_source))},
                    {"kernel_task_isolation", snap.kernel_task_isolation ? "1" : "0"},
                    {"isolated_cpus", isolated_.to_list()},
                    {"housekeeping_cpus", pinned_.to_list()}});
    info_series_->Set(1);
}

void MetricsExporter::observe(const CounterSnapshot& snap, const IntervalReport* report) {
    mirror_table(snap.interrupts, false);
    mirror_table(snap.softirqs, true);
    if (snap.switch_source == SwitchSource::schedstat) {
        for (const auto& [cpu, count] : snap.schedstat_switches) {
            auto [it, fresh] = schedstat_.try_emplace(cpu);
            if (fresh) {
                it->second.counter = &switches_.Add({{"cpu", std::to_string(cpu)}});
                it->second.counter->Increment(static_cast<double>(count));
            } else {
                it->second.counter->Increment(
                    static_cast<double>(counter_delta(it->second.last, count).count));
            }
            it->second.last = count;
        }
    } else {
        for (unsigned cpu : snap.interrupts.cpus) {
            if (!thread_switches_.contains(cpu)) {
                thread_switches_[cpu] = &switches_.Add({{"cpu", std::to_string(cpu)}});
            }
        }
        if (report != nullptr && report->switch_source == SwitchSource::threads) {
            for (const auto& c : report->cpus) {
                const auto it = thread_switches_.find(c.cpu);
                if (it != thread_switches_.end() && c.context_switches) {
                    it->second->Increment(static_cast<double>(*c.context_switches));
                }
            }
        }
    }
    mirror_threads(snap);
    if (report != nullptr) {
        for (const auto& b : report->breaks) {
            const std::tuple<unsigned, std::string, std::string> key{
                static_cast<unsigned>(b.cpu), b.kind, std::string(to_string(b.source))};
            auto it = break_series_.find(key);
            if (it == break_series_.end()) {
                it = break_series_
                         .emplace(key, &breaks_.Add({{"cpu", cpu_label(b.cpu)},
                                                     {"kind", b.kind},
                                                     {"source", std::get<2>(key)}}))
                         .first;
            }
            it->second->Increment(b.source == BreakSource::kernel ? static_cast<double>(b.count)
                                                                  : 1.0);
        }
        notices_.Increment(static_cast<double>(report->notices.size()));
    }
    if (info_series_ == nullptr || report == nullptr ||
        report->switch_source != snap.switch_source) {
        set_info(snap);
    }
    samples_.Increment();
    last_sample_.Set(snap.wall_seconds);
}

void MetricsExporter::observe_health(const CheckRun& run, double wall_seconds) {
    static constexpr CheckStatus kStatuses[] = {CheckStatus::ok, CheckStatus::warn,
                                                CheckStatus::fail, CheckStatus::skip};
    for (const auto& outcome : run.outcomes) {
        for (CheckStatus status : kStatuses) {
            health_.Add({{"check", outcome.id}, {"status", std::string(to_string(status))}})
                .Set(outcome.result.status == status ? 1 : 0);
        }
    }
    health_last_run_.Set(wall_seconds);
}

std::string MetricsExporter::serialize() const {
    return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace qc::monitor
