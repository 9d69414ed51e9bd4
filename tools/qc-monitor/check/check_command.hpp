// `qc-monitor check`: run the health checks on the live system or a
// snapshot, print the verdicts (text or JSON) and exit with the worst one.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "check/check_registry.hpp"

namespace qc::monitor {

struct CheckOptions {
    std::optional<std::string> root;      // snapshot directory; live system when unset
    std::optional<std::string> isolated;  // validated cpulist
    bool json = false;
    double interval_seconds = 1.0;
    std::optional<std::string> only;  // id prefix
};

CLI::App* add_check_command(CLI::App& app, CheckOptions& options);

// Runs `checks` (all_checks() for the tool) and returns the exit code:
// kExitChecksOk / Warn / Fail, or kExitCouldNotRun with the reason on `err`
// (--root not a directory, --only matching nothing, online CPUs unreadable).
int run_check(const CheckOptions& options, const std::vector<CheckDef>& checks, std::ostream& out,
              std::ostream& err);

}  // namespace qc::monitor
