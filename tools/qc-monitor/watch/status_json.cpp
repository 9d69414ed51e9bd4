#include "watch/status_json.hpp"

#include "watch/watch_format.hpp"

namespace qc::monitor {

void MonitorStatus::observe_sample(SwitchSource source, bool kernel_task_isolation) {
    ++samples_;
    switch_source_ = source;
    kernel_task_isolation_ = kernel_task_isolation;
}

void MonitorStatus::observe(const IntervalReport& report) {
    last_interval_ = interval_json(report, setup_.isolated);
    for (const auto& b : report.breaks) {
        ++breaks_total_;
        recent_breaks_.push_back(break_json(b));
        if (recent_breaks_.size() > kRecentBreaks) {
            recent_breaks_.pop_front();
        }
    }
}

void MonitorStatus::observe_health(const CheckRun& run, double wall_seconds) {
    nlohmann::json checks = nlohmann::json::array();
    for (const auto& o : run.outcomes) {
        checks.push_back({{"id", o.id},
                          {"status", std::string(to_string(o.result.status))},
                          {"summary", o.result.summary}});
    }
    health_ = {{"last_run", utc_timestamp(wall_seconds)},
               {"counts",
                {{"ok", run.counts.ok},
                 {"warn", run.counts.warn},
                 {"fail", run.counts.fail},
                 {"skip", run.counts.skip}}},
               {"checks", std::move(checks)}};
}

nlohmann::json MonitorStatus::to_json(double now_monotonic_seconds) const {
    nlohmann::json breaks = nlohmann::json::array();
    for (const auto& b : recent_breaks_) {
        breaks.push_back(b);
    }
    return {{"isolated", setup_.isolated.to_list()},
            {"isolated_source", setup_.isolated_source},
            {"online", setup_.online.to_list()},
            {"running_on", setup_.running_on.to_list()},
            {"interval_seconds", setup_.interval_seconds},
            {"started", utc_timestamp(setup_.start_wall_seconds)},
            {"uptime_seconds", now_monotonic_seconds - setup_.start_monotonic_seconds},
            {"samples", samples_},
            {"context_switch_source", std::string(to_string(switch_source_))},
            {"kernel_task_isolation", kernel_task_isolation_},
            {"breaks_total", breaks_total_},
            {"recent_breaks", std::move(breaks)},
            {"last_interval", last_interval_},
            {"health", health_}};
}

}  // namespace qc::monitor
