// qc-monitor: the operator's view of a quietcore machine. Subcommands:
//   plan          propose worker / housekeeping CPUs and explain the choice
//   capabilities  what the kernel offers for isolation, the back end used
#include <CLI/CLI.hpp>
#include <iostream>

#include "capabilities_command.hpp"
#include "exit_codes.hpp"
#include "plan_command.hpp"

int main(int argc, char** argv) {
    CLI::App app{"qc-monitor: isolation health of a quietcore machine"};
    app.require_subcommand(1);

    qc::monitor::PlanOptions plan_options;
    CLI::App* plan = qc::monitor::add_plan_command(app, plan_options);
    qc::monitor::CapabilitiesOptions caps_options;
    CLI::App* caps = qc::monitor::add_capabilities_command(app, caps_options);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help is a ParseError with exit code 0; every real parse error
        // (unknown flag, bad value) exits 2 whatever CLI11's own code.
        const int code = app.exit(e);
        return code == 0 ? qc::monitor::kExitOk : qc::monitor::kExitUsage;
    }

    if (plan->parsed()) {
        return qc::monitor::run_plan(plan_options, std::cout, std::cerr);
    }
    if (caps->parsed()) {
        return qc::monitor::run_capabilities(caps_options, std::cout, std::cerr);
    }
    return qc::monitor::kExitUsage;
}
