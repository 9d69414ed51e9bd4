#include "watch/serve_command.hpp"

#include <chrono>
#include <cstring>
#include <mutex>
#include <set>

#include "check/check_flags.hpp"
#include "exit_codes.hpp"
#include "watch/cpu_counters.hpp"
#include "watch/http_server.hpp"
#include "watch/interval_report.hpp"
#include "watch/metrics_exporter.hpp"
#include "watch/monitor_runtime.hpp"
#include "watch/status_json.hpp"

namespace qc::monitor {

namespace {

double monotonic_now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
double wall_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The health checks on a fresh context whose counter samples are the last
// interval's readings (no extra sleep).
CheckRun run_health(const SystemRoot& sys, const std::optional<std::string>& isolated,
                    const std::vector<CheckDef>& checks, const CounterSnapshot* before,
                    const CounterSnapshot& after) {
    CheckContext ctx = make_check_context(sys, {isolated_cpus(isolated), 0.0});
    if (before != nullptr) {
        const double seconds = after.monotonic_seconds - before->monotonic_seconds;
        for (const auto& [path, text] : after.texts) {
            const auto old = before->texts.find(path);
            if (old != before->texts.end() && seconds > 0) {
                ctx.samples.emplace(path, CounterSample{old->second, text, seconds});
            }
        }
    }
    return run_checks(checks, ctx);
}

}  // namespace

CLI::App* add_serve_command(CLI::App& app, ServeOptions& options) {
    CLI::App* cmd = app.add_subcommand(
        "serve",
        "Serve the isolated CPUs' interrupt, softirq and context switch counters and the "
        "breaks of isolation as Prometheus metrics (/metrics) and JSON (/status). Runs on the "
        "housekeeping CPUs until SIGINT/SIGTERM (exit 0); 3 could not start.");
    cmd->add_option("--listen", options.listen,
                    "Address and port to listen on (civetweb syntax: 127.0.0.1:9464, 9464 for "
                    "every address, [::1]:9464)")
        ->capture_default_str();
    add_isolated_option(*cmd, options.isolated);
    cmd->add_option("--interval", options.interval_seconds, "Seconds between samples")
        ->check(CLI::Range(0.01, kMaxIntervalSeconds))
        ->capture_default_str();
    cmd->add_option("--check-interval", options.check_interval_seconds,
                    "Seconds between runs of the health checks exported as "
                    "quietcore_health_check_status; 0 turns them off")
        ->check(CLI::Range(0.0, 86400.0))
        ->capture_default_str();
    cmd->add_option("--root", options.root,
                    "Read /proc and /sys under this directory instead of the live system");
    return cmd;
}

int run_serve(const ServeOptions& options, std::ostream& out, std::ostream& err) {
    return run_serve(options, all_checks(), out, err);
}

int run_serve(const ServeOptions& options, const std::vector<CheckDef>& checks, std::ostream& out,
              std::ostream& err) {
    if (!(options.interval_seconds > 0) || options.check_interval_seconds < 0) {
        err << "qc-monitor serve: --interval must be more than 0 seconds and --check-interval "
               "0 or more\n";
        return kExitCouldNotRun;
    }
    const double start_wall = wall_now();
    const double start_mono = monotonic_now();
    const SystemRoot sys(options.root.value_or("/"));
    // Pinned before the HTTP server starts its threads: they inherit it.
    const auto cpus = prepare_monitor("serve", sys, options.isolated, false, err);
    if (!cpus) {
        return kExitCouldNotRun;
    }
    const CheckContext& ctx = cpus->ctx;
    if (!ctx.isolated_known) {
        err << "qc-monitor serve: no isolated CPUs given (--isolated) or configured by the "
               "kernel: serving the counters of every CPU, no breaks flagged\n";
    }
    StopSignals stop;  // before the server's threads, so they never take SIGINT/SIGTERM

    CounterReader reader(sys, options.check_interval_seconds > 0);
    CounterSnapshot before;
    try {
        before = reader.read();
    } catch (const std::exception& e) {
        err << "qc-monitor serve: " << e.what() << '\n';
        return kExitCouldNotRun;
    }
    std::mutex mutex;  // the exporter and the status, between sampling and the handlers
    MetricsExporter exporter(ctx.online, ctx.isolated, cpus->pinned, start_wall);
    MonitorStatus status({ctx.isolated, ctx.isolated_source, ctx.online, cpus->pinned,
                          options.interval_seconds, start_wall, start_mono});
    exporter.observe(before, nullptr);
    status.observe_sample(before.switch_source, before.kernel_task_isolation);
    std::set<std::string> said;
    const auto say_problems = [&](const CounterSnapshot& snap) {
        for (const auto& p : snap.problems) {
            if (said.insert(p).second) {
                err << "qc-monitor serve: " << p << '\n';
            }
        }
    };
    say_problems(before);

    std::optional<HttpServer> server;
    try {
        server.emplace(options.listen,
                       std::map<std::string, HttpServer::Handler>{
                           {"/metrics",
                            [&] {
                                std::lock_guard lock(mutex);
                                return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8",
                                                    exporter.serialize()};
                            }},
                           {"/status",
                            [&] {
                                std::lock_guard lock(mutex);
                                return HttpResponse{200, "application/json",
                                                    status.to_json(monotonic_now()).dump(2) + "\n"};
                            }},
                           {"/", [] {
                                return HttpResponse{
                                    200, "text/html; charset=utf-8",
                                    "<html><body><h1>qc-monitor serve</h1><p><a "
                                    "href=\"/metrics\">/metrics</a> <a "
                                    "href=\"/status\">/status</a></p></body></html>\n"};
                            }}});
    } catch (const std::exception& e) {
        err << "qc-monitor serve: " << e.what() << '\n';
        return kExitCouldNotRun;
    }
    std::string ports;
    for (int port : server->ports()) {
        ports += (ports.empty() ? "" : ",") + std::to_string(port);
    }
    out << "qc-monitor serve: listening on " << options.listen << " (port " << ports
        << "): /metrics, /status; isolated CPUs "
        << (ctx.isolated.empty() ? std::string("none") : ctx.isolated.to_list())
        << "; running on housekeeping CPUs " << cpus->pinned.to_list() << "; every "
        << options.interval_seconds << " s" << std::endl;

