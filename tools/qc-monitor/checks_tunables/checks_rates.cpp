// What actually happened on the isolated CPUs during the sampling interval:
// the counters of /proc/interrupts, /proc/softirqs and /proc/stat read
// twice (ctx.sample). Settings say what should happen; these say what did.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "checks_tunables/checks_tunables.hpp"
#include "checks_tunables/tunables_common.hpp"
#include "checks_tunables/tunables_parse.hpp"
#include "quietcore/isolation/soft_proc_parse.hpp"

namespace qc::monitor::tunables {

namespace {

constexpr std::string_view kInterrupts = "/proc/interrupts";
constexpr std::string_view kSoftirqs = "/proc/softirqs";
constexpr std::string_view kStat = "/proc/stat";

// The local timer on a nohz_full CPU that runs one task: the tick is
// stopped and the residual 1 Hz scheduler tick is run remotely by a
// housekeeping CPU, so 0-1 per second. Up to 2/s is ok (a stray timer on
// top of a residual tick); above 50/s the periodic tick runs (HZ is 100 to
// 1000), below that timers keep firing there.
constexpr RateLimits kLocalTimerLimits{2.0, 50.0};
// Device IRQs, IPIs and softirqs on an isolated CPU: none is expected. One
// per second is tolerated (an occasional IPI), ten per second is a source
// that fires steadily there.
constexpr RateLimits kOtherIrqLimits{1.0, 10.0};
constexpr RateLimits kSoftirqLimits{1.0, 10.0};
// Shares of the interval in percent: kernel time (syscalls, faults, IRQs)
// and time stolen by the hypervisor. /proc/stat counts in USER_HZ (100)
// ticks, so one tick of a 1 s interval is already 1%.
constexpr double kKernelWarnPercent = 2.0;
constexpr double kKernelFailPercent = 10.0;
constexpr double kStealWarnPercent = 1.0;
constexpr double kStealFailPercent = 10.0;

// A counter file that cannot be compared: fail naming it.
CheckResult counter_file_result(Probe& probe, std::string_view path, const std::string& what,
                                bool cpu_missing) {
    probe.note(std::string(path), what);
    return check_fail(std::string(path) + " cannot be compared between its two readings: " + what,
                      probe.evidence(),
                      cpu_missing
                          ? std::string("keep the isolated CPUs online while checking (cat "
                                        "/sys/devices/system/cpu/online) and check again")
                          : std::string("read it again (`qc-monitor check` live, or a new "
                                        "`qc-monitor snapshot`): two readings of one running "
                                        "kernel never do this"));
}

std::optional<CheckResult> no_sample(const CheckContext& ctx, std::string_view path) {
    if (ctx.sample(path) == nullptr) {
        return check_skip("no second reading of " + std::string(path) +
                          " to compare (--interval 0, or a snapshot without qc-monitor/after" +
                          std::string(path) + ")");
    }
    return std::nullopt;
}

std::string seconds_phrase(double seconds) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", seconds);
    return buf;
}

// "no softirq on isolated CPUs 2-3 in 1.0 s", "at most 1 softirq per isolated
// CPU (CPUs 2-3) in 1.0 s".
std::string at_most(std::uint64_t most, const std::string& one, const std::string& many,
                    const core::CpuSet& cpus, double seconds) {
    if (most == 0) {
        return "no " + one + " on isolated " + cpus_phrase(cpus) + " in " + seconds_phrase(seconds);
    }
    return "at most " + std::to_string(most) + " " + (most == 1 ? one : many) +
           " per isolated CPU (" + cpus_phrase(cpus) + ") in " + seconds_phrase(seconds);
}

// The increases of every row on `cpus`, or why the file cannot be compared.
struct TableReading {
    TableIncreases table;
    std::optional<std::string> problem;  // spoils every row: a bad header, a vanished CPU
    bool cpu_missing = false;
};

TableReading read_table(const CounterSample& sample, const core::CpuSet& cpus) {
    TableReading reading;
    try {
        reading.table = interrupt_increases(isolation::parse_interrupts(sample.before),
                                            isolation::parse_interrupts(sample.after), cpus);
    } catch (const CounterError& e) {
        reading.problem = e.what();
        reading.cpu_missing = e.cpu_missing();
    } catch (const core::Error& e) {
        reading.problem = e.what();
    }
    return reading;
}

// The first row problem a check cares about, or the table-wide one.
template <typename Pred>
std::optional<std::string> problem_for(const TableReading& reading, Pred&& uses_row) {
    if (reading.problem) {
        return reading.problem;
    }
    for (const RowProblem& p : reading.table.problems) {
        if (uses_row(p.row, p.description)) {
            return p.message;
        }
    }
    return std::nullopt;
}

Verdict worst(Verdict a, Verdict b) {
    return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

// "CPU 2: +1, CPU 3: +0 in 1.0 s"
std::string per_cpu_counts(const std::map<unsigned, std::uint64_t>& counts, double seconds) {
    std::vector<std::string> parts;
    for (const auto& [cpu, count] : counts) {
        parts.push_back("CPU " + std::to_string(cpu) + ": +" + std::to_string(count));
    }
    return join(parts) + " in " + seconds_phrase(seconds);
}

struct Offender {
    unsigned cpu;
    std::string label;
    std::string row;
    std::uint64_t increase;
};

// The largest increases first, at most `limit` of them, as "CPU 3: IRQ 36 (nvme0q3) 412/s".
std::vector<std::string> top_offenders(std::vector<Offender> offenders, double seconds,
                                       std::size_t limit) {
    std::stable_sort(offenders.begin(), offenders.end(),
                     [](const Offender& a, const Offender& b) { return a.increase > b.increase; });
    std::vector<std::string> parts;
    for (std::size_t i = 0; i < offenders.size() && i < limit; ++i) {
        parts.push_back("CPU " + std::to_string(offenders[i].cpu) + ": " + offenders[i].label +
                        " " + format_rate(static_cast<double>(offenders[i].increase) / seconds));
    }
    return parts;
}

std::vector<Offender> on_cpus(const std::vector<Offender>& offenders, const core::CpuSet& cpus) {
    std::vector<Offender> kept;
    for (const Offender& o : offenders) {
        if (cpus.contains(o.cpu)) {
            kept.push_back(o);
        }
    }
    return kept;
}

bool is_number(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

CheckResult check_local_timer_rate(const CheckContext& ctx) {
    if (auto skip = isolated_cpus_unknown(ctx)) {
        return *skip;
    }
    if (auto skip = no_sample(ctx, kInterrupts)) {
        return *skip;
    }
    return guarded(ctx, [&](Probe& probe) {
        const CounterSample& sample = *ctx.sample(kInterrupts);
        const core::CpuSet cpus = checked_cpus(ctx);
        const TableReading reading = read_table(sample, cpus);
        if (const auto problem = problem_for(reading, is_local_timer_row)) {
            return counter_file_result(probe, kInterrupts, *problem, reading.cpu_missing);
        }
        std::map<unsigned, std::uint64_t> counts;
        bool found = false;
        for (const RowIncrease& row : reading.table.increases) {
            if (is_local_timer_row(row.row, row.description)) {
                found = true;
                counts[row.cpu] += row.increase;
            }
        }
        if (!found) {
            return check_skip("no local timer row (LOC or arch_timer) in " +
                              std::string(kInterrupts));
        }
        probe.note(std::string(kInterrupts),
                   "local timer, " + per_cpu_counts(counts, sample.seconds));
        Verdict verdict = Verdict::ok;
        std::vector<std::string> offenders;
        std::uint64_t most = 0;
        core::CpuSet noisy;
        for (const auto& [cpu, count] : counts) {
            const Verdict v = judge_count(count, sample.seconds, kLocalTimerLimits);
            most = std::max(most, count);
            if (v != Verdict::ok) {
                noisy.add(cpu);
                offenders.push_back("CPU " + std::to_string(cpu) + " " +
                                    format_rate(static_cast<double>(count) / sample.seconds));
            }
            verdict = worst(verdict, v);
        }
        if (verdict == Verdict::ok) {
            return check_ok(at_most(most, "local timer interrupt", "local timer interrupts", cpus,
                                    sample.seconds) +
                                ": the tick is stopped",
                            probe.evidence());
        }
        if (verdict == Verdict::fail) {
            return check_fail("the tick runs on isolated CPUs, " + join(offenders) +
                                  " (a stopped tick allows about 1/s)",
                              probe.evidence(),
                              "keep exactly one runnable task on " + cpus_phrase(noisy) +
                                  ", check that nohz_full= covers it, and see what keeps the "
                                  "tick with perf record -e timer:tick_stop -C " +
                                  noisy.to_list());
        }
        return check_warn("timers keep firing on isolated CPUs, " + join(offenders) +
                              " (a stopped tick allows about 1/s)",
                          probe.evidence(),
                          "find them with perf record -e timer:hrtimer_expire_entry -e "
                          "timer:timer_expire_entry -C " +
                              noisy.to_list() + " and move what arms them to housekeeping CPUs");
    });
}

CheckResult check_other_irq_rate(const CheckContext& ctx) {
    if (auto skip = isolated_cpus_unknown(ctx)) {
        return *skip;
    }
    if (auto skip = no_sample(ctx, kInterrupts)) {
        return *skip;
    }
    return guarded(ctx, [&](Probe& probe) {
        const CounterSample& sample = *ctx.sample(kInterrupts);
        const core::CpuSet cpus = checked_cpus(ctx);
        const TableReading reading = read_table(sample, cpus);
        if (const auto problem =
                problem_for(reading, [](std::string_view name, std::string_view description) {
                    return !is_local_timer_row(name, description);
                })) {
            return counter_file_result(probe, kInterrupts, *problem, reading.cpu_missing);
        }
        std::map<unsigned, std::uint64_t> counts;
        for (const unsigned cpu : cpus.cpus()) {
            counts[cpu] = 0;
        }
        std::vector<Offender> offenders;
        for (const RowIncrease& row : reading.table.increases) {
            if (is_local_timer_row(row.row, row.description) || row.increase == 0) {
                continue;
            }
            counts[row.cpu] += row.increase;
            offenders.push_back({row.cpu, row_label(row), row.row, row.increase});
        }
        const auto top = top_offenders(offenders, sample.seconds, 5);
        probe.note(std::string(kInterrupts), "IRQs and IPIs other than the local timer, " +
                                                 per_cpu_counts(counts, sample.seconds) +
                                                 (top.empty() ? "" : "; top: " + join(top)));
        Verdict verdict = Verdict::ok;
        core::CpuSet noisy;
        std::uint64_t most = 0;
        for (const auto& [cpu, count] : counts) {
            const Verdict v = judge_count(count, sample.seconds, kOtherIrqLimits);
            most = std::max(most, count);
            if (v != Verdict::ok) {
                noisy.add(cpu);
            }
            verdict = worst(verdict, v);
        }
        if (verdict == Verdict::ok) {
            return check_ok(
                at_most(most, "device IRQ or IPI", "device IRQs or IPIs", cpus, sample.seconds),
                probe.evidence());
        }
        // The fix follows the worst offender on a noisy CPU.
        std::stable_sort(
            offenders.begin(), offenders.end(),
            [](const Offender& a, const Offender& b) { return a.increase > b.increase; });
        std::string fix = "find who sends them with perf record -e 'irq_vectors:*' -C " +
                          noisy.to_list() +
                          " (RES, CAL, TLB are IPIs from other CPUs acting for tasks here)";
        for (const Offender& o : offenders) {
            if (noisy.contains(o.cpu) && is_number(o.row)) {
                fix =
                    "echo " + ctx.housekeeping.to_list() + " > /proc/irq/" + o.row +
                    "/smp_affinity_list (and boot with irqaffinity=" + ctx.housekeeping.to_list() +
                    " isolcpus=managed_irq," + ctx.isolated.to_list() + ")";
                break;
            }
        }
        const std::string summary =
            "interrupts reach isolated " + cpus_phrase(noisy) + ", " +
            join(top_offenders(on_cpus(offenders, noisy), sample.seconds, 5));
        if (verdict == Verdict::fail) {
            return check_fail(summary, probe.evidence(), fix);
        }
        return check_warn(summary, probe.evidence(), fix);
    });
}

CheckResult check_softirq_rate(const CheckContext& ctx) {
    if (auto skip = isolated_cpus_unknown(ctx)) {
        return *skip;
    }
    if (auto skip = no_sample(ctx, kSoftirqs)) {
        return *skip;
    }
    return guarded(ctx, [&](Probe& probe) {
        const CounterSample& sample = *ctx.sample(kSoftirqs);
        const core::CpuSet cpus = checked_cpus(ctx);
        const TableReading reading = read_table(sample, cpus);
        if (const auto problem =
                problem_for(reading, [](std::string_view, std::string_view) { return true; })) {
            return counter_file_result(probe, kSoftirqs, *problem, reading.cpu_missing);
        }
        std::map<unsigned, std::uint64_t> counts;
        for (const unsigned cpu : cpus.cpus()) {
            counts[cpu] = 0;
        }
        std::vector<Offender> offenders;
        for (const RowIncrease& row : reading.table.increases) {
            if (row.increase == 0) {
                continue;
            }
            counts[row.cpu] += row.increase;
            offenders.push_back({row.cpu, row.row, row.row, row.increase});
        }
        const auto top = top_offenders(offenders, sample.seconds, 5);
        probe.note(std::string(kSoftirqs), "softirqs, " + per_cpu_counts(counts, sample.seconds) +
                                               (top.empty() ? "" : "; top: " + join(top)));
        Verdict verdict = Verdict::ok;
        core::CpuSet noisy;
        std::uint64_t most = 0;
        bool net = false;
        for (const auto& [cpu, count] : counts) {
            const Verdict v = judge_count(count, sample.seconds, kSoftirqLimits);
            most = std::max(most, count);
            if (v != Verdict::ok) {
                noisy.add(cpu);
            }
            verdict = worst(verdict, v);
        }
        if (verdict == Verdict::ok) {
            return check_ok(at_most(most, "softirq", "softirqs", cpus, sample.seconds),
                            probe.evidence());
        }
        for (const Offender& o : offenders) {
            if (noisy.contains(o.cpu) && (o.row == "NET_RX" || o.row == "NET_TX")) {
                net = true;
            }
        }
        const std::string fix =
            net ? "move packet work off " + cpus_phrase(noisy) +
                      ": clear the CPUs from /sys/class/net/*/queues/rx-*/rps_cpus and move the "
                      "NIC queue IRQs to " +
                      ctx.housekeeping.to_list()
                : "find what raises them with perf record -e irq:softirq_raise -C " +
                      noisy.to_list() +
                      " (TIMER, SCHED and RCU follow the tick: see rates.local_timer)";
        const std::string summary =
            "softirqs run on isolated " + cpus_phrase(noisy) + ", " +
            join(top_offenders(on_cpus(offenders, noisy), sample.seconds, 5));
        if (verdict == Verdict::fail) {
            return check_fail(summary, probe.evidence(), fix);
        }
        return check_warn(summary, probe.evidence(), fix);
    });
}

namespace {

struct StatReading {
    std::map<unsigned, CpuTimes> increases;
    std::optional<std::string> problem;
    bool cpu_missing = false;
};

StatReading read_stat(const CounterSample& sample, const core::CpuSet& cpus) {
    StatReading reading;
    try {
        const auto before = parse_proc_stat_cpus(sample.before);
        const auto after = parse_proc_stat_cpus(sample.after);
        for (const unsigned cpu : cpus.cpus()) {
            const auto b = before.find(cpu);
            const auto a = after.find(cpu);
            if (b == before.end() || a == after.end()) {
                reading.cpu_missing = true;
                reading.problem = "CPU " + std::to_string(cpu) + " is missing from the " +
                                  (b == before.end() ? "first" : "second") + " reading";
                return reading;
            }
            reading.increases[cpu] = cpu_times_increase(cpu, b->second, a->second);
        }
    } catch (const core::Error& e) {
        reading.problem = e.what();
    }
    return reading;
}

std::string percent(std::uint64_t part, std::uint64_t total) {
    char buf[32];
    std::snprintf(
        buf, sizeof buf, "%.1f%%",
        total == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(total));
    return buf;
}

// The kernel-time and steal-time checks differ only in the share they judge.
struct ShareCheck {
    std::uint64_t (*part)(const CpuTimes&);
    const char* what;  // "kernel", "steal"
    double warn_above;
    double fail_above;
};

}  // namespace

namespace {

CheckResult share_check(const CheckContext& ctx, const ShareCheck& spec) {
    if (auto skip = isolated_cpus_unknown(ctx)) {
        return *skip;
    }
    if (auto skip = no_sample(ctx, kStat)) {
        return *skip;
    }
    return guarded(ctx, [&](Probe& probe) {
        const CounterSample& sample = *ctx.sample(kStat);
        const core::CpuSet cpus = checked_cpus(ctx);
        const StatReading reading = read_stat(sample, cpus);
        if (reading.problem) {
            return counter_file_result(probe, kStat, *reading.problem, reading.cpu_missing);
        }
        Verdict verdict = Verdict::ok;
        std::vector<std::string> per_cpu;
        std::vector<std::string> offenders;
        core::CpuSet noisy;
        std::uint64_t worst_part = 0;
        std::uint64_t worst_total = 1;
        for (const auto& [cpu, d] : reading.increases) {
            const std::uint64_t part = spec.part(d);
            per_cpu.push_back("CPU " + std::to_string(cpu) + ": " + std::to_string(part) + "/" +
                              std::to_string(d.total()) + " ticks");
            const Verdict v = judge_share(part, d.total(), spec.warn_above, spec.fail_above);
            if (d.total() > 0 && part * worst_total >= worst_part * d.total()) {
                worst_part = part;
                worst_total = d.total();
            }
            if (v != Verdict::ok) {
                noisy.add(cpu);
                offenders.push_back("CPU " + std::to_string(cpu) + " " + percent(part, d.total()) +
                                    " (user " + std::to_string(d.user) + ", system " +
                                    std::to_string(d.system) + ", irq " + std::to_string(d.irq) +
                                    ", softirq " + std::to_string(d.softirq) + ", steal " +
                                    std::to_string(d.steal) + " ticks)");
            }
            verdict = worst(verdict, v);
        }
        probe.note(std::string(kStat), std::string(spec.what) + " time, " + join(per_cpu) + " in " +
                                           seconds_phrase(sample.seconds));
        const bool kernel = std::string_view(spec.what) == "kernel";
        if (verdict == Verdict::ok) {
            return check_ok("isolated " + cpus_phrase(cpus) + " spent at most " +
                                percent(worst_part, worst_total) + " of " +
                                seconds_phrase(sample.seconds) + " " +
                                (kernel ? "in the kernel" : "stolen by the hypervisor"),
                            probe.evidence());
        }
        const std::string summary =
            kernel ? "isolated CPUs spend time in the kernel, " + join(offenders, "; ")
                   : "the hypervisor steals time from isolated CPUs, " + join(offenders, "; ");
        const std::string fix =
            kernel ? "find the kernel entries with perf trace -s -C " + noisy.to_list() +
                         " and perf record -e exceptions:page_fault_user -C " + noisy.to_list() +
                         ": a worker makes no syscalls and takes no faults once started"
                   : "give this VM's vCPUs dedicated host CPUs that are isolated on the host too "
                     "(e.g. tuned's realtime-virtual-host profile and vCPU pinning)";
        if (verdict == Verdict::fail) {
            return check_fail(summary, probe.evidence(), fix);
        }
        return check_warn(summary, probe.evidence(), fix);
    });
}

}  // namespace

CheckResult check_kernel_time(const CheckContext& ctx) {
    return share_check(ctx, {[](const CpuTimes& d) { return d.kernel(); }, "kernel",
                             kKernelWarnPercent, kKernelFailPercent});
}

CheckResult check_steal_time(const CheckContext& ctx) {
    return share_check(ctx, {[](const CpuTimes& d) { return d.steal; }, "steal", kStealWarnPercent,
                             kStealFailPercent});
}

}  // namespace qc::monitor::tunables
