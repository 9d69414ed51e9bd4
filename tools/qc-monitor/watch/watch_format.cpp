#include "watch/watch_format.hpp"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

namespace qc::monitor {

namespace {

// "12:00:01.250" in local time.
std::string local_clock(double wall_seconds) {
    const auto whole = static_cast<time_t>(std::floor(wall_seconds));
    const int millis = static_cast<int>((wall_seconds - std::floor(wall_seconds)) * 1000) % 1000;
    struct tm tm {};
    localtime_r(&whole, &tm);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    return buf;
}

std::string fixed(double value, int decimals) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    return buf;
}

// "LOC 1002", "24(ttyS0) 3": the device name is the description's last word.
std::string short_kind(const KindCount& k) {
    std::string name = k.kind;
    if (!k.description.empty() && !k.kind.empty() &&
        std::isdigit(static_cast<unsigned char>(k.kind[0]))) {
        const auto space = k.description.rfind(' ');
        name += "(" + k.description.substr(space == std::string::npos ? 0 : space + 1) + ")";
    }
    return name + " " + std::to_string(k.count);
}

nlohmann::json kinds_json(const std::vector<KindCount>& kinds, bool with_description) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& k : kinds) {
        nlohmann::json entry{{"count", k.count}, {"rate", k.rate}};
        if (with_description) {
            entry["description"] = k.description;
        }
        out[k.kind] = std::move(entry);
    }
    return out;
}

}  // namespace

std::string utc_timestamp(double wall_seconds) {
    const auto whole = static_cast<time_t>(std::floor(wall_seconds));
    const int millis = static_cast<int>((wall_seconds - std::floor(wall_seconds)) * 1000) % 1000;
    struct tm tm {};
    gmtime_r(&whole, &tm);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
    return buf;
}

nlohmann::json break_json(const IsolationBreak& b) {
    nlohmann::json j{{"time", utc_timestamp(b.wall_seconds)},
                     {"timestamp", b.wall_seconds},
                     {"cpu", b.cpu},
                     {"source", std::string(to_string(b.source))},
                     {"kind", b.kind},
                     {"count", b.count}};
    if (b.source == BreakSource::kernel) {
        j["pid"] = b.pid;
        j["tid"] = b.tid;
        j["comm"] = b.comm;
    } else {
        j["allowed"] = b.allowed;
        if (!b.description.empty()) {
            j["description"] = b.description;
        }
    }
    return j;
}

nlohmann::json interval_json(const IntervalReport& report, const core::CpuSet& isolated) {
    nlohmann::json cpus = nlohmann::json::array();
    for (const auto& c : report.cpus) {
        if (!isolated.contains(c.cpu)) {
            continue;
        }
        nlohmann::json switches = nullptr;
        if (c.context_switches) {
            switches = {{"count", *c.context_switches}, {"rate", c.context_switch_rate}};
        }
        cpus.push_back({{"cpu", c.cpu},
                        {"interrupts", kinds_json(c.interrupts, true)},
                        {"softirqs", kinds_json(c.softirqs, false)},
                        {"interrupts_total", c.interrupts_total},
                        {"softirqs_total", c.softirqs_total},
                        {"context_switches", switches}});
    }
    nlohmann::json breaks = nlohmann::json::array();
    for (const auto& b : report.breaks) {
        breaks.push_back(break_json(b));
    }
    nlohmann::json threads = nlohmann::json::array();
    for (const auto& t : report.threads) {
        nlohmann::json causes = nlohmann::json::object();
        for (const auto& [cause, n] : t.new_breaks) {
            causes[cause] = n;
        }
        threads.push_back({{"pid", t.pid},
                           {"tid", t.tid},
                           {"comm", t.comm},
                           {"cpu", t.cpu},
                           {"isolated", t.isolated},
                           {"breaks", t.breaks},
                           {"new_breaks", causes}});
    }
    return {{"time", utc_timestamp(report.wall_seconds)},
            {"timestamp", report.wall_seconds},
            {"interval_seconds", report.seconds},
            {"isolated", isolated.to_list()},
            {"context_switch_source", std::string(to_string(report.switch_source))},
            {"cpus", cpus},
            {"breaks", breaks},
            {"threads", threads},
            {"notices", report.notices}};
}

std::string break_line(const IsolationBreak& b, double seconds) {
    std::string line = "BREAK " + local_clock(b.wall_seconds) + " cpu " + std::to_string(b.cpu) +
                       " " + std::string(to_string(b.source)) + " " + b.kind + ": " +
                       std::to_string(b.count);
    if (b.source == BreakSource::kernel) {
        return line + " (thread " + std::to_string(b.tid) + " " + b.comm + ", pid " +
               std::to_string(b.pid) + ")";
    }
    line += " in " + fixed(seconds, 2) + " s (allowed " + std::to_string(b.allowed);
    if (!b.description.empty()) {
        line += "; " + b.description;
    }
    return line + ")";
}

void write_table_header(std::ostream& out) {
    out << "time          cpu      irq/s  softirq/s    ctxsw/s  moved\n";
}

void write_table(std::ostream& out, const IntervalReport& report, const core::CpuSet& isolated) {
    char buf[128];
    for (const auto& c : report.cpus) {
        if (!isolated.contains(c.cpu)) {
            continue;
        }
        const double secs = report.seconds > 0 ? report.seconds : 1.0;
        const std::string switches =
            c.context_switches ? fixed(c.context_switch_rate, 1) : std::string("-");
        std::snprintf(
            buf, sizeof buf, "%-12s %4u %10s %10s %10s  ", local_clock(report.wall_seconds).c_str(),
            c.cpu, fixed(static_cast<double>(c.interrupts_total) / secs, 1).c_str(),
            fixed(static_cast<double>(c.softirqs_total) / secs, 1).c_str(), switches.c_str());
        out << buf;
        // The kinds that moved, most first.
        std::vector<KindCount> moved = c.interrupts;
        moved.insert(moved.end(), c.softirqs.begin(), c.softirqs.end());
        std::stable_sort(moved.begin(), moved.end(),
                         [](const KindCount& x, const KindCount& y) { return x.count > y.count; });
        if (moved.empty()) {
            out << "-";
        }
        for (std::size_t i = 0; i < moved.size(); ++i) {
            out << (i > 0 ? ", " : "") << short_kind(moved[i]);
        }
        out << '\n';
    }
    for (const auto& b : report.breaks) {
        out << break_line(b, report.seconds) << '\n';
    }
    for (const auto& n : report.notices) {
        out << "NOTE " << n << '\n';
    }
}

}  // namespace qc::monitor
