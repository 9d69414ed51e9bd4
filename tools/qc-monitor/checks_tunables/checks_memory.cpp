// Memory management that reaches into a worker's address space from other
// CPUs: THP collapsing and compaction, KSM merging, NUMA balancing. All are
// global settings, judged even when no isolated CPUs are known; a missing
// control file means the kernel lacks the feature, which is fine.
#include <string>

#include "checks_tunables/checks_tunables.hpp"
#include "checks_tunables/tunables_common.hpp"
#include "checks_tunables/tunables_parse.hpp"

namespace qc::monitor::tunables {

namespace {

constexpr std::string_view kThpEnabled = "/sys/kernel/mm/transparent_hugepage/enabled";
constexpr std::string_view kThpDefrag = "/sys/kernel/mm/transparent_hugepage/defrag";
constexpr std::string_view kKsmRun = "/sys/kernel/mm/ksm/run";
constexpr std::string_view kKsmPagesShared = "/sys/kernel/mm/ksm/pages_shared";
constexpr std::string_view kNumaBalancing = "/proc/sys/kernel/numa_balancing";
constexpr std::string_view kNodesOnline = "/sys/devices/system/node/online";

std::string choice_of(std::string_view path, const std::string& text) {
    const auto choice = bracketed_choice(text);
    if (!choice) {
        throw MalformedFile(std::string(path), text,
                            "a list with one [selected] word, like \"always [madvise] never\"");
    }
    return *choice;
}

}  // namespace

// enabled=always: khugepaged scans every process and collapses 4k pages into
// huge pages, which remaps a worker's memory under it (TLB-flush IPIs to the
// isolated CPU, faults on the collapsed range), and page faults try to
// allocate huge pages. defrag=always makes those faults compact memory
// synchronously. tuned's network-latency profile sets never; madvise limits
// both to regions that asked for them.
CheckResult check_thp(const CheckContext& ctx) {
    return guarded(ctx, [&](Probe& probe) {
        const auto enabled_text = probe.read(kThpEnabled);
        if (!enabled_text) {
            return check_ok(
                "the kernel has no transparent hugepages (no " + std::string(kThpEnabled) + ")",
                probe.evidence());
        }
        const std::string enabled = choice_of(kThpEnabled, *enabled_text);
        const auto defrag_text = probe.read(kThpDefrag);
        const std::string defrag =
            defrag_text ? choice_of(kThpDefrag, *defrag_text) : std::string("unknown");
        const std::string found =
            "transparent hugepages: enabled=" + enabled + ", defrag=" + defrag;
        if (enabled == "never") {
            return check_ok(found, probe.evidence());
        }
        if (enabled == "always") {
            return check_warn(found +
                                  ": khugepaged collapses every process's memory, workers' "
                                  "included (remapping, TLB-flush IPIs to isolated CPUs)",
                              probe.evidence(),
                              "echo never > " + std::string(kThpEnabled) +
                                  " (or madvise; boot with transparent_hugepage=never to keep it)");
        }
        if (enabled != "madvise") {
            throw MalformedFile(std::string(kThpEnabled), enabled, "always, madvise or never");
        }
        if (defrag == "always") {
            return check_warn(found +
                                  ": page faults in madvised regions compact memory "
                                  "synchronously",
                              probe.evidence(),
                              "echo madvise > " + std::string(kThpDefrag) + " (or never)");
        }
        return check_ok(found + ": only regions that ask for huge pages get them",
                        probe.evidence());
    });
}

// ksmd merges identical pages of MADV_MERGEABLE regions; a write to a merged
// page is a copy-on-write fault, and merging write-protects pages under a
// running worker. run: 0 stopped, 1 running, 2 unmerging then stopped.
CheckResult check_ksm(const CheckContext& ctx) {
    return guarded(ctx, [&](Probe& probe) {
        const auto run = probe.read_integer(kKsmRun);
        if (!run) {
            return check_ok("the kernel has no KSM (no " + std::string(kKsmRun) + ")",
                            probe.evidence());
        }
        if (*run == 0) {
            return check_ok("KSM is stopped (run=0)", probe.evidence());
        }
        if (*run == 2) {
            return check_ok("KSM has unmerged all pages and stopped (run=2)", probe.evidence());
        }
        if (*run != 1) {
            throw MalformedFile(std::string(kKsmRun), std::to_string(*run), "0, 1 or 2");
        }
        const auto shared = probe.read_integer(kKsmPagesShared);
        return check_warn("KSM is running (run=1" +
                              (shared ? ", pages_shared=" + std::to_string(*shared) : "") +
                              "): writes to merged pages take copy-on-write faults",
                          probe.evidence(),
                          "echo 2 > " + std::string(kKsmRun) +
                              " (unmerge and stop) and disable ksm/ksmtuned services");
    });
}

// Automatic NUMA balancing unmaps a task's pages every scan period to see
// which node touches them: the worker takes NUMA hinting faults, and the
// scan is queued as task work with an IPI to the CPU running it. Only
// active with more than one node. tuned's network-latency profile sets 0.
CheckResult check_numa_balancing(const CheckContext& ctx) {
    return guarded(ctx, [&](Probe& probe) {
        const auto value = probe.read_integer(kNumaBalancing);
        if (!value) {
            return check_ok("the kernel has no automatic NUMA balancing (no " +
                                std::string(kNumaBalancing) + ")",
                            probe.evidence());
        }
        if (*value == 0) {
            return check_ok("automatic NUMA balancing is off (kernel.numa_balancing=0)",
                            probe.evidence());
        }
        const auto nodes_text = probe.read(kNodesOnline);
        core::CpuSet nodes;
        if (nodes_text) {
            try {
                nodes = core::CpuSet::parse_list(*nodes_text);
            } catch (const core::ParseError&) {
                throw MalformedFile(std::string(kNodesOnline), *nodes_text,
                                    "a node list like \"0-1\"");
            }
        }
        if (nodes_text && nodes.count() <= 1) {
            return check_ok("kernel.numa_balancing=" + std::to_string(*value) +
                                " has no effect with one NUMA node online (" + nodes.to_list() +
                                ")",
                            probe.evidence());
        }
        return check_fail(
            "automatic NUMA balancing is on (kernel.numa_balancing=" + std::to_string(*value) +
                ", nodes " + (nodes_text ? nodes.to_list() : std::string("unknown")) +
                "): workers take NUMA hinting page faults",
            probe.evidence(),
            "sysctl -w kernel.numa_balancing=0 (persist it in /etc/sysctl.d/, or "
            "boot with numa_balancing=disable)");
    });
}

}  // namespace qc::monitor::tunables
