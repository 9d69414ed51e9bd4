#include "watch/watch_command.hpp"

#include <chrono>
#include <set>

#include "check/check_flags.hpp"
#include "exit_codes.hpp"
#include "watch/cpu_counters.hpp"
#include "watch/interval_report.hpp"
#include "watch/monitor_runtime.hpp"
#include "watch/watch_format.hpp"

namespace qc::monitor {

namespace {

// Problems of a snapshot not said before.
void say_problems(const CounterSnapshot& snap, std::set<std::string>& said, std::ostream& err) {
    for (const auto& p : snap.problems) {
        if (said.insert(p).second) {
            err << "qc-monitor watch: " << p << '\n';
        }
    }
}

}  // namespace

CLI::App* add_watch_command(CLI::App& app, WatchOptions& options) {
    CLI::App* cmd = app.add_subcommand(
        "watch",
        "Sample the isolated CPUs' interrupts, softirqs and context switches every interval, "
        "print their rates and flag each break of isolation as it happens. Runs on the "
        "housekeeping CPUs. Exit 0 at the end or on SIGINT/SIGTERM, 3 could not run.");
    add_isolated_option(*cmd, options.isolated);
    cmd->add_option("--interval", options.interval_seconds, "Seconds between samples")
        ->check(CLI::Range(0.01, kMaxIntervalSeconds))
        ->capture_default_str();
    cmd->add_option("--count", options.count,
                    "Intervals to report, then exit; 0 runs until SIGINT or SIGTERM")
        ->capture_default_str();
    cmd->add_flag("--json", options.json,
                  "Print one JSON object per interval (JSON lines) instead of the table");
    cmd->add_option("--root", options.root,
                    "Read /proc and /sys under this directory instead of the live system");
    return cmd;
}

int run_watch(const WatchOptions& options, std::ostream& out, std::ostream& err) {
    if (!(options.interval_seconds > 0)) {
        err << "qc-monitor watch: --interval must be more than 0 seconds\n";
        return kExitCouldNotRun;
    }
    const SystemRoot sys(options.root.value_or("/"));
    // Pins before anything else runs; watch starts no thread of its own.
    const auto cpus = prepare_monitor("watch", sys, options.isolated, true, err);
    if (!cpus) {
        return kExitCouldNotRun;
    }
    const core::CpuSet& isolated = cpus->ctx.isolated;
    StopSignals stop;
    CounterReader reader(sys);
    CounterSnapshot before;
    try {
        before = reader.read();
    } catch (const std::exception& e) {
        err << "qc-monitor watch: " << e.what() << '\n';
        return kExitCouldNotRun;
    }
    err << "qc-monitor watch: isolated CPUs " << isolated.to_list() << " ("
        << cpus->ctx.isolated_source << "); running on housekeeping CPUs " << cpus->pinned.to_list()
        << "; every " << options.interval_seconds << " s\n";
    const core::CpuSet offline = isolated - cpus->ctx.online;
    if (!offline.empty()) {
        err << "qc-monitor watch: isolated CPUs " << offline.to_list()
            << " are not online: nothing to watch there\n";
    }
    if (before.switch_source == SwitchSource::threads) {
        err << "qc-monitor watch: /proc/schedstat is missing (CONFIG_SCHEDSTATS off): context "
               "switches per CPU are an approximation from the threads' own counts\n";
    }
    std::set<std::string> said;
    say_problems(before, said, err);
    if (!options.json) {
        write_table_header(out);
        out.flush();
    }

    const auto start = std::chrono::steady_clock::now();
    const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(options.interval_seconds));
    for (unsigned n = 1; options.count == 0 || n <= options.count; ++n) {
        // Fixed deadlines: a slow read does not shift the following samples.
        if (stop.wait_until(start + interval * n)) {
            break;
        }
        CounterSnapshot after;
        try {
            after = reader.read();
        } catch (const std::exception& e) {
            err << "qc-monitor watch: " << e.what() << '\n';
            return kExitFailure;
        }
        say_problems(after, said, err);
        const IntervalReport report = compute_interval(before, after, isolated);
        if (options.json) {
            out << interval_json(report, isolated).dump() << '\n';
        } else {
            write_table(out, report, isolated);
        }
        out.flush();
        before = std::move(after);
    }
    return kExitOk;
}

}  // namespace qc::monitor
