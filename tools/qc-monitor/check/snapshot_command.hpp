// `qc-monitor snapshot DIR`: capture what the checks read on this machine
// into DIR, for `qc-monitor check --root DIR` elsewhere (a bug report).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "check/check_registry.hpp"

namespace qc::monitor {

struct SnapshotOptions {
    std::string dir;
    std::optional<std::string> isolated;  // validated cpulist, kept in snapshot.json
    double interval_seconds = 1.0;
};

CLI::App* add_snapshot_command(CLI::App& app, SnapshotOptions& options);

// Snapshots the live system running `checks` (all_checks() for the tool).
// Returns kExitOk once DIR is written, whatever the verdicts, or
// kExitCouldNotRun with the reason on `err` (DIR not new or empty, not
// writable, online CPUs unreadable).
int run_snapshot(const SnapshotOptions& options, const std::vector<CheckDef>& checks,
                 std::ostream& out, std::ostream& err);

}  // namespace qc::monitor
