#include "fwd_report.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <vector>

#include "fwd_options.hpp"
#include "quietcore/dataplane/drop_reason.hpp"

namespace qc::fwd {

namespace {

using dataplane::BurstCounters;
using dataplane::DropReason;
using dataplane::FwdStats;
using dataplane::kDropReasonCount;
using dataplane::WorkerStats;

DropReason reason_at(std::size_t i) {
    return static_cast<DropReason>(i);
}

bool identity_holds(const BurstCounters& c) noexcept {
    return c.received == c.forwarded + c.dropped();
}

nlohmann::json drops_json(const BurstCounters& c) {
    nlohmann::json out = nlohmann::json::object();
    for (std::size_t i = 0; i < kDropReasonCount; ++i) {
        out[std::string(to_string(reason_at(i)))] = c.drops[i];
    }
    return out;
}

// "no_route:5 tx_full:2", or "-" when nothing was dropped.
std::string drops_text(const BurstCounters& c) {
    std::string out;
    for (std::size_t i = 0; i < kDropReasonCount; ++i) {
        if (c.drops[i] != 0) {
            out += (out.empty() ? "" : " ") + std::string(to_string(reason_at(i))) + ":" +
                   std::to_string(c.drops[i]);
        }
    }
    return out.empty() ? "-" : out;
}

std::string fixed(double v, int digits) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(digits) << v;
    return s.str();
}

// Counter difference that never wraps when a counter went backwards (it
// cannot, but a reader must not print 1.8e19 if it ever did).
std::uint64_t delta(std::uint64_t now, std::uint64_t before) noexcept {
    return now >= before ? now - before : 0;
}

std::string isolation_text(const WorkerStats& w) {
    std::string out = w.isolation_backend.empty() ? "none" : w.isolation_backend;
    out += "/" + std::string(isolation::to_string(w.isolation_state));
    out += " " + std::to_string(w.breaks) + (w.breaks == 1 ? " break" : " breaks");
    return out;
}

// Columns padded to their widest cell: the first left-aligned, figures
// right-aligned; with `free_last` the last column (a list) is not padded.
void print_rows(const std::vector<std::vector<std::string>>& rows, bool free_last,
                std::ostream& out) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        widths.resize(std::max(widths.size(), row.size()), 0);
        for (std::size_t i = 0; i < row.size(); ++i) {
            widths[i] = std::max(widths[i], row[i].size());
        }
    }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            std::ostringstream cell;
            if (free_last && i + 1 == row.size()) {
                cell << row[i];
            } else if (i == 0) {
                cell << std::left << std::setw(static_cast<int>(widths[i])) << row[i];
            } else {
                cell << std::right << std::setw(static_cast<int>(widths[i])) << row[i];
            }
            line += (i ? "  " : "") + cell.str();
        }
        out << line << "\n";
    }
}

}  // namespace

double mpps(std::uint64_t transmitted, double elapsed_s) noexcept {
    return elapsed_s > 0 ? static_cast<double>(transmitted) / elapsed_s / 1e6 : 0.0;
}

bool accounting_ok(const FwdStats& stats) noexcept {
    for (const WorkerStats& w : stats.workers) {
        if (!identity_holds(w.packets)) {
            return false;
        }
    }
    return identity_holds(stats.totals());
}

bool mbufs_all_returned(const FwdStats& stats) noexcept {
    return std::all_of(stats.pools.begin(), stats.pools.end(),
                       [](const dataplane::PoolStats& p) { return p.available == p.size; });
}

int stop_exit_code(const FwdStats& stats) noexcept {
    return accounting_ok(stats) && mbufs_all_returned(stats) ? kExitOk : kExitAccounting;
}

nlohmann::json summary_json(const FwdStats& stats, const RunInfo& run) {
    nlohmann::json ports = nlohmann::json::array();
    for (const dataplane::PortStats& p : stats.ports) {
        ports.push_back({{"id", p.id},
                         {"name", p.name},
                         {"numa", p.numa},
                         {"rx", p.rx},
                         {"tx", p.tx},
                         {"imissed", p.imissed},
                         {"ierrors", p.ierrors},
                         {"oerrors", p.oerrors},
                         {"rx_nombuf", p.rx_nombuf}});
    }
    nlohmann::json workers = nlohmann::json::array();
    for (const WorkerStats& w : stats.workers) {
        workers.push_back({{"cpu", w.cpu},
                           {"lcore", w.lcore},
                           {"received", w.packets.received},
                           {"transmitted", w.packets.forwarded},
                           {"dropped", drops_json(w.packets)},
                           {"iterations", w.iterations},
                           {"mpps", mpps(w.packets.forwarded, stats.elapsed_s)},
                           {"latency_ns",
                            {{"count", w.latency.count},
                             {"p50", w.latency.p50_ns},
                             {"p99", w.latency.p99_ns},
                             {"p999", w.latency.p999_ns},
                             {"max", w.latency.max_ns}}},
                           {"isolation",
                            {{"backend", w.isolation_backend},
                             {"state", std::string(isolation::to_string(w.isolation_state))},
                             {"breaks", w.breaks},
                             {"last_break", w.last_break},
                             {"error", w.isolation_error}}}});
    }
    const BurstCounters totals = stats.totals();
    nlohmann::json pools = nlohmann::json::array();
    for (const dataplane::PoolStats& p : stats.pools) {
        pools.push_back({{"numa", p.numa}, {"size", p.size}, {"available", p.available}});
    }
    return {{"tool", "qc-fwd"},
            {"mode", std::string(to_string(run.mode))},
            {"burst", run.burst},
            {"elapsed_s", stats.elapsed_s},
            {"stop_reason", run.stop_reason},
            {"ports", ports},
            {"workers", workers},
            {"totals",
             {{"received", totals.received},
              {"transmitted", totals.forwarded},
              {"dropped", totals.dropped()},
              {"dropped_by_reason", drops_json(totals)},
              {"mpps", mpps(totals.forwarded, stats.elapsed_s)},
              {"accounting_ok", accounting_ok(stats)}}},
            {"mbufs", pools},
            {"mbufs_all_returned", mbufs_all_returned(stats)},
            {"routes",
             {{"version", stats.routes.version},
              {"count", stats.routes.count},
              {"updates", stats.routes.updates}}}};
}

