// The lockup detectors. Both run per CPU: the soft lockup detector is an
// hrtimer every 2*watchdog_thresh/5 s (4 s by default) that also wakes a
// stopper thread; the hard lockup detector is a perf NMI every
// watchdog_thresh s of cycles, fed by that same hrtimer. kernel.watchdog
// switches both, soft_watchdog and nmi_watchdog each one, and
// kernel.watchdog_cpumask limits both to a set of CPUs (with nohz_full= the
// kernel starts it as the housekeeping CPUs). The kernel's cpu-isolation
// guide counts the lockup watchdog among the features incompatible with
// isolated CPUs, so either one on an isolated CPU is a fail.
#include <string>

#include "checks_tunables/checks_tunables.hpp"
#include "checks_tunables/tunables_common.hpp"
#include "quietcore/core/cpu_set.hpp"

namespace qc::monitor::tunables {

namespace {

constexpr std::string_view kWatchdog = "/proc/sys/kernel/watchdog";
constexpr std::string_view kSoftWatchdog = "/proc/sys/kernel/soft_watchdog";
constexpr std::string_view kNmiWatchdog = "/proc/sys/kernel/nmi_watchdog";
constexpr std::string_view kCpumask = "/proc/sys/kernel/watchdog_cpumask";
constexpr std::string_view kThresh = "/proc/sys/kernel/watchdog_thresh";

// The CPUs the watchdog may run on: watchdog_cpumask, or every online CPU
// when the file is missing.
core::CpuSet watchdog_cpus(Probe& probe) {
    const auto text = probe.read(kCpumask);
    if (!text) {
        return probe.ctx().online;
    }
    try {
        return core::CpuSet::parse_list(*text);
    } catch (const core::ParseError&) {
        throw MalformedFile(std::string(kCpumask), *text, "a CPU list like \"0-1,4-5\"");
    }
}

std::string mask_fix(const CheckContext& ctx) {
    return "sysctl -w kernel.watchdog_cpumask=" + ctx.housekeeping.to_list() +
           " (and persist it in /etc/sysctl.d/)";
}

}  // namespace

CheckResult check_watchdog_soft(const CheckContext& ctx) {
    if (auto skip = isolated_cpus_unknown(ctx)) {
        return *skip;
    }
    return guarded(ctx, [&](Probe& probe) {
        const auto watchdog = probe.read_integer(kWatchdog);
        if (!watchdog) {
            return check_ok("the kernel has no lockup detector (no " + std::string(kWatchdog) + ")",
                            probe.evidence());
        }
        if (*watchdog == 0) {
            return check_ok("all lockup detectors are off (kernel.watchdog=0)", probe.evidence());
        }
        const auto soft = probe.read_integer(kSoftWatchdog);
        if (!soft) {
            return check_ok(
                "the kernel has no soft lockup detector (no " + std::string(kSoftWatchdog) + ")",
                probe.evidence());
        }
        if (*soft == 0) {
            return check_ok("the soft lockup detector is off (kernel.soft_watchdog=0)",
                            probe.evidence());
        }
        const core::CpuSet cpus = checked_cpus(ctx);
        const core::CpuSet allowed = watchdog_cpus(probe);
        const core::CpuSet hit = cpus & allowed;
        if (hit.empty()) {
            return check_ok("the soft lockup detector runs only on CPUs " + allowed.to_list() +
                                " (kernel.watchdog_cpumask), none of them isolated",
                            probe.evidence());
        }
        const auto thresh = probe.read_integer(kThresh);
        const std::string period =
            thresh && *thresh > 0 ? std::to_string(2 * *thresh / 5) + " s" : "few seconds";
        return check_fail("the soft lockup detector runs on isolated " + cpus_phrase(hit) +
                              ": its hrtimer fires there every " + period +
                              " (kernel.soft_watchdog=1, watchdog_cpumask=" + allowed.to_list() +
                              ")",
                          probe.evidence(), mask_fix(ctx) + ", or boot with nosoftlockup");
    });
}

CheckResult check_watchdog_nmi(const CheckContext& ctx) {
    if (auto skip = isolated_cpus_unknown(ctx)) {
        return *skip;
    }
    return guarded(ctx, [&](Probe& probe) {
        const auto nmi = probe.read_integer(kNmiWatchdog);
        if (!nmi) {
            return check_ok(
                "the kernel has no hard lockup detector (no " + std::string(kNmiWatchdog) + ")",
                probe.evidence());
        }
        if (*nmi == 0) {
            return check_ok("the NMI watchdog is off (kernel.nmi_watchdog=0)", probe.evidence());
        }
        const auto watchdog = probe.read_integer(kWatchdog);
        if (watchdog && *watchdog == 0) {
            return check_ok("all lockup detectors are off (kernel.watchdog=0)", probe.evidence());
        }
        const core::CpuSet cpus = checked_cpus(ctx);
        const core::CpuSet allowed = watchdog_cpus(probe);
        const core::CpuSet hit = cpus & allowed;
        if (hit.empty()) {
            return check_ok("the NMI watchdog runs only on CPUs " + allowed.to_list() +
                                " (kernel.watchdog_cpumask), none of them isolated",
                            probe.evidence());
        }
        const auto thresh = probe.read_integer(kThresh);
        const std::string period = thresh && *thresh > 0 ? std::to_string(*thresh) + " s" : "10 s";
        return check_fail(
            "the NMI watchdog runs on isolated " + cpus_phrase(hit) + ": a perf NMI about every " +
                period + " of cycles and the hrtimer feeding it (kernel.nmi_watchdog=" +
                std::to_string(*nmi) + ", watchdog_cpumask=" + allowed.to_list() + ")",
            probe.evidence(),
            "sysctl -w kernel.nmi_watchdog=0 (persist it in /etc/sysctl.d/, or boot "
            "with nmi_watchdog=0)");
    });
}

}  // namespace qc::monitor::tunables
