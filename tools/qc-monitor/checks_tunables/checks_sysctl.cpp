// Global kernel settings: the clocksource, vm.stat_interval,
// kernel.timer_migration and RT throttling. They apply to every CPU, so
// they are judged even when no isolated CPUs are known.
#include <string>

#include "checks_tunables/checks_tunables.hpp"
#include "checks_tunables/tunables_common.hpp"

namespace qc::monitor::tunables {

namespace {

constexpr std::string_view kCurrentClocksource =
    "/sys/devices/system/clocksource/clocksource0/current_clocksource";
constexpr std::string_view kAvailableClocksource =
    "/sys/devices/system/clocksource/clocksource0/available_clocksource";
constexpr std::string_view kStatInterval = "/proc/sys/vm/stat_interval";
constexpr std::string_view kTimerMigration = "/proc/sys/kernel/timer_migration";
constexpr std::string_view kRtRuntime = "/proc/sys/kernel/sched_rt_runtime_us";
constexpr std::string_view kRtPeriod = "/proc/sys/kernel/sched_rt_period_us";

bool contains_word(std::string_view list, std::string_view word) {
    std::size_t pos = 0;
    while ((pos = list.find(word, pos)) != std::string_view::npos) {
        const bool starts = pos == 0 || list[pos - 1] == ' ';
        const bool ends = pos + word.size() == list.size() || list[pos + word.size()] == ' ';
        if (starts && ends) {
            return true;
        }
        pos += word.size();
    }
    return false;
}

enum class ClockKind { good, paravirtual, unreliable, tickbased, unknown };

// Clocksources a nohz_full CPU can rely on, read from user space through the
// vDSO: the TSC on x86_64, the generic timer on arm64, and the paravirtual
// clocks a hypervisor keeps stable. hpet and acpi_pm are what the kernel
// falls back to after it marked the TSC unstable; acpi_pm has no vDSO
// mode, so every clock_gettime() becomes a syscall on the isolated CPU.
ClockKind classify_clocksource(std::string_view arch, std::string_view name) {
    // Judged by name first: these exist on one architecture only, so an
    // empty arch (a kernel without /proc/sys/kernel/arch) still gets a verdict.
    if (name == "jiffies" || name == "refined-jiffies") {
        return ClockKind::tickbased;
    }
    if (name == "tsc" || name == "arch_sys_counter") {
        return ClockKind::good;
    }
    if (name == "kvm-clock" || name == "hyperv_clocksource_tsc_page") {
        return ClockKind::paravirtual;
    }
    if (name == "hpet" || name == "acpi_pm") {
        return ClockKind::unreliable;
    }
    if (arch == "x86_64" || arch == "aarch64") {
        return ClockKind::unknown;
    }
    return ClockKind::good;  // no expectation for other architectures
}

}  // namespace

CheckResult check_clocksource(const CheckContext& ctx) {
    return guarded(ctx, [&](Probe& probe) {
        const auto current = probe.read(kCurrentClocksource);
        if (!current) {
            return check_skip("no " + std::string(kCurrentClocksource) +
                              " (sysfs without clocksource devices)");
        }
        const std::string available = probe.read(kAvailableClocksource).value_or("");
        if (current->empty() || current->find(' ') != std::string::npos) {
            throw MalformedFile(std::string(kCurrentClocksource), *current, "one clocksource name");
        }
        const std::string found = "the clocksource is " + *current + " (available: " +
                                  (available.empty() ? std::string("unknown") : available) + ")";
        switch (classify_clocksource(ctx.arch, *current)) {
            case ClockKind::good:
                return check_ok(found, probe.evidence());
            case ClockKind::paravirtual:
                return check_ok(found + ": the hypervisor's stable clock, read through the vDSO",
                                probe.evidence());
            case ClockKind::tickbased:
                return check_fail(found +
                                      ": time advances only with the tick, which nohz_full "
                                      "stops",
                                  probe.evidence(),
                                  "find why no hardware clocksource registered (dmesg | grep -i "
                                  "clocksource) and fix the firmware or kernel config");
            case ClockKind::unreliable: {
                const std::string fix =
                    contains_word(available, "tsc")
                        ? "echo tsc > " + std::string(kCurrentClocksource) +
                              " and find why the kernel left it (dmesg | grep -i clocksource)"
                        : std::string(
                              "the kernel rejected the TSC (dmesg | grep -i tsc): enable "
                              "an invariant TSC in the firmware, then boot with "
                              "tsc=reliable");
                return check_fail(found + ": the TSC was probably marked unstable, and " +
                                      *current +
                                      " is slow to read (acpi_pm not even through the vDSO: "
                                      "clock_gettime() enters the kernel)",
                                  probe.evidence(), fix);
            }
            case ClockKind::unknown:
                break;
        }
        const std::string expected = ctx.arch == "aarch64" ? "arch_sys_counter" : "tsc";
        return check_warn(
            found + ": expected " + expected + " on " + ctx.arch +
                "; check that it is stable and readable through the vDSO",
            probe.evidence(),
            contains_word(available, expected)
                ? "echo " + expected + " > " + std::string(kCurrentClocksource)
                : "check dmesg | grep -i clocksource for why " + expected + " is not used");
    });
}

// The vmstat shepherd looks at every CPU's per-CPU counter deltas each
// stat_interval seconds and queues vmstat_update work on the CPUs with
// pending deltas, an isolated CPU included once its task touched memory
// counters (a page fault, a syscall). The kernel default is 1 s; tuned's
// network-latency (and so cpu-partitioning and realtime) profiles and
// OpenShift's performance profile set 10, which is the limit here: below it
// is a warn, 0 or less (work queued at every tick) a fail.
CheckResult check_vmstat_interval(const CheckContext& ctx) {
    return guarded(ctx, [&](Probe& probe) {
        const auto seconds = probe.read_integer(kStatInterval);
        if (!seconds) {
            return check_skip("no " + std::string(kStatInterval));
        }
        const std::string value = "vm.stat_interval=" + std::to_string(*seconds);
        const std::string fix =
            "sysctl -w vm.stat_interval=" + std::to_string(kStatIntervalSeconds) +
            " (and persist it in /etc/sysctl.d/)";
        if (*seconds >= kStatIntervalSeconds) {
            return check_ok(value + ": per-CPU vmstat work runs at most every " +
                                std::to_string(*seconds) + " s",
                            probe.evidence());
        }
        if (*seconds <= 0) {
            return check_fail(value + ": vmstat work is queued on busy CPUs at every tick",
                              probe.evidence(), fix);
        }
        return check_warn(value + ": vmstat_update work may run on an isolated CPU every " +
                              std::to_string(*seconds) + " s (tuned and OpenShift use " +
                              std::to_string(kStatIntervalSeconds) + ")",
                          probe.evidence(), fix);
    });
}

// With timer_migration=1 (the kernel default) a timer that is not pinned,
// armed by code running on a nohz_full CPU, is queued on a housekeeping CPU
// (get_nohz_timer_target); with 0 it stays on the isolated CPU and fires
// there: a socket's TCP retransmit and keepalive timers, a timeout armed in
// a syscall. tuned's profiles set 0 because a migrated hrtimer delays the
// wake-up of a sleeping RT task (cyclictest); OpenShift's performance
// profile sets 1 for pinned workloads. quietcore's workers never sleep, so
// 1 is right here and 0 a warn.
CheckResult check_timer_migration(const CheckContext& ctx) {
    return guarded(ctx, [&](Probe& probe) {
        const auto value = probe.read_integer(kTimerMigration);
        if (!value) {
            return check_skip("no " + std::string(kTimerMigration) +
                              " (kernel without CONFIG_NO_HZ_COMMON: no timer migration)");
        }
        if (*value == 1) {
            return check_ok(
                "kernel.timer_migration=1: unpinned timers armed on isolated CPUs "
                "are queued on housekeeping CPUs",
                probe.evidence());
        }
        if (*value == 0) {
            return check_warn(
                "kernel.timer_migration=0: unpinned timers armed on an isolated "
                "CPU (TCP timers of a socket, timeouts of a syscall) stay and fire "
                "there",
                probe.evidence(),
                "sysctl -w kernel.timer_migration=1 (and persist it in "
                "/etc/sysctl.d/; it only delays the wake-up of sleeping RT tasks, "
                "which busy-polling workers are not)");
        }
        throw MalformedFile(std::string(kTimerMigration), std::to_string(*value), "0 or 1");
    });
}

// RT throttling: once SCHED_FIFO/RR tasks of a CPU have run
// sched_rt_runtime_us in a sched_rt_period_us period, they are stopped for
// the rest of it (50 ms of every second by default) and an hrtimer
// refills the budget. A busy-polling SCHED_FIFO worker (what
// isolation/preconditions advises) hits that every second; tuned's
// realtime profile and OpenShift set -1.
CheckResult check_rt_throttling(const CheckContext& ctx) {
    return guarded(ctx, [&](Probe& probe) {
        const auto runtime = probe.read_integer(kRtRuntime);
        if (!runtime) {
            return check_skip("no " + std::string(kRtRuntime));
        }
        const auto period = probe.read_integer(kRtPeriod);
        if (*runtime < 0) {
            return check_ok("RT throttling is off (kernel.sched_rt_runtime_us=" +
                                std::to_string(*runtime) + ")",
                            probe.evidence());
        }
        if (period && *runtime >= *period) {
            return check_ok("RT tasks may use the whole period (sched_rt_runtime_us=" +
                                std::to_string(*runtime) +
                                " >= sched_rt_period_us=" + std::to_string(*period) + ")",
                            probe.evidence());
        }
        std::string summary =
            "RT throttling is on (kernel.sched_rt_runtime_us=" + std::to_string(*runtime);
        if (period) {
            summary += " of sched_rt_period_us=" + std::to_string(*period) +
                       "): a busy SCHED_FIFO worker is stopped for " +
                       std::to_string((*period - *runtime) / 1000) + " ms of every " +
                       std::to_string(*period / 1000) + " ms";
        } else {
            summary += "): a busy SCHED_FIFO worker is stopped for part of every period";
        }
        return check_fail(summary, probe.evidence(),
                          "sysctl -w kernel.sched_rt_runtime_us=-1 (and persist it in "
                          "/etc/sysctl.d/)");
    });
}

}  // namespace qc::monitor::tunables
