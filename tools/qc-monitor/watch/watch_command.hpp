// `qc-monitor watch`: samples the isolated CPUs' interrupts by kind,
// softirqs and context switches every interval, prints their rates and flags
// every break of isolation as it happens (a table, or JSON lines with --json).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <ostream>
#include <string>

namespace qc::monitor {

struct WatchOptions {
    std::optional<std::string> root;      // read counters under this directory; live when unset
    std::optional<std::string> isolated;  // validated cpulist; default: the kernel's
    double interval_seconds = 1.0;
    unsigned count = 0;  // intervals to report; 0: until SIGINT / SIGTERM
    bool json = false;
};

CLI::App* add_watch_command(CLI::App& app, WatchOptions& options);

// Returns kExitOk after --count intervals or a SIGINT / SIGTERM,
// kExitCouldNotRun with the reason on `err` (no isolated CPUs known, no
// housekeeping CPU left to run on, /proc/interrupts unreadable), kExitFailure
// when reading the counters fails later.
int run_watch(const WatchOptions& options, std::ostream& out, std::ostream& err);

}  // namespace qc::monitor
