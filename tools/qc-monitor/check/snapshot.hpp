// Taking a snapshot: run the checks with a recorder and write what they read
// into a directory that `check --root` reads as if it were the machine.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "check/check_context.hpp"
#include "check/check_registry.hpp"
#include "check/check_runner.hpp"
#include "check/system_root.hpp"

namespace qc::monitor {

struct SnapshotSummary {
    CheckRun run;  // the verdicts at capture time (also in snapshot.json)
    std::size_t files = 0;
    std::size_t directories = 0;
    double interval_seconds = 0;
};

// Throws core::Error naming dir unless it does not exist or is an empty
// directory, so a snapshot never mixes with other files.
void check_snapshot_target(const std::string& dir);

// Runs `checks` on `source` (the live system, or another snapshot) while
// recording its reads, then writes into dir: every file read and directory
// listed at <dir><system path>, the second samples of the counter files at
// <dir>/qc-monitor/after/<system path>, and <dir>/qc-monitor/snapshot.json
// ({"interval_seconds", "captured_at", "kernel_release", "hostname",
// "isolated", "qc_monitor_checks"}). Throws core::Error when the context
// cannot be made or dir cannot be written.
SnapshotSummary take_snapshot(SystemRoot& source, const ContextOptions& options,
                              const std::vector<CheckDef>& checks, const std::string& dir);

}  // namespace qc::monitor
