// qc-jitter's outputs: the JSON and the readable table.
//
// JSON schema 1 (stable names; times in ns, integers unless noted):
// {"tool": "qc-jitter", "schema": 1, "duration_s": float,
//  "start_monotonic_ns" (CLOCK_MONOTONIC when the run started; add a record's
//  start_ns to place it on the system clock), "threshold_ns",
//  "isolation_backend": "kernel"|"soft" (only with --isolate),
//  "counter": {"name": "tsc"|"cntvct_el0", "hz": float, "calibration_error": float},
//  "cpus": [{"cpu", "loops", "loop_cost_ns" (minimum delta), "min_ns", "mean_ns": float,
//            "p50_ns", "p99_ns", "p999_ns", "p9999_ns", "max_ns",
//            "interruptions" (gaps >= threshold), "interruptions_per_s": float,
//            "stolen_ns" (sum of gap - loop_cost_ns), "stolen_pct": float,
//            "records": [{"start_ns" (since the run started), "length_ns"}],
//            "records_dropped",
//            "histogram": {"bucket_width_ns", "counts": [...] (bucket i = [i*w, (i+1)*w)),
//                          "overflow"},
//            "attribution": {"interrupts": {"LOC": n, ...}, "softirqs": {"TIMER": n, ...}
//                            (per-CPU deltas over the run, non-zero only),
//                            "involuntary_ctxt_switches",
//                            "isolation_breaks": {"syscall": n, "irq": n, ...}
//                            (only with --isolate)}}]}
// Percentiles are within the core histogram's bound (value <= p <= value *
// (1 + 2^-7)); min, max and mean are exact. Rates and percentages use the
// CPU's measured run time.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "jitter_options.hpp"
#include "jitter_run.hpp"

namespace qc::jitter {

nlohmann::json to_json(const Options& options, const RunResult& result);

// One column per CPU.
void print_table(const Options& options, const RunResult& result, std::ostream& out);

}  // namespace qc::jitter
