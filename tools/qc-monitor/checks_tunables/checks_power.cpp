// Per-CPU power management of the isolated CPUs: idle states, the PM QoS
// resume-latency limit, cpufreq, and x86 machine-check polling. The kernel's
// cpu-isolation guide lists deep C-states and frequency changes among the
// jitter sources to check.
#include <algorithm>
#include <string>
#include <vector>

#include "checks_tunables/checks_tunables.hpp"
#include "checks_tunables/tunables_common.hpp"
#include "checks_tunables/tunables_parse.hpp"

namespace qc::monitor::tunables {

namespace {

constexpr std::string_view kCpuidleDriver = "/sys/devices/system/cpu/cpuidle/current_driver";
constexpr std::string_view kMachinecheck = "/sys/devices/system/machinecheck";

struct IdleState {
    unsigned index = 0;
    std::string name;
    std::int64_t latency_us = 0;
    bool disabled = false;
};

// The idle states of a CPU in index order; empty without cpuidle.
std::vector<IdleState> idle_states(const Probe& probe, unsigned cpu) {
    const std::string dir = cpu_path(cpu, "cpuidle");
    std::vector<IdleState> states;
    for (const std::string& entry : probe.ctx().sys->list(dir)) {
        if (entry.size() <= 5 || entry.substr(0, 5) != "state") {
            continue;
        }
        const auto index = parse_integer(std::string_view(entry).substr(5));
        if (!index || *index < 0) {
            continue;
        }
        const std::string state_dir = dir + "/" + entry;
        const auto latency = probe.read_integer_quiet(state_dir + "/latency");
        if (!latency) {
            continue;  // a state without an exit latency cannot be judged
        }
        IdleState state;
        state.index = static_cast<unsigned>(*index);
        state.name = probe.read_quiet(state_dir + "/name").value_or(entry);
        state.latency_us = *latency;
        state.disabled = probe.read_integer_quiet(state_dir + "/disable").value_or(0) != 0;
        states.push_back(std::move(state));
    }
    std::sort(states.begin(), states.end(),
              [](const IdleState& a, const IdleState& b) { return a.index < b.index; });
    return states;
}

std::string describe_states(const std::vector<IdleState>& states) {
    std::vector<std::string> parts;
    for (const IdleState& s : states) {
        parts.push_back(s.name + " " + std::to_string(s.latency_us) + "us " +
                        (s.disabled ? "disabled" : "enabled"));
    }
    return join(parts);
}

// "cpu{2,3}" style shell word for a list of numbers; no braces for one.
std::string brace(const std::vector<unsigned>& numbers) {
    std::vector<std::string> parts;
    for (const unsigned n : numbers) {
        parts.push_back(std::to_string(n));
    }
    if (parts.size() == 1) {
        return parts[0];
    }
    return "{" + join(parts, ",") + "}";
}

// `command` (which says $c for the CPU) for each CPU: the command itself for
// one CPU, a shell loop for several.
std::string for_each_cpu(const core::CpuSet& cpus, const std::string& command) {
    std::vector<std::string> parts;
    for (const unsigned cpu : cpus.cpus()) {
        parts.push_back(std::to_string(cpu));
    }
    if (parts.size() == 1) {
        std::string one = command;
        for (std::size_t pos = one.find("$c"); pos != std::string::npos; pos = one.find("$c")) {
            one.replace(pos, 2, parts[0]);
        }
        return one;
    }
    return "for c in " + join(parts, " ") + "; do " + command + "; done";
}

// Whether no CPU of `cpus` has a cpuidle state directory (nothing parsed:
// the idle.states check judges the states themselves).
bool no_cpuidle_anywhere(const Probe& probe, const core::CpuSet& cpus) {
    for (const unsigned cpu : cpus.cpus()) {
        for (const std::string& entry : probe.ctx().sys->list(cpu_path(cpu, "cpuidle"))) {
            if (entry.size() > 5 && entry.substr(0, 5) == "state") {
                return false;
            }
        }
    }
    return true;
}

}  // namespace

// An enabled idle state whose exit latency is above kIdleLatencyLimitUs
// (20 us: polling and C1/C1E-class states, 0-10 us on Intel and AMD, stay
// allowed; C3/C6 and package states, 33 us and up, do not) delays the
// worker whenever its CPU idled (worker restarting, waiting on a ring). A
// CPU without cpuidle idles in the architecture's default loop (halt/wfi,
// or polling with idle=poll), which has no deep state to pick: ok.
CheckResult check_idle_states(const CheckContext& ctx) {
    if (auto skip = isolated_cpus_unknown(ctx)) {
        return *skip;
    }
    return guarded(ctx, [&](Probe& probe) {
        const core::CpuSet cpus = checked_cpus(ctx);
        core::CpuSet without;
        core::CpuSet deep_cpus;
        std::vector<unsigned> deep_indices;
        std::vector<std::string> offenders;
        for (const unsigned cpu : cpus.cpus()) {
            const auto states = idle_states(probe, cpu);
            if (states.empty()) {
                without.add(cpu);
                continue;
            }
            probe.note(cpu_path(cpu, "cpuidle"), describe_states(states));
            std::vector<std::string> deep;
            for (const IdleState& s : states) {
                if (!s.disabled && s.latency_us > kIdleLatencyLimitUs) {
                    deep.push_back(s.name + " " + std::to_string(s.latency_us) + " us");
                    deep_cpus.add(cpu);
                    if (std::find(deep_indices.begin(), deep_indices.end(), s.index) ==
                        deep_indices.end()) {
                        deep_indices.push_back(s.index);
                    }
                }
            }
            if (!deep.empty()) {
                offenders.push_back("CPU " + std::to_string(cpu) + ": " + join(deep));
            }
        }
        if (without == cpus) {
            const std::string driver = probe.read(kCpuidleDriver).value_or("missing");
            return check_ok("no cpuidle states on isolated " + cpus_phrase(cpus) +
                                " (cpuidle driver: " + driver +
                                "): they idle in the default halt or poll loop",
                            probe.evidence());
        }
        const std::string also =
            without.empty() ? "" : " (" + cpus_phrase(without) + " without cpuidle)";
        if (offenders.empty()) {
            return check_ok("every enabled idle state of isolated " + cpus_phrase(cpus - without) +
                                " exits within " + std::to_string(kIdleLatencyLimitUs) + " us" +
                                also,
                            probe.evidence());
        }
        std::sort(deep_indices.begin(), deep_indices.end());
        const std::string files = "/sys/devices/system/cpu/cpu" + brace(deep_cpus.cpus()) +
                                  "/cpuidle/state" + brace(deep_indices) + "/disable";
        std::string fix = deep_cpus.count() == 1 && deep_indices.size() == 1
                              ? "echo 1 > " + files
                              : "for f in " + files + "; do echo 1 > $f; done";
        if (ctx.arch == "x86_64") {
            fix += " (or boot with intel_idle.max_cstate=1 processor.max_cstate=1)";
        }
        return check_warn("deep idle states are enabled on isolated CPUs, " +
                              join(offenders, "; ") + ": waking from them takes longer than " +
                              std::to_string(kIdleLatencyLimitUs) + " us",
                          probe.evidence(), fix);
    });
}

// pm_qos_resume_latency_us of a CPU device caps the exit latency of the
// idle states the cpuidle governor may pick on it. Shown values: "n/a" =
// no latency accepted (the governor only polls), "0" = no limit, N = at
// most N us. CRI-O's cpu-c-states annotation and OpenShift write it; here
// "n/a" or a limit up to kIdleLatencyLimitUs is ok, no limit or a larger
// one a warn. Without cpuidle there is nothing to limit.
CheckResult check_pmqos_resume_latency(const CheckContext& ctx) {
    if (auto skip = isolated_cpus_unknown(ctx)) {
        return *skip;
    }
    return guarded(ctx, [&](Probe& probe) {
        const core::CpuSet cpus = checked_cpus(ctx);
        core::CpuSet missing;
        core::CpuSet loose;
        std::vector<std::string> offenders;
        for (const unsigned cpu : cpus.cpus()) {
            const std::string path = cpu_path(cpu, "power/pm_qos_resume_latency_us");
            const auto value = probe.read(path);
            if (!value) {
                missing.add(cpu);
                continue;
            }
            if (*value == "n/a") {
                continue;
            }
            const auto limit = parse_integer(*value);
            if (!limit || *limit < 0) {
                throw MalformedFile(path, *value, "\"n/a\" or a latency in microseconds");
            }
            if (*limit == 0 || *limit > kIdleLatencyLimitUs) {
                loose.add(cpu);
                offenders.push_back(
                    "CPU " + std::to_string(cpu) + ": " +
                    (*limit == 0 ? std::string("0 (no limit)") : std::to_string(*limit) + " us"));
            }
        }
        if (missing == cpus) {
            return check_skip("no " +
                              cpu_path(cpus.cpus().front(), "power/pm_qos_resume_latency_us") +
                              " (kernel without per-CPU PM QoS)");
        }
        if (no_cpuidle_anywhere(probe, cpus)) {
            return check_ok("no cpuidle states on isolated " + cpus_phrase(cpus) +
                                ": the PM QoS resume latency has nothing to limit",
                            probe.evidence());
        }
        if (offenders.empty()) {
            return check_ok("isolated " + cpus_phrase(cpus - missing) + " accept at most " +
                                std::to_string(kIdleLatencyLimitUs) +
                                " us of idle exit latency (pm_qos_resume_latency_us)",
                            probe.evidence());
        }
        return check_warn(
            "isolated CPUs have no tight PM QoS resume-latency limit, " + join(offenders, "; ") +
                ": the cpuidle governor may pick any enabled idle state",
            probe.evidence(),
            for_each_cpu(loose,
                         "echo n/a > "
                         "/sys/devices/system/cpu/cpu$c/power/pm_qos_resume_latency_us") +
                " (polling idle only; or a limit in us up to " +
                std::to_string(kIdleLatencyLimitUs) + ")");
    });
}

// A governor other than performance moves the frequency with the load (and
// schedutil/ondemand run governor work on the CPU's utilization updates):
// a worker's loop speed changes under it.
CheckResult check_cpufreq_governor(const CheckContext& ctx) {
    if (auto skip = isolated_cpus_unknown(ctx)) {
        return *skip;
    }
    return guarded(ctx, [&](Probe& probe) {
        const core::CpuSet cpus = checked_cpus(ctx);
        core::CpuSet missing;
        core::CpuSet slow;
        std::vector<std::string> offenders;
        for (const unsigned cpu : cpus.cpus()) {
            const std::string path = cpu_path(cpu, "cpufreq/scaling_governor");
            const auto governor = probe.read_quiet(path);
            if (!governor) {
                missing.add(cpu);
                continue;
            }
            probe.note(path, *governor);
            if (*governor != "performance") {
                slow.add(cpu);
                offenders.push_back("CPU " + std::to_string(cpu) + ": " + *governor);
            }
        }
        if (missing == cpus) {
            return check_skip("no cpufreq driver (VM or fixed frequency): no " +
                              cpu_path(cpus.cpus().front(), "cpufreq/scaling_governor"));
        }
        const std::string also =
            missing.empty() ? "" : " (" + cpus_phrase(missing) + " without cpufreq)";
        if (offenders.empty()) {
            return check_ok(
                "isolated " + cpus_phrase(cpus - missing) + " use the performance governor" + also,
                probe.evidence());
        }
        return check_warn("isolated CPUs do not use the performance governor, " +
                              join(offenders, "; ") + ": their frequency follows the load" + also,
                          probe.evidence(),
                          "cpupower -c " + slow.to_list() +
                              " frequency-set -g performance (or echo performance > "
                              "/sys/devices/system/cpu/cpuN/cpufreq/scaling_governor)");
    });
}

// scaling_min_freq == scaling_max_freq pins the frequency whatever the
// governor or the hardware (HWP, turbo) would choose; with a range, the
// frequency can still move even under the performance governor on HWP.
CheckResult check_cpufreq_range(const CheckContext& ctx) {
    if (auto skip = isolated_cpus_unknown(ctx)) {
        return *skip;
    }
    return guarded(ctx, [&](Probe& probe) {
        const core::CpuSet cpus = checked_cpus(ctx);
        core::CpuSet missing;
        core::CpuSet ranged;
        std::vector<std::string> offenders;
        std::vector<std::string> fixed;
        for (const unsigned cpu : cpus.cpus()) {
            const std::string min_path = cpu_path(cpu, "cpufreq/scaling_min_freq");
            const std::string max_path = cpu_path(cpu, "cpufreq/scaling_max_freq");
            const auto min = probe.read_integer_quiet(min_path);
            const auto max = probe.read_integer_quiet(max_path);
            if (!min || !max) {
                missing.add(cpu);
                continue;
            }
            probe.note(min_path, std::to_string(*min));
            probe.note(max_path, std::to_string(*max));
            if (*min != *max) {
                ranged.add(cpu);
                offenders.push_back("CPU " + std::to_string(cpu) + ": " + std::to_string(*min) +
                                    "-" + std::to_string(*max) + " kHz");
            } else {
                fixed.push_back("CPU " + std::to_string(cpu) + ": " + std::to_string(*max) +
                                " kHz");
            }
        }
        if (missing == cpus) {
            return check_skip("no cpufreq driver (VM or fixed frequency): no " +
                              cpu_path(cpus.cpus().front(), "cpufreq/scaling_min_freq"));
        }
        if (offenders.empty()) {
            return check_ok("isolated CPUs run at one fixed frequency, " + join(fixed),
                            probe.evidence());
        }
        return check_warn(
            "the frequency of isolated CPUs may vary, " + join(offenders, "; ") +
                " (scaling_min_freq < scaling_max_freq)",
            probe.evidence(),
            for_each_cpu(ranged,
                         "cat /sys/devices/system/cpu/cpu$c/cpufreq/scaling_max_freq > "
                         "/sys/devices/system/cpu/cpu$c/cpufreq/scaling_min_freq"));
    });
}

// x86 polls the machine-check banks of every CPU from a per-CPU timer
// every check_interval seconds (300 by default, shorter after corrected
// errors). ignore_ce=1 (what tuned's cpu-partitioning and realtime profiles
// write) stops the timer and CMCI; check_interval=0 stops the timer. Both
// are global, shown in every machinecheckN. A timer every few minutes on
// an isolated CPU breaks STRICT isolation: a fail.
CheckResult check_mce_polling(const CheckContext& ctx) {
    if (!ctx.arch.empty() && ctx.arch != "x86_64") {
        return check_skip("machine-check polling is x86-only: on " + ctx.arch +
                          " RAS errors arrive through firmware interrupts, not a per-CPU timer");
    }
    if (auto skip = isolated_cpus_unknown(ctx)) {
        return *skip;
    }
    return guarded(ctx, [&](Probe& probe) {
        if (!ctx.sys->exists(kMachinecheck)) {
            return check_skip("no " + std::string(kMachinecheck) +
                              ": machine checks are off (mce=off) or the (virtual) CPU has no MCA");
        }
        const core::CpuSet cpus = checked_cpus(ctx);
        core::CpuSet polled;
        std::string values;
        std::string interval_s;
        for (const unsigned cpu : cpus.cpus()) {
            const std::string dir =
                std::string(kMachinecheck) + "/machinecheck" + std::to_string(cpu);
            const auto interval = probe.read_integer(dir + "/check_interval");
            if (!interval) {
                return check_skip("no " + dir + "/check_interval");
            }
            const auto ignore_ce = probe.read_integer(dir + "/ignore_ce");
            if (*interval > 0 && ignore_ce.value_or(0) == 0) {
                polled.add(cpu);
                values = "check_interval=" + std::to_string(*interval) +
                         ", ignore_ce=" + std::to_string(ignore_ce.value_or(0));
                interval_s = std::to_string(*interval);
            }
        }
        if (polled.empty()) {
            return check_ok("machine-check polling is off on isolated " + cpus_phrase(cpus) +
                                " (ignore_ce=1 or check_interval=0)",
                            probe.evidence());
        }
        return check_fail("machine-check polling runs on isolated " + cpus_phrase(polled) +
                              ": a timer every " + interval_s + " s or sooner (" + values + ")",
                          probe.evidence(),
                          "echo 1 > " + std::string(kMachinecheck) +
                              "/machinecheck0/ignore_ce (it applies to every CPU, as tuned's "
                              "cpu-partitioning profile does)");
    });
}

}  // namespace qc::monitor::tunables
