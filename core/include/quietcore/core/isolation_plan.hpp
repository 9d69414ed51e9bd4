// Which CPUs run isolated workers and which do housekeeping, decided from the
// topology, the kernel's own CPU sets and, optionally, the user's request,
// with every choice and every broken rule explained in plain words.
//
// Rules (DESIGN.md, "Two kinds of thread"):
// - candidates: the user's request if any, else what the kernel isolates
//   (isolated ∪ nohz_full), else a soft plan that keeps the first CPU of each
//   NUMA node (and its SMT siblings) for housekeeping;
// - one worker per physical core; the worker's SMT siblings stay idle; a
//   candidate whose SMT sibling does housekeeping is never a worker;
// - only online CPUs of the topology;
// - housekeeping is every other online CPU, with at least one CPU in each
//   NUMA node that has workers (and so at least one overall).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quietcore/core/cpu_set.hpp"
#include "quietcore/core/topology.hpp"

namespace qc::core {

enum class NohzFullState {
    unsupported,  // no nohz_full file: kernel built without CONFIG_NO_HZ_FULL
    off,          // "(null)" or empty: supported, but no nohz_full= at boot
    on,
};

// The kernel's view of the CPUs, from <sysfs_root>/devices/system/cpu/.
struct KernelCpuSets {
    std::string sysfs_root;
    CpuSet possible;
    CpuSet online;
    CpuSet isolated;   // isolcpus= (scheduler domain isolation)
    CpuSet nohz_full;  // empty unless nohz_full_state is on
    NohzFullState nohz_full_state = NohzFullState::unsupported;

    // Throws Error naming the file when possible, online or isolated is
    // missing or malformed, or nohz_full exists but is malformed.
    static KernelCpuSets read(const std::string& sysfs_root = "/sys");

    CpuSet kernel_isolated() const { return isolated | nohz_full; }
};

enum class Severity {
    info,       // a choice, explained
    warning,    // something that weakens isolation, or a kernel setting not followed
    violation,  // the user's request breaks a rule and the plan does not follow it
};

// Stable identifiers of the findings (their JSON "kind" is to_string()).
enum class FindingKind {
    nohz_full_unsupported,
    nohz_full_off,
    offline_in_topology,
    online_outside_topology,
    candidates_from_user,
    candidates_from_kernel,
    soft_isolation_only,
    soft_housekeeping_reserved,
    nohz_full_without_isolcpus,
    isolcpus_without_nohz_full,
    candidate_not_present,
    candidate_offline,
    sibling_is_housekeeping,
    numa_node_housekeeping_restored,
    worker_chosen,
    sibling_kept_idle,
    no_workers,
    housekeeping_chosen,
    worker_not_kernel_isolated,
    worker_not_nohz_full,
    kernel_isolated_housekeeping,
};

struct Finding {
    Severity severity = Severity::info;
    FindingKind kind = FindingKind::worker_chosen;
    CpuSet cpus;  // the CPUs concerned (may be empty)
    std::string message;
};

enum class CandidateSource {
    user,    // --isolated / the caller's set
    kernel,  // isolated ∪ nohz_full
    soft,    // the kernel isolates nothing: all but one core per NUMA node
};

enum class CpuRole { worker, housekeeping, idle_sibling, offline };

struct IsolationPlan {
    CandidateSource candidate_source = CandidateSource::soft;
    CpuSet candidates;  // before the rules, as requested / read / proposed
    CpuSet workers;
    CpuSet housekeeping;
    CpuSet idle;     // SMT siblings of workers, left without work
    CpuSet offline;  // CPUs of the topology the kernel does not have online
    std::vector<Finding> findings;

    // Role of a CPU of the topology; offline for any CPU in no other set.
    CpuRole role(unsigned cpu) const noexcept;
};

// Throws Error when no CPU of the topology is online.
IsolationPlan plan_isolation(const Topology& topology, const KernelCpuSets& kernel,
                             const std::optional<CpuSet>& requested_workers = std::nullopt);

std::string_view to_string(NohzFullState state) noexcept;     // "unsupported", "off", "on"
std::string_view to_string(Severity severity) noexcept;       // "info", "warning", "violation"
std::string_view to_string(FindingKind kind) noexcept;        // e.g. "sibling-is-housekeeping"
std::string_view to_string(CandidateSource source) noexcept;  // "user", "kernel", "soft"
std::string_view to_string(CpuRole role) noexcept;  // "worker", "housekeeping", "idle", "offline"

// {"sysfs_root", "possible", "online", "isolated", "nohz_full", "nohz_full_state"}
void to_json(nlohmann::json& out, const KernelCpuSets& kernel);
// {"candidate_source", "candidates", "workers", "housekeeping", "idle",
//  "offline", "findings": [{"severity", "kind", "cpus", "message"}]}
// CPU sets are cpulist strings.
void to_json(nlohmann::json& out, const IsolationPlan& plan);

}  // namespace qc::core
