#include "watch/interval_report.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "quietcore/isolation/break_record.hpp"

namespace qc::monitor {

namespace {

constexpr std::uint64_t k32 = std::uint64_t{1} << 32;

std::string describe_delta(std::string_view file, std::string_view kind, unsigned cpu,
                           std::uint64_t before, std::uint64_t after, const CounterDelta& d) {
    std::string text = std::string(file) + " " + std::string(kind) + " on CPU " +
                       std::to_string(cpu) + " went back from " + std::to_string(before) + " to " +
                       std::to_string(after) + ": ";
    if (d.kind == CounterDelta::Kind::wrap32) {
        return text + "counted as a 32-bit wrap (" + std::to_string(d.count) + ")";
    }
    return text + "counted as a reset (" + std::to_string(d.count) + " since)";
}

// Deltas of one table (interrupts or softirqs) into the CPUs' lists, and the
// breaks of the isolated CPUs.
void table_deltas(std::string_view file, const isolation::InterruptTable& before,
                  const isolation::InterruptTable& after, bool softirqs,
                  const core::CpuSet& isolated, const BreakPolicy& policy,
                  std::map<unsigned, CpuInterval>& cpus, IntervalReport& report) {
    if (before.cpus.empty() || after.cpus.empty()) {
        return;  // the file is missing from one reading
    }
    std::map<std::string_view, const isolation::InterruptRow*> old_rows;
    for (const auto& row : before.rows) {
        if (row.counts.size() == before.cpus.size()) {
            old_rows.emplace(row.name, &row);
        }
    }
    const std::uint64_t allowed = tick_allowance(report.seconds, policy);
    std::map<std::string_view, bool> seen;
    for (const auto& row : after.rows) {
        if (row.counts.size() != after.cpus.size()) {
            continue;  // ERR, MIS: no per-CPU columns
        }
        seen[row.name] = true;
        const auto old = old_rows.find(row.name);
        const isolation::InterruptRow* prev = old == old_rows.end() ? nullptr : old->second;
        if (prev == nullptr) {
            report.notices.push_back(std::string(file) + ": " + row.name +
                                     " appeared; all its counts are new");
        }
        const KindClass kind_class =
            softirqs ? classify_softirq(row.name) : classify_interrupt(row);
        for (std::size_t col = 0; col < after.cpus.size(); ++col) {
            const unsigned cpu = after.cpus[col];
            const auto it = cpus.find(cpu);
            if (it == cpus.end()) {
                continue;  // not in both readings
            }
            const std::uint64_t now = row.counts[col];
            CounterDelta d{now, CounterDelta::Kind::normal};
            if (prev != nullptr) {
                const auto old_col = before.column_of(cpu);
                const std::uint64_t then = prev->counts[*old_col];
                d = counter_delta(then, now);
                if (d.kind != CounterDelta::Kind::normal) {
                    report.notices.push_back(describe_delta(file, row.name, cpu, then, now, d));
                }
            }
            if (d.count == 0) {
                continue;
            }
            CpuInterval& ci = it->second;
            const double rate =
                report.seconds > 0 ? static_cast<double>(d.count) / report.seconds : 0.0;
            KindCount kc{row.name, softirqs ? std::string() : row.description, d.count, rate};
            (softirqs ? ci.softirqs : ci.interrupts).push_back(kc);
            (softirqs ? ci.softirqs_total : ci.interrupts_total) += d.count;
            if (!isolated.contains(cpu) || kind_class == KindClass::not_interrupt) {
                continue;
            }
            const std::uint64_t limit = kind_class == KindClass::tick ? allowed : 0;
            if (d.count > limit) {
                IsolationBreak b;
                b.wall_seconds = report.wall_seconds;
                b.cpu = static_cast<int>(cpu);
                b.source = softirqs ? BreakSource::softirq : BreakSource::interrupt;
                b.kind = row.name;
                b.description = kc.description;
                b.count = d.count;
                b.allowed = limit;
                report.breaks.push_back(std::move(b));
            }
        }
    }
    for (const auto& [name, row] : old_rows) {
        if (!seen.contains(name)) {
            report.notices.push_back(std::string(file) + ": " + std::string(name) + " is gone");
        }
    }
}

void context_switches(const CounterSnapshot& before, const CounterSnapshot& after,
                      std::map<unsigned, CpuInterval>& cpus, IntervalReport& report) {
    if (before.switch_source != after.switch_source) {
        report.notices.push_back("context switch source changed from " +
                                 std::string(to_string(before.switch_source)) + " to " +
                                 std::string(to_string(after.switch_source)) +
                                 ": no context switch counts this interval");
        return;
    }
    if (after.switch_source == SwitchSource::schedstat) {
        for (auto& [cpu, ci] : cpus) {
            const auto b = before.schedstat_switches.find(cpu);
            const auto a = after.schedstat_switches.find(cpu);
            if (b == before.schedstat_switches.end() || a == after.schedstat_switches.end()) {
                continue;
            }
            const CounterDelta d = counter_delta(b->second, a->second);
            if (d.kind != CounterDelta::Kind::normal) {
                report.notices.push_back(
                    describe_delta("/proc/schedstat", "sched_count", cpu, b->second, a->second, d));
            }
            ci.context_switches = d.count;
        }
    } else {
        for (auto& [cpu, ci] : cpus) {
            ci.context_switches = 0;
        }
        for (const auto& [tid, t] : after.threads) {
            const auto old = before.threads.find(tid);
            if (old == before.threads.end() || old->second.pid != t.pid ||
                !old->second.context_switches || !t.context_switches || t.last_cpu < 0) {
                continue;
            }
            const auto it = cpus.find(static_cast<unsigned>(t.last_cpu));
            // A smaller count is a reused thread id: not counted.
            if (it != cpus.end() && *t.context_switches > *old->second.context_switches) {
                *it->second.context_switches += *t.context_switches - *old->second.context_switches;
            }
        }
    }
    for (auto& [cpu, ci] : cpus) {
        if (ci.context_switches && report.seconds > 0) {
            ci.context_switch_rate = static_cast<double>(*ci.context_switches) / report.seconds;
        }
    }
}

void kernel_breaks(const CounterSnapshot& before, const CounterSnapshot& after,
                   IntervalReport& report) {
    for (const auto& [tid, t] : after.threads) {
        if (!t.task_isolation) {
            continue;
        }
        const auto& now = *t.task_isolation;
        const auto old = before.threads.find(tid);
        const isolation::KernelTaskStatus* prev =
            old != before.threads.end() && old->second.pid == t.pid && old->second.task_isolation
                ? &*old->second.task_isolation
                : nullptr;
        ThreadIsolation ti{t.pid, t.tid, t.comm, t.last_cpu, now.isolated, now.breaks, {}};
        std::uint64_t by_cause = 0;
        const auto add = [&](std::string cause, std::uint64_t count) {
            ti.new_breaks.emplace_back(cause, count);
            IsolationBreak b;
            b.wall_seconds = report.wall_seconds;
            b.cpu = t.last_cpu;
            b.source = BreakSource::kernel;
            b.kind = std::move(cause);
            b.count = count;
            b.pid = t.pid;
            b.tid = t.tid;
            b.comm = t.comm;
            report.breaks.push_back(std::move(b));
        };
        for (std::size_t i = 1; i < isolation::kBreakCauseCount; ++i) {
            const auto cause = static_cast<isolation::BreakCause>(i);
            const std::uint64_t then = prev != nullptr ? prev->breaks_of(cause) : 0;
            const CounterDelta d = counter_delta(then, now.breaks_of(cause));
            if (d.count > 0) {
                by_cause += d.count;
                add(std::string(isolation::to_string(cause)), d.count);
            }
        }
        // The total grew by more than its causes: a cause this build does not know.
        const CounterDelta total = counter_delta(prev != nullptr ? prev->breaks : 0, now.breaks);
        if (total.kind == CounterDelta::Kind::normal && total.count > by_cause) {
            add("unknown", total.count - by_cause);
        }
        if (ti.isolated || ti.breaks > 0 || !ti.new_breaks.empty()) {
            report.threads.push_back(std::move(ti));
        }
    }
}

}  // namespace

CounterDelta counter_delta(std::uint64_t before, std::uint64_t after) noexcept {
    if (after >= before) {
        return {after - before, CounterDelta::Kind::normal};
    }
    if (before < k32) {
        const std::uint64_t wrapped = k32 - before + after;
        if (wrapped < (k32 >> 1)) {
            return {wrapped, CounterDelta::Kind::wrap32};
        }
    }
    return {after, CounterDelta::Kind::reset};
}

KindClass classify_interrupt(const isolation::InterruptRow& row) noexcept {
    if (row.name == "LOC" || row.description.find("arch_timer") != std::string::npos) {
        return KindClass::tick;
    }
    if (row.name == "RTR") {
        return KindClass::not_interrupt;
    }
    return KindClass::other;
}

KindClass classify_softirq(std::string_view name) noexcept {
    if (name == "TIMER" || name == "HRTIMER" || name == "RCU" || name == "SCHED") {
        return KindClass::tick;
    }
    return KindClass::other;
}

std::uint64_t tick_allowance(double seconds, const BreakPolicy& policy) noexcept {
    const double n = std::round(seconds * policy.tick_per_second);
    return n < 1 ? 1 : static_cast<std::uint64_t>(n);
}

std::string_view to_string(BreakSource source) noexcept {
    switch (source) {
        case BreakSource::interrupt:
            return "interrupt";
        case BreakSource::softirq:
            return "softirq";
        case BreakSource::kernel:
            return "kernel";
    }
    return "interrupt";
}

const CpuInterval* IntervalReport::cpu(unsigned n) const {
    for (const auto& c : cpus) {
        if (c.cpu == n) {
            return &c;
        }
    }
    return nullptr;
}

IntervalReport compute_interval(const CounterSnapshot& before, const CounterSnapshot& after,
                                const core::CpuSet& isolated, const BreakPolicy& policy) {
    IntervalReport report;
    report.seconds = std::max(0.0, after.monotonic_seconds - before.monotonic_seconds);
    report.wall_seconds = after.wall_seconds;
    report.switch_source = after.switch_source;

    std::map<unsigned, CpuInterval> cpus;
    const auto& b = before.interrupts.cpus;
    const auto& a = after.interrupts.cpus;
    for (unsigned cpu : a) {
        if (std::find(b.begin(), b.end(), cpu) != b.end()) {
            cpus.emplace(cpu, CpuInterval{cpu, isolated.contains(cpu), {}, {}, 0, 0, {}, 0});
        } else {
            report.notices.push_back("CPU " + std::to_string(cpu) +
                                     " joined /proc/interrupts (online again?); its rates start "
                                     "next interval");
        }
    }
    for (unsigned cpu : b) {
        if (std::find(a.begin(), a.end(), cpu) == a.end()) {
            report.notices.push_back("CPU " + std::to_string(cpu) +
                                     " left /proc/interrupts (offline?)" +
                                     (isolated.contains(cpu) ? "; it is an isolated CPU" : ""));
        }
    }
    table_deltas("/proc/interrupts", before.interrupts, after.interrupts, false, isolated, policy,
                 cpus, report);
    table_deltas("/proc/softirqs", before.softirqs, after.softirqs, true, isolated, policy, cpus,
                 report);
    context_switches(before, after, cpus, report);
    kernel_breaks(before, after, report);
    for (auto& [cpu, ci] : cpus) {
        report.cpus.push_back(std::move(ci));
    }
    // Counter breaks by CPU (interrupts before softirqs), then the kernel's.
    std::stable_sort(report.breaks.begin(), report.breaks.end(),
                     [](const IsolationBreak& x, const IsolationBreak& y) {
                         const bool xk = x.source == BreakSource::kernel;
                         const bool yk = y.source == BreakSource::kernel;
                         if (xk != yk) {
                             return yk;
                         }
                         return !xk && x.cpu < y.cpu;
                     });
    return report;
}

}  // namespace qc::monitor