std::string summary_table(const FwdStats& stats, const RunInfo& run) {
    std::ostringstream out;
    out << "qc-fwd summary: mode " << to_string(run.mode) << ", burst " << run.burst << ", "
        << fixed(stats.elapsed_s, 3) << " s"
        << (run.stop_reason.empty() ? "" : ", stopped by " + run.stop_reason) << "\n";

    std::vector<std::vector<std::string>> rows{{"cpu", "lcore", "Mpps", "received", "transmitted",
                                                "p50 ns", "p99 ns", "p99.9 ns", "max ns",
                                                "isolation", "dropped by reason"}};
    for (const WorkerStats& w : stats.workers) {
        const bool measured = w.latency.count > 0;
        auto ns = [measured](std::uint64_t v) { return measured ? std::to_string(v) : "-"; };
        rows.push_back({std::to_string(w.cpu), std::to_string(w.lcore),
                        fixed(mpps(w.packets.forwarded, stats.elapsed_s), 3),
                        std::to_string(w.packets.received), std::to_string(w.packets.forwarded),
                        ns(w.latency.p50_ns), ns(w.latency.p99_ns), ns(w.latency.p999_ns),
                        ns(w.latency.max_ns), isolation_text(w), drops_text(w.packets)});
    }
    print_rows(rows, true, out);
    for (const WorkerStats& w : stats.workers) {
        if (!w.last_break.empty()) {
            out << "  cpu " << w.cpu << " last break: " << w.last_break << "\n";
        }
        if (!w.isolation_error.empty()) {
            out << "  cpu " << w.cpu << " isolation error: " << w.isolation_error << "\n";
        }
    }

    if (!stats.ports.empty()) {
        std::vector<std::vector<std::string>> port_rows{
            {"port", "name", "numa", "rx", "tx", "imissed", "ierrors", "oerrors", "rx_nombuf"}};
        for (const dataplane::PortStats& p : stats.ports) {
            port_rows.push_back({std::to_string(p.id), p.name, std::to_string(p.numa),
                                 std::to_string(p.rx), std::to_string(p.tx),
                                 std::to_string(p.imissed), std::to_string(p.ierrors),
                                 std::to_string(p.oerrors), std::to_string(p.rx_nombuf)});
        }
        print_rows(port_rows, false, out);
    }
    for (const dataplane::PoolStats& p : stats.pools) {
        out << "mbufs numa " << p.numa << ": " << p.available << "/" << p.size << " available"
            << (p.available == p.size ? "" : " (NOT ALL RETURNED)") << "\n";
    }
    out << "routes: " << stats.routes.count << " (version " << stats.routes.version << ", "
        << stats.routes.updates << " updates)\n";

    const BurstCounters t = stats.totals();
    out << "total: " << fixed(mpps(t.forwarded, stats.elapsed_s), 3) << " Mpps; received "
        << t.received << " = transmitted " << t.forwarded << " + dropped " << t.dropped() << " ("
        << drops_text(t) << "): " << (accounting_ok(stats) ? "accounting ok" : "ACCOUNTING BROKEN")
        << "\n";
    return out.str();
}

std::string stats_line(const FwdStats& previous, const FwdStats& current) {
    const BurstCounters before = previous.totals();
    const BurstCounters now = current.totals();
    const double interval = current.elapsed_s - previous.elapsed_s;
    BurstCounters diff;
    for (std::size_t i = 0; i < kDropReasonCount; ++i) {
        diff.drops[i] = delta(now.drops[i], before.drops[i]);
    }
    std::ostringstream out;
    out << "[" << fixed(current.elapsed_s, 1) << " s] rx "
        << fixed(mpps(delta(now.received, before.received), interval), 3) << " Mpps, tx "
        << fixed(mpps(delta(now.forwarded, before.forwarded), interval), 3) << " Mpps, drops "
        << diff.dropped();
    if (diff.dropped() != 0) {
        out << " (" << drops_text(diff) << ")";
    }
    out << " |";
    for (const WorkerStats& w : current.workers) {
        out << " cpu" << w.cpu << " " << isolation::to_string(w.isolation_state);
        if (w.breaks != 0) {
            out << "(" << w.breaks << (w.breaks == 1 ? " break)" : " breaks)");
        }
    }
    return out.str();
}

}  // namespace qc::fwd
