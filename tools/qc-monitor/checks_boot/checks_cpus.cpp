// cpus.*: the isolated CPUs are online, every NUMA node with isolated CPUs
// keeps a housekeeping CPU, and no isolated CPU shares a core with a
// housekeeping one.
#include <algorithm>
#include <charconv>

#include "checks_boot/boot_util.hpp"
#include "checks_boot/checks_boot.hpp"

namespace qc::monitor::boot {

namespace {

constexpr std::string_view kOnline = "/sys/devices/system/cpu/online";
constexpr std::string_view kNodeDir = "/sys/devices/system/node";
constexpr std::string_view kSmtControl = "/sys/devices/system/cpu/smt/control";

std::string cpu_dir(unsigned cpu) {
    return "/sys/devices/system/cpu/cpu" + std::to_string(cpu);
}

CheckResult check_online(const CheckContext& ctx) {
    if (!ctx.isolated_known) {
        return skip_without_expectation();
    }
    return guarded([&]() -> CheckResult {
        std::vector<Evidence> evidence{{std::string(kOnline), ctx.online.to_list()}};
        const core::CpuSet offline = ctx.isolated - ctx.online;
        if (offline.empty()) {
            return check_ok("the isolated " + cpus_named(ctx.isolated) +
                                (ctx.isolated.count() == 1 ? " is" : " are") +
                                " online (online: " + ctx.online.to_list() + ")",
                            std::move(evidence));
        }
        const unsigned limit = cpu_limit(ctx);
        core::CpuSet absent;
        std::vector<std::string> commands;
        for (const unsigned cpu : offline.cpus()) {
            if (cpu >= limit) {
                absent.add(cpu);
                continue;
            }
            const std::string path = cpu_dir(cpu) + "/online";
            if (const auto value = read_trimmed(*ctx.sys, path)) {
                evidence.push_back({path, *value});
            }
            commands.push_back("echo 1 > " + path);
        }
        std::string summary =
            "isolated " + cpus_named(offline) + (offline.count() == 1 ? " is" : " are") +
            " offline (online: " + ctx.online.to_list() + "): no worker can run there";
        std::string fix;
        if (!absent.empty()) {
            summary += "; " + cpus_named(absent) + " does not exist on this machine";
            fix = "remove " + absent.to_list() + " from the isolated set (" + ctx.isolated_source +
                  ")";
        }
        if (!commands.empty()) {
            fix = join(commands, "; ") + (fix.empty() ? "" : "; " + fix);
        }
        return check_fail(std::move(summary), std::move(evidence), std::move(fix));
    });
}

CheckResult check_housekeeping_per_node(const CheckContext& ctx) {
    if (!ctx.isolated_known) {
        return skip_without_expectation();
    }
    return guarded([&]() -> CheckResult {
        if (ctx.housekeeping.empty()) {
            return check_fail("no online CPU is left for housekeeping: every CPU (" +
                                  ctx.online.to_list() +
                                  ") is isolated, so the kernel's and the services' work lands on "
                                  "isolated CPUs",
                              {{std::string(kOnline), ctx.online.to_list()}},
                              "leave at least one CPU per NUMA node out of the isolated set (" +
                                  ctx.isolated_source + ")");
        }
        std::vector<std::pair<unsigned, std::string>> nodes;
        for (const std::string& entry : ctx.sys->list(kNodeDir)) {
            unsigned number = 0;
            if (entry.size() <= 4 || entry.compare(0, 4, "node") != 0) {
                continue;
            }
            const auto [end, ec] =
                std::from_chars(entry.data() + 4, entry.data() + entry.size(), number);
            if (ec != std::errc{} || end != entry.data() + entry.size()) {
                continue;
            }
            nodes.emplace_back(number, entry);
        }
        std::sort(nodes.begin(), nodes.end());
        std::vector<Evidence> evidence;
        Findings f;
        std::vector<std::string> kept;
        std::vector<std::string> fixes;
        for (const auto& [number, name] : nodes) {
            const std::string path = std::string(kNodeDir) + "/" + name + "/cpulist";
            const auto text = read_trimmed(*ctx.sys, path);
            if (!text) {
                continue;
            }
            const core::CpuSet cpus = parse_list_in(path, *text);
            const core::CpuSet isolated_here = cpus & ctx.isolated;
            if (isolated_here.empty()) {
                continue;
            }
            evidence.push_back({path, *text});
            const core::CpuSet housekeeping_here = cpus & ctx.housekeeping;
            if (housekeeping_here.empty()) {
                f.warn(name + " (" + cpus_named(cpus) +
                       ") has isolated CPUs and no housekeeping CPU: its devices' IRQs, kthreads "
                       "and memory reclaim are served from another node");
                fixes.push_back("keep one of " + isolated_here.to_list() + " (" + name +
                                ") out of the isolated set");
            } else {
                kept.push_back(name + " " + housekeeping_here.to_list());
            }
        }
        if (nodes.empty()) {
            return check_ok("no NUMA nodes in " + std::string(kNodeDir) +
                                " (one node): housekeeping CPUs " + ctx.housekeeping.to_list(),
                            {{std::string(kOnline), ctx.online.to_list()}});
        }
        return f.result(
            "every NUMA node with isolated CPUs keeps housekeeping CPUs: " + join(kept, ", "),
            std::move(evidence),
            join(fixes, "; ") + " (isolcpus=, nohz_full=, rcu_nocbs= or --isolated)");
    });
}

CheckResult check_smt_siblings(const CheckContext& ctx) {
    if (!ctx.isolated_known) {
        return skip_without_expectation();
    }
    return guarded([&]() -> CheckResult {
        std::vector<Evidence> evidence;
        std::vector<std::string> offenders;
        core::CpuSet shared_housekeeping;
        std::size_t read = 0;
        for (const unsigned cpu : (ctx.isolated & ctx.online).cpus()) {
            const std::string path = cpu_dir(cpu) + "/topology/thread_siblings_list";
            const auto text = read_trimmed(*ctx.sys, path);
            if (!text) {
                continue;
            }
            ++read;
            core::CpuSet siblings = parse_list_in(path, *text);
            siblings.remove(cpu);
            const core::CpuSet housekeeping_siblings = siblings & ctx.housekeeping;
            if (!housekeeping_siblings.empty()) {
                offenders.push_back(std::to_string(cpu) + " with " +
                                    housekeeping_siblings.to_list());
                shared_housekeeping = shared_housekeeping | housekeeping_siblings;
                evidence.push_back({path, *text});
            }
        }
        if (read == 0) {
            return check_skip(
                "no topology/thread_siblings_list under /sys/devices/system/cpu/cpuN "
                "for the isolated CPUs");
        }
        const auto smt = read_trimmed(*ctx.sys, kSmtControl);
        if (smt) {
            evidence.push_back({std::string(kSmtControl), *smt});
        }
        if (offenders.empty()) {
            return check_ok("no isolated CPU shares a core with a housekeeping CPU" +
                                (smt ? " (SMT " + *smt + ")" : std::string()),
                            std::move(evidence));
        }
        return check_warn("isolated CPUs share cores with housekeeping CPUs (" +
                              counted(offenders.size(), "CPU", "CPUs", offenders) +
                              "): housekeeping work competes with the workers for the same "
                              "execution units and caches",
                          std::move(evidence),
                          "isolate whole cores: add the siblings " + shared_housekeeping.to_list() +
                              " to the isolated set, or take them offline (echo 0 > "
                              "/sys/devices/system/cpu/cpuN/online), or boot with nosmt");
    });
}

}  // namespace

std::vector<CheckDef> cpu_checks() {
    return {
        {"cpus.online", "every isolated CPU is online", check_online},
        {"cpus.housekeeping_per_node", "each NUMA node with isolated CPUs keeps a housekeeping CPU",
         check_housekeeping_per_node},
        {"cpus.smt_siblings", "no isolated CPU shares a core with a housekeeping CPU",
         check_smt_siblings},
    };
}

}  // namespace qc::monitor::boot