    const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(options.interval_seconds));
    const auto check_every = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(options.check_interval_seconds));
    const auto start = std::chrono::steady_clock::now();
    // The first health run comes after the first interval, with its rates.
    auto next_check = start;
    for (std::uint64_t n = 1;; ++n) {
        if (stop.wait_until(start + interval * n)) {
            break;
        }
        CounterSnapshot after;
        try {
            after = reader.read();
        } catch (const std::exception& e) {
            err << "qc-monitor serve: " << e.what() << '\n';
            return kExitFailure;
        }
        say_problems(after);
        const IntervalReport report = compute_interval(before, after, ctx.isolated);
        {
            std::lock_guard lock(mutex);
            exporter.observe(after, &report);
            status.observe_sample(after.switch_source, after.kernel_task_isolation);
            status.observe(report);
        }
        if (options.check_interval_seconds > 0 && std::chrono::steady_clock::now() >= next_check) {
            try {
                const CheckRun run = run_health(sys, options.isolated, checks, &before, after);
                const double when = wall_now();
                std::lock_guard lock(mutex);
                exporter.observe_health(run, when);
                status.observe_health(run, when);
            } catch (const std::exception& e) {
                err << "qc-monitor serve: health checks: " << e.what() << '\n';
            }
            next_check = std::chrono::steady_clock::now() + check_every;
        }
        before = std::move(after);
    }
    out << "qc-monitor serve: stopping (" << strsignal(stop.received()) << ")" << std::endl;
    return kExitOk;
}

}  // namespace qc::monitor
