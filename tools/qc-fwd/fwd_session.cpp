#include "fwd_session.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <ostream>

#include "fwd_report.hpp"
#include "quietcore/core/cancellation.hpp"
#include "quietcore/core/error.hpp"
#include "quietcore/core/signals.hpp"
#include "quietcore/core/thread.hpp"
#include "quietcore/dataplane/eal_session.hpp"
#include "quietcore/dataplane/forwarder.hpp"
#include "quietcore/dataplane/platform_probe.hpp"
#include "quietcore/dataplane/route_table.hpp"
#include "quietcore/dataplane/route_telemetry.hpp"

namespace qc::fwd {

namespace {

using Clock = std::chrono::steady_clock;

std::vector<dataplane::Route> parse_routes(const std::vector<std::string>& texts) {
    std::vector<dataplane::Route> routes;
    routes.reserve(texts.size());
    for (const std::string& text : texts) {
        try {
            routes.push_back(dataplane::parse_route(text));
        } catch (const core::Error& e) {
            throw OptionsError(std::string("--route: ") + e.what());
        }
    }
    return routes;
}

std::vector<std::string> port_names(const std::vector<std::string>& specs) {
    std::vector<std::string> names;
    for (const std::string& spec : specs) {
        try {
            names.push_back(dataplane::port_name_of(spec));
        } catch (const core::Error& e) {
            throw OptionsError(std::string("--port: ") + e.what());
        }
    }
    return names;
}

dataplane::ForwarderConfig forwarder_config(const FwdOptions& o, std::vector<std::string> names,
                                            const std::vector<unsigned>& workers,
                                            std::vector<dataplane::Route> routes) {
    dataplane::ForwarderConfig c;
    c.port_names = std::move(names);
    c.worker_cpus = workers;
    c.mode = o.mode;
    c.burst = o.burst;
    c.mbufs_per_pool = o.mbufs;
    c.latency_probe = o.latency;
    c.tx_first_bursts = o.tx_first;
    c.isolation = o.isolation;
    c.request.strict = o.strict;
    c.policy.after_break = o.break_policy;
    c.routes = std::move(routes);
    return c;
}

std::string stop_reason(const core::CancellationToken& token) {
    const auto reason = token.reason();
    if (!reason) {
        return "duration";
    }
    return reason->kind == core::CancelKind::signal ? core::signal_name(reason->code) : "stopped";
}

// Waits until the stop is requested or `deadline` passes, printing a stats
// line every interval. Housekeeping: it sleeps in poll() on the token's fd.
void wait_and_report(const dataplane::Forwarder& fwd, const FwdOptions& o,
                     const core::CancellationToken& token, std::ostream& out) {
    const Clock::time_point start = Clock::now();
    const bool bounded = o.duration_s > 0;
    const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(o.duration_s));
    const auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::duration<double>(o.stats_interval_s > 0 ? o.stats_interval_s : 3600.0));
    dataplane::FwdStats previous;
    Clock::time_point next = start + interval;
    while (!token.stop_requested()) {
        Clock::time_point until = next;
        if (bounded) {
            until = std::min(until, deadline);
        }
        const auto wait = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
        if (token.wait_for(std::max(wait, std::chrono::milliseconds(0)))) {
            return;
        }
        const Clock::time_point now = Clock::now();
        if (o.stats_interval_s > 0 && now >= next) {
            dataplane::FwdStats current = fwd.stats();
            out << stats_line(previous, current) << std::endl;
            previous = std::move(current);
            next += interval;
        }
        if (bounded && now >= deadline) {
            return;
        }
    }
}

void write_json(const std::string& path, const nlohmann::json& summary) {
    std::ofstream f(path);
    f << summary.dump(2) << '\n';
    f.close();
    if (!f) {
        throw core::Error("--json " + path + ": cannot write the summary");
    }
}

}  // namespace

std::vector<std::string> default_ports(const std::vector<std::string>& bound_nics) {
    if (!bound_nics.empty()) {
        return bound_nics;
    }
    return {"net_null0", "net_null1"};
}

int run_forwarder(const FwdOptions& options, std::ostream& out, std::ostream& err) {
    const std::vector<std::string> ports =
        options.ports.empty() ? default_ports(dataplane::probe_platform().bound_nics)
                              : options.ports;
    std::vector<std::string> names;
    std::vector<dataplane::Route> routes;
    ResolvedWorkers workers;
    try {
        names = port_names(ports);
        routes = parse_routes(options.routes);
        workers = resolve_workers(options.workers, core::KernelCpuSets::read());
    } catch (const OptionsError& e) {
        err << "qc-fwd: " << e.what() << '\n';
        return kExitUsage;
    }
    if (!workers.warning.empty()) {
        err << "qc-fwd: warning: " << workers.warning << '\n';
    }

    // Every thread started from here on (signals, EAL, isolation monitors)
    // inherits this affinity: none of them may run on a worker CPU. EAL
    // pins this thread to the same CPU as its main lcore.
    core::pin_current_thread(dataplane::housekeeping_cpu(workers.cpus, core::online_cpus()));

    // Stop signals are taken from here on; one that arrives during EAL
    // start-up stops the run before the workers start.
    core::CancellationSource stop;
    core::SignalThread signals(stop);

    dataplane::EalOptions eal_options;
    eal_options.ports = ports;
    eal_options.worker_cpus = workers.cpus;
    eal_options.file_prefix = options.file_prefix;
    eal_options.extra_args = options.eal_args;
    dataplane::EalSession eal(eal_options);
    out << "EAL: " << eal.command_line() << std::endl;

    dataplane::Forwarder fwd(
        forwarder_config(options, std::move(names), workers.cpus, std::move(routes)));
    dataplane::register_route_telemetry(fwd.routes());
    out << "qc-fwd: " << to_string(options.mode) << " on " << ports.size() << " ports, "
        << workers.cpus.size() << " worker(s), isolation " << fwd.isolation_backend()
        << "; control: dpdk-telemetry / qc-fwd-ctl --file-prefix " << options.file_prefix
        << std::endl;

    const core::CancellationToken token = stop.token();
    if (!token.stop_requested()) {
        fwd.start();
        wait_and_report(fwd, options, token, out);
    }
    fwd.stop();
    fwd.release_ports();  // the PMDs give back what their rx rings hold
    const dataplane::FwdStats stats = fwd.stats();
    RunInfo run;
    run.mode = options.mode;
    run.burst = options.burst;
    run.stop_reason = stop_reason(token);
    out << summary_table(stats, run) << std::flush;
    if (options.json_path) {
        write_json(*options.json_path, summary_json(stats, run));
    }
    const int code = stop_exit_code(stats);
    if (code != kExitOk) {
        err << "qc-fwd: accounting broken at stop (received != transmitted + dropped, or mbufs "
               "missing from their pools)\n";
    }
    return code;
}

}  // namespace qc::fwd
