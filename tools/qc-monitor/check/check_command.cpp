#include "check/check_command.hpp"

#include <filesystem>
#include <system_error>

#include "check/check_context.hpp"
#include "check/check_flags.hpp"
#include "check/check_report.hpp"
#include "check/check_runner.hpp"
#include "check/system_root.hpp"
#include "exit_codes.hpp"
#include "quietcore/core/error.hpp"

namespace qc::monitor {

namespace {

namespace fs = std::filesystem;

// "" when dir can be read as a root, else why not.
std::string root_problem(const std::string& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return fs::exists(dir, ec) ? "not a directory" : "no such directory";
    }
    fs::directory_iterator it(dir, ec);
    return ec ? "cannot read: " + ec.message() : std::string();
}

}  // namespace

CLI::App* add_check_command(CLI::App& app, CheckOptions& options) {
    CLI::App* cmd = app.add_subcommand(
        "check",
        "Check this machine's isolation setup (kernel command line, affinities, tunables, "
        "interrupt rates) and say what to fix. Exit 0 ok, 1 warnings, 2 failures, 3 could "
        "not run.");
    cmd->add_option("--root", options.root,
                    "Read a snapshot directory (`qc-monitor snapshot DIR`) instead of the live "
                    "system");
    add_isolated_option(*cmd, options.isolated);
    cmd->add_flag("--json", options.json, "Print JSON instead of the text report");
    add_interval_option(*cmd, options.interval_seconds);
    cmd->add_option("--only", options.only,
                    "Run only the checks whose id starts with this (e.g. cmdline, rates.softirqs)");
    return cmd;
}

int run_check(const CheckOptions& options, const std::vector<CheckDef>& checks, std::ostream& out,
              std::ostream& err) {
    if (options.root) {
        if (const std::string problem = root_problem(*options.root); !problem.empty()) {
            err << "qc-monitor check: --root " << *options.root << ": " << problem << '\n';
            return kExitCouldNotRun;
        }
    }
    const std::vector<CheckDef> selected = select_checks(checks, options.only.value_or(""));
    if (options.only && selected.empty()) {
        err << "qc-monitor check: --only " << *options.only << ": no check id starts with \""
            << *options.only << "\"\n";
        return kExitCouldNotRun;
    }
    const SystemRoot sys(options.root.value_or("/"));
    CheckContext ctx;
    try {
        ctx = make_check_context(sys, {isolated_cpus(options.isolated), options.interval_seconds});
    } catch (const std::exception& e) {
        err << "qc-monitor check: " << e.what() << '\n';
        return kExitCouldNotRun;
    }
    const CheckRun run = run_checks(selected, ctx);
    if (options.json) {
        // replace: a process name or file value need not be valid UTF-8.
        out << check_report_json(ctx, run).dump(2, ' ', false,
                                                nlohmann::ordered_json::error_handler_t::replace)
            << '\n';
    } else {
        print_check_report(out, ctx, run);
    }
    return check_exit_status(run.counts);
}

}  // namespace qc::monitor
