// `qc-monitor serve`: the watch sampler behind an HTTP endpoint. /metrics in
// the Prometheus text format (prometheus-cpp), /status in JSON. Optionally
// runs the health checks every --check-interval and exports their verdicts.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "check/check_registry.hpp"

namespace qc::monitor {

struct ServeOptions {
    std::string listen = "127.0.0.1:9464";  // civetweb listening_ports syntax
    std::optional<std::string> isolated;    // validated cpulist; default: the kernel's
    std::optional<std::string> root;        // read counters under this directory
    double interval_seconds = 1.0;
    double check_interval_seconds = 60;  // 0: no health checks
};

CLI::App* add_serve_command(CLI::App& app, ServeOptions& options);

// Serves until SIGINT / SIGTERM (kExitOk). kExitCouldNotRun with the reason
// on `err` when it cannot start (address in use, no housekeeping CPU, counters
// unreadable); kExitFailure when reading the counters fails later. Runs
// all_checks() as the health checks.
int run_serve(const ServeOptions& options, std::ostream& out, std::ostream& err);
// The same with the given health checks.
int run_serve(const ServeOptions& options, const std::vector<CheckDef>& checks, std::ostream& out,
              std::ostream& err);

}  // namespace qc::monitor
