#include "jitter_report.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "isolation_session.hpp"

namespace qc::jitter {

namespace {

nlohmann::json cpu_json(const CpuResult& r) {
    const JitterSummary& s = r.summary;
    nlohmann::json records = nlohmann::json::array();
    for (const GapRecord& g : s.records) {
        records.push_back({{"start_ns", g.start_ns}, {"length_ns", g.length_ns}});
    }
    nlohmann::json attribution = {
        {"interrupts", r.attribution.interrupts},
        {"softirqs", r.attribution.softirqs},
        {"involuntary_ctxt_switches", r.attribution.involuntary_ctxt_switches}};
    if (r.attribution.isolation_breaks) {
        attribution["isolation_breaks"] = *r.attribution.isolation_breaks;
    }
    return {
        {"cpu", r.cpu},
        {"loops", s.loops},
        {"loop_cost_ns", s.loop_cost_ns},
        {"min_ns", s.min_ns},
        {"mean_ns", s.mean_ns},
        {"p50_ns", s.p50_ns},
        {"p99_ns", s.p99_ns},
        {"p999_ns", s.p999_ns},
        {"p9999_ns", s.p9999_ns},
        {"max_ns", s.max_ns},
        {"interruptions", s.interruptions},
        {"interruptions_per_s", s.interruptions_per_s},
        {"stolen_ns", s.stolen_ns},
        {"stolen_pct", s.stolen_pct},
        {"records", records},
        {"records_dropped", s.records_dropped},
        {"histogram",
         {{"bucket_width_ns", s.bucket_width_ns}, {"counts", s.counts}, {"overflow", s.overflow}}},
        {"attribution", attribution}};
}

// "LOC:5012 TIMER:5000 ..." largest first, at most `n`.
std::string top_sources(const CpuAttribution& a, std::size_t n) {
    std::vector<std::pair<std::uint64_t, std::string>> all;
    for (const auto& [name, count] : a.interrupts) {
        all.emplace_back(count, name);
    }
    for (const auto& [name, count] : a.softirqs) {
        all.emplace_back(count, "softirq " + name);
    }
    if (a.involuntary_ctxt_switches > 0) {
        all.emplace_back(a.involuntary_ctxt_switches, "preempted");
    }
    std::sort(all.begin(), all.end(),
              [](const auto& x, const auto& y) { return x.first > y.first; });
    std::string out;
    for (std::size_t i = 0; i < all.size() && i < n; ++i) {
        out += (i ? ", " : "") + all[i].second + ":" + std::to_string(all[i].first);
    }
    return out.empty() ? "-" : out;
}

std::string fixed(double v, int digits) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(digits) << v;
    return s.str();
}

}  // namespace

nlohmann::json to_json(const Options& options, const RunResult& result) {
    nlohmann::json cpus = nlohmann::json::array();
    for (const CpuResult& r : result.cpus) {
        cpus.push_back(cpu_json(r));
    }
    nlohmann::json out = {{"tool", "qc-jitter"},
                          {"schema", 1},
                          {"duration_s", options.duration_s},
                          {"start_monotonic_ns", result.start_monotonic_ns},
                          {"threshold_ns", options.jitter.threshold_ns},
                          {"counter",
                           {{"name", std::string(core::CycleCounter::name())},
                            {"hz", result.calibration.hz()},
                            {"calibration_error", result.calibration.relative_error}}},
                          {"cpus", cpus}};
    if (!result.isolation_backend.empty()) {
        out["isolation_backend"] = result.isolation_backend;
    }
    return out;
}

void print_table(const Options& options, const RunResult& result, std::ostream& out) {
    out << "qc-jitter: " << options.duration_s << " s, threshold " << options.jitter.threshold_ns
        << " ns, counter " << core::CycleCounter::name() << " at "
        << fixed(result.calibration.hz() / 1e6, 3) << " MHz\n";
    std::vector<std::pair<std::string, std::vector<std::string>>> rows;
    auto row = [&](std::string label, auto cell) {
        std::vector<std::string> cells;
        for (const CpuResult& r : result.cpus) {
            cells.push_back(cell(r));
        }
        rows.emplace_back(std::move(label), std::move(cells));
    };
    auto ns = [](std::uint64_t v) { return std::to_string(v); };
    row("CPU", [](const CpuResult& r) { return std::to_string(r.cpu); });
    row("loops", [&](const CpuResult& r) { return ns(r.summary.loops); });
    row("loop cost (ns)", [&](const CpuResult& r) { return ns(r.summary.loop_cost_ns); });
    row("min (ns)", [&](const CpuResult& r) { return ns(r.summary.min_ns); });
    row("mean (ns)", [](const CpuResult& r) { return fixed(r.summary.mean_ns, 1); });
    row("p50 (ns)", [&](const CpuResult& r) { return ns(r.summary.p50_ns); });
    row("p99 (ns)", [&](const CpuResult& r) { return ns(r.summary.p99_ns); });
    row("p99.9 (ns)", [&](const CpuResult& r) { return ns(r.summary.p999_ns); });
    row("p99.99 (ns)", [&](const CpuResult& r) { return ns(r.summary.p9999_ns); });
    row("max (ns)", [&](const CpuResult& r) { return ns(r.summary.max_ns); });
    row("interruptions", [&](const CpuResult& r) { return ns(r.summary.interruptions); });
    row("interruptions/s",
        [](const CpuResult& r) { return fixed(r.summary.interruptions_per_s, 1); });
    row("stolen (%)", [](const CpuResult& r) { return fixed(r.summary.stolen_pct, 4); });
    row("records (dropped)", [](const CpuResult& r) {
        return std::to_string(r.summary.records.size()) + " (" +
               std::to_string(r.summary.records_dropped) + ")";
    });
    if (options.isolate) {
        row("isolation breaks", [](const CpuResult& r) {
            std::string out;
            for (const auto& [cause, n] : r.attribution.isolation_breaks.value_or(BreakCounts{})) {
                out += (out.empty() ? "" : ", ") + cause + ":" + std::to_string(n);
            }
            return out.empty() ? std::string("-") : out;
        });
    }
    row("top sources", [](const CpuResult& r) { return top_sources(r.attribution, 4); });

    std::size_t label_width = 0;
    std::vector<std::size_t> widths(result.cpus.size(), 0);
    for (const auto& [label, cells] : rows) {
        label_width = std::max(label_width, label.size());
        for (std::size_t i = 0; i < cells.size(); ++i) {
            widths[i] = std::max(widths[i], cells[i].size());
        }
    }
    for (const auto& [label, cells] : rows) {
        out << std::left << std::setw(static_cast<int>(label_width)) << label;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            out << "  " << std::right << std::setw(static_cast<int>(widths[i])) << cells[i];
        }
        out << "\n";
    }
}

}  // namespace qc::jitter
