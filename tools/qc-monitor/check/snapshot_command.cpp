#include "check/snapshot_command.hpp"

#include "check/check_flags.hpp"
#include "check/check_report.hpp"
#include "check/snapshot.hpp"
#include "exit_codes.hpp"

namespace qc::monitor {

CLI::App* add_snapshot_command(CLI::App& app, SnapshotOptions& options) {
    CLI::App* cmd = app.add_subcommand(
        "snapshot",
        "Copy every /proc, /sys and /boot file the checks read into DIR (a new or empty "
        "directory), to attach to a bug report; `qc-monitor check --root DIR` reads it back.");
    cmd->add_option("DIR", options.dir, "Directory to write (must not exist or be empty)")
        ->required();
    add_isolated_option(*cmd, options.isolated)
        ->description(
            "The CPUs meant to be isolated (cpulist); kept in the snapshot, so `check --root` "
            "judges it the same way");
    add_interval_option(*cmd, options.interval_seconds);
    return cmd;
}

int run_snapshot(const SnapshotOptions& options, const std::vector<CheckDef>& checks,
                 std::ostream& out, std::ostream& err) {
    SystemRoot live("/");
    SnapshotSummary summary;
    try {
        summary = take_snapshot(live, {isolated_cpus(options.isolated), options.interval_seconds},
                                checks, options.dir);
    } catch (const std::exception& e) {
        err << "qc-monitor snapshot: " << e.what() << '\n';
        return kExitCouldNotRun;
    }
    out << "qc-monitor snapshot: wrote " << summary.files << " files and " << summary.directories
        << " directories to " << options.dir << '\n';
    if (summary.interval_seconds > 0) {
        out << "  counters sampled twice, " << summary.interval_seconds << " s apart\n";
    } else {
        out << "  no counters sampled (--interval 0): rate checks skip\n";
    }
    out << "  verdicts: " << counts_line(summary.run.counts) << '\n'
        << "  read it back: qc-monitor check --root " << options.dir << '\n'
        << "  for a bug report: tar czf qc-monitor-snapshot.tar.gz -C " << options.dir << " .\n";
    return kExitOk;
}

}  // namespace qc::monitor
