// qc-monitor: the operator's view of a quietcore machine. Subcommands:
//   plan          propose worker / housekeeping CPUs and explain the choice
//   capabilities  what the kernel offers for isolation, the back end used
//   check         health checks of the isolation setup, with evidence and fixes
//   snapshot      copy what the checks read, for `check --root` elsewhere
//   watch         rates of interrupts, softirqs and context switches on the
//                 isolated CPUs, and every break of isolation as it happens
//   serve         the same as Prometheus /metrics and JSON /status
#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <iostream>
#include <string_view>

#include "capabilities_command.hpp"
#include "check/check_command.hpp"
#include "check/check_registry.hpp"
#include "check/snapshot_command.hpp"
#include "exit_codes.hpp"
#include "plan_command.hpp"
#include "watch/serve_command.hpp"
#include "watch/watch_command.hpp"

namespace {

// Subcommands whose exit codes 1 and 2 are verdicts, so a usage error must
// exit kExitCouldNotRun; plan and capabilities keep kExitUsage.
constexpr std::array<std::string_view, 4> kVerdictCommands = {"check", "snapshot", "watch",
                                                              "serve"};

// The subcommand named on the command line: the first word that is not a
// flag (the top level takes no option values). Read from argv because a
// parse error can leave CLI11's own record of it incomplete.
std::string_view subcommand_word(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (!arg.starts_with('-')) {
            return arg;
        }
    }
    return {};
}

int usage_exit_code(int argc, char** argv) {
    const std::string_view word = subcommand_word(argc, argv);
    const bool verdict =
        std::find(kVerdictCommands.begin(), kVerdictCommands.end(), word) != kVerdictCommands.end();
    return verdict ? qc::monitor::kExitCouldNotRun : qc::monitor::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"qc-monitor: isolation health of a quietcore machine"};
    app.require_subcommand(1);

    qc::monitor::PlanOptions plan_options;
    CLI::App* plan = qc::monitor::add_plan_command(app, plan_options);
    qc::monitor::CapabilitiesOptions caps_options;
    CLI::App* caps = qc::monitor::add_capabilities_command(app, caps_options);
    qc::monitor::CheckOptions check_options;
    CLI::App* check = qc::monitor::add_check_command(app, check_options);
    qc::monitor::SnapshotOptions snapshot_options;
    CLI::App* snapshot = qc::monitor::add_snapshot_command(app, snapshot_options);
    qc::monitor::WatchOptions watch_options;
    CLI::App* watch = qc::monitor::add_watch_command(app, watch_options);
    qc::monitor::ServeOptions serve_options;
    CLI::App* serve = qc::monitor::add_serve_command(app, serve_options);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        // --help is a ParseError with exit code 0; every real parse error
        // (unknown flag, bad value) exits with the subcommand's usage code
        // whatever CLI11's own code.
        const int code = app.exit(e);
        return code == 0 ? qc::monitor::kExitOk : usage_exit_code(argc, argv);
    }

    if (plan->parsed()) {
        return qc::monitor::run_plan(plan_options, std::cout, std::cerr);
    }
    if (caps->parsed()) {
        return qc::monitor::run_capabilities(caps_options, std::cout, std::cerr);
    }
    if (watch->parsed()) {
        return qc::monitor::run_watch(watch_options, std::cout, std::cerr);
    }
    if (serve->parsed()) {
        return qc::monitor::run_serve(serve_options, std::cout, std::cerr);
    }
    if (check->parsed()) {
        return qc::monitor::run_check(check_options, qc::monitor::all_checks(), std::cout,
                                      std::cerr);
    }
    if (snapshot->parsed()) {
        return qc::monitor::run_snapshot(snapshot_options, qc::monitor::all_checks(), std::cout,
                                         std::cerr);
    }
    return qc::monitor::kExitUsage;
}
