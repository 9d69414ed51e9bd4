// qc-fwd's outputs from dataplane::FwdStats: the JSON summary written at stop
// (the contract's schema, read by bench/ and tests/), the human summary table
// and the live stats line printed every interval. Housekeeping only.
//
// JSON summary:
// {"tool": "qc-fwd", "mode", "burst", "elapsed_s": float, "stop_reason",
//  "ports": [{"id", "name", "numa", "rx", "tx", "imissed", "ierrors", "oerrors", "rx_nombuf"}],
//  "workers": [{"cpu", "lcore", "received", "transmitted",
//               "dropped": {"not_ipv4", ..., "tx_full"}, "iterations", "mpps": float,
//               "latency_ns": {"count", "p50", "p99", "p999", "max"},
//               "isolation": {"backend", "state", "breaks", "last_break", "error"}}],
//  "totals": {"received", "transmitted", "dropped", "dropped_by_reason": {...},
//             "mpps": float, "accounting_ok": bool},
//  "mbufs": [{"numa", "size", "available"}], "mbufs_all_returned": bool,
//  "routes": {"version", "count", "updates"}}
// mpps = transmitted / elapsed_s / 1e6 (0 when elapsed_s is 0).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "quietcore/dataplane/fwd_mode.hpp"
#include "quietcore/dataplane/fwd_stats.hpp"

namespace qc::fwd {

// What the summary says besides the stats.
struct RunInfo {
    dataplane::FwdMode mode = dataplane::FwdMode::io;
    unsigned burst = 32;
    std::string stop_reason;  // "duration", "SIGTERM", "SIGINT" (or why it stopped)
};

// transmitted / elapsed_s / 1e6; 0 when elapsed_s <= 0.
double mpps(std::uint64_t transmitted, double elapsed_s) noexcept;

// received == transmitted + dropped, for every worker and for the totals.
bool accounting_ok(const dataplane::FwdStats& stats) noexcept;
// Every pool's available == size (true when there are no pools).
bool mbufs_all_returned(const dataplane::FwdStats& stats) noexcept;
// kExitAccounting (3) when either of the above fails, else kExitOk (0).
int stop_exit_code(const dataplane::FwdStats& stats) noexcept;

nlohmann::json summary_json(const dataplane::FwdStats& stats, const RunInfo& run);

// Readable summary: one row per worker (CPU, lcore, Mpps, rx, tx, drops by
// reason, latency p50/p99/p99.9/max, isolation backend/state/breaks), the
// ports, the pools, the routes and a totals line with the accounting identity.
std::string summary_table(const dataplane::FwdStats& stats, const RunInfo& run);

// One live line from two snapshots (previous may be a default FwdStats for
// the first interval): elapsed, rx/tx Mpps over the interval, drops over the
// interval by reason, each worker's isolation state and breaks. No newline.
std::string stats_line(const dataplane::FwdStats& previous, const dataplane::FwdStats& current);

}  // namespace qc::fwd
