// `qc-monitor capabilities`: what the running kernel offers for isolation
// (task-isolation prctl, isolated / nohz_full CPUs, seccomp user notification)
// and which back end quietcore uses, in sentences or JSON.
#pragma once

#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

namespace qc::monitor {

struct CapabilitiesOptions {
    std::string sysfs_root = "/sys";
    bool json = false;
};

CLI::App* add_capabilities_command(CLI::App& app, CapabilitiesOptions& options);

// Returns the exit code: 0, or 1 when the machine cannot be read.
int run_capabilities(const CapabilitiesOptions& options, std::ostream& out, std::ostream& err);

}  // namespace qc::monitor
