// `qc-monitor check` output: a text report for people (header, checks
// grouped by area, aligned status words, evidence and fixes, counts) and
// JSON for scripts; both say which root, expectation and kernel they judged.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "check/check_context.hpp"
#include "check/check_runner.hpp"

namespace qc::monitor {

// "27 checks: 20 ok, 3 warn, 2 fail, 2 skip"
std::string counts_line(const CheckCounts& counts);

void print_check_report(std::ostream& out, const CheckContext& ctx, const CheckRun& run);

// Keys in the order below (ordered_json), so the output reads top-down.
// The "checks" array: [{"id","title","status","summary","evidence":[{"path","value"}],"fix"}];
// "fix" is "" for ok and skip.
nlohmann::ordered_json check_outcomes_json(const CheckRun& run);

// {"root","isolated","isolated_source","housekeeping","online","arch",
//  "kernel_release","interval_seconds","counts","checks","exit_status"};
// CPU sets as cpulists, "" when empty.
nlohmann::ordered_json check_report_json(const CheckContext& ctx, const CheckRun& run);

}  // namespace qc::monitor
