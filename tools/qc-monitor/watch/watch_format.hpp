// How watch and serve show an interval: one JSON object (watch --json, one
// per line; serve's /status "last_interval"), or a table of the isolated
// CPUs' rates followed by one line per break.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "quietcore/core/cpu_set.hpp"
#include "watch/interval_report.hpp"

namespace qc::monitor {

// "2024-05-01T12:00:01.250Z".
std::string utc_timestamp(double wall_seconds);

nlohmann::json break_json(const IsolationBreak& b);

// {"time", "timestamp", "interval_seconds", "context_switch_source",
//  "cpus": [{"cpu", "interrupts": {"LOC": {"count", "rate", "description"}},
//            "softirqs": {"TIMER": {"count", "rate"}}, "interrupts_total",
//            "softirqs_total", "context_switches": {"count", "rate"} | null}],
//  "breaks": [break_json...], "threads": [...], "notices": [...]}
// Only the isolated CPUs are listed; kinds that did not move are left out.
nlohmann::json interval_json(const IntervalReport& report, const core::CpuSet& isolated);

// "BREAK 12:00:01.250 cpu 1 interrupt LOC: 1002 in 1.00 s (allowed 1; Local timer interrupts)"
std::string break_line(const IsolationBreak& b, double seconds);

// The column header of the table.
void write_table_header(std::ostream& out);
// One row per isolated CPU, then the breaks and notices.
void write_table(std::ostream& out, const IntervalReport& report, const core::CpuSet& isolated);

}  // namespace qc::monitor
