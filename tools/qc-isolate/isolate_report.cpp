#include "isolate_report.hpp"

#include <algorithm>
#include <iomanip>

namespace qc::isolate {

namespace {

void print_counts(std::ostream& out, const std::string& title,
                  const std::map<std::string, std::uint64_t>& startup,
                  const std::map<std::string, std::uint64_t>& steady) {
    out << title << "\n";
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> rows;
    for (const auto& [name, n] : startup) {
        rows[name].first = n;
    }
    for (const auto& [name, n] : steady) {
        rows[name].second = n;
    }
    if (rows.empty()) {
        out << "  (none)\n";
        return;
    }
    out << "  " << std::left << std::setw(28) << "" << std::right << std::setw(10) << "start-up"
        << std::setw(10) << "steady"
        << "\n";
    for (const auto& [name, n] : rows) {
        out << "  " << std::left << std::setw(28) << name << std::right << std::setw(10) << n.first
            << std::setw(10) << n.second << "\n";
    }
}

std::map<std::string, std::uint64_t> other_entries(const EntryCounts& c) {
    return {{"involuntary context switches", c.preemptions},
            {"migrations", c.migrations},
            {"affinity changes", c.affinity_changes}};
}

nlohmann::json counts_json(const EntryCounts& c) {
    return {{"syscalls", c.syscalls},
            {"involuntary_context_switches", c.preemptions},
            {"migrations", c.migrations},
            {"affinity_changes", c.affinity_changes},
            {"interrupts", c.interrupts}};
}

}  // namespace

void print_text(const Report& r, std::ostream& out) {
    out << "qc-isolate: ";
    for (const auto& a : r.command) {
        out << a << (&a == &r.command.back() ? "" : " ");
    }
    out << "\n  on CPU " << r.cpu << ", soft isolation, strict=" << r.strict
        << (r.oneshot ? ", oneshot" : "") << ", start-up window " << r.settle_ms << " ms, ran "
        << std::fixed << std::setprecision(1) << r.duration_ms << " ms, ";
    if (r.exit_code) {
        out << "exited with status " << *r.exit_code << "\n";
    } else if (r.term_signal) {
        out << "killed by signal " << *r.term_signal << "\n";
    }
    print_counts(out, "syscalls:", r.startup.syscalls, r.steady.syscalls);
    print_counts(out, "other kernel entries of the command:", other_entries(r.startup),
                 other_entries(r.steady));
    print_counts(out,
                 "interrupts on CPU " + std::to_string(r.cpu) +
                     (r.irq_breaks ? " (break isolation: nohz_full CPU)"
                                   : " (reported only: not a nohz_full CPU, the tick always runs)"),
                 r.startup.interrupts, r.steady.interrupts);
    if (r.first_break) {
        out << "isolation broken at +" << r.first_break->at_ms << " ms by " << r.first_break->cause
            << (r.first_break->detail.empty() ? "" : " (" + r.first_break->detail + ")") << "\n";
    } else {
        out << "isolation never broken\n";
    }
    if (r.supervisor.stale + r.supervisor.send_enoent > 0) {
        out << "notifications whose thread was gone before the answer: "
            << r.supervisor.stale + r.supervisor.send_enoent << "\n";
    }
}

nlohmann::json to_json(const Report& r) {
    nlohmann::json j;
    j["command"] = r.command;
    j["cpu"] = r.cpu;
    j["backend"] = "soft";
    j["strict"] = r.strict;
    j["oneshot"] = r.oneshot;
    j["settle_ms"] = r.settle_ms;
    j["irq_breaks_isolation"] = r.irq_breaks;
    j["duration_ms"] = r.duration_ms;
    j["exit"] = {
        {"status", r.status},
        {"code", r.exit_code ? nlohmann::json(*r.exit_code) : nlohmann::json(nullptr)},
        {"signal", r.term_signal ? nlohmann::json(*r.term_signal) : nlohmann::json(nullptr)}};
    j["startup"] = counts_json(r.startup);
    j["steady"] = counts_json(r.steady);
    j["first_break"] = r.first_break ? nlohmann::json{{"cause", r.first_break->cause},
                                                      {"detail", r.first_break->detail},
                                                      {"at_ms", r.first_break->at_ms}}
                                     : nlohmann::json(nullptr);
    j["processes"] = r.processes;
    j["supervisor"] = {{"notifications", r.supervisor.notifications},
                       {"continued", r.supervisor.continued},
                       {"stale", r.supervisor.stale},
                       {"send_enoent", r.supervisor.send_enoent},
                       {"errors", r.supervisor.errors}};
    return j;
}

}  // namespace qc::isolate
