// `qc-monitor plan`: propose worker and housekeeping CPUs for this machine
// (or a described one) and explain the choice.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <ostream>
#include <string>

namespace qc::monitor {

struct PlanOptions {
    std::optional<std::string> isolated;  // cpulist of worker candidates
    std::optional<std::string> sysfs_root;
    std::optional<std::string> topology_xml;
    std::optional<std::string> synthetic;
    bool json = false;
};

// Registers the subcommand and its flags; --isolated is checked while
// parsing, so a malformed list is a CLI11 parse error naming the flag.
CLI::App* add_plan_command(CLI::App& app, PlanOptions& options);

// Runs the plan with parsed options. Returns the exit code: 0, 1 when the
// machine cannot be read, 2 when a flag's value is unusable (the message on
// `err` names the flag).
int run_plan(const PlanOptions& options, std::ostream& out, std::ostream& err);

}  // namespace qc::monitor
