#include "quietcore/core/isolation_plan.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <utility>

#include "quietcore/core/error.hpp"
#include "quietcore/core/text_file.hpp"

namespace qc::core {

namespace {

// ---- reading sysfs ----------------------------------------------------------

std::string_view trimmed(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\n");
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(" \t\n");
    return text.substr(first, last - first + 1);
}

CpuSet parse_file_list(const std::string& path, const std::string& text) {
    try {
        return CpuSet::parse_list(text);
    } catch (const ParseError& e) {
        throw Error(path + ": " + e.what());
    }
}

CpuSet read_required_list(const std::string& dir, const char* name) {
    const std::string path = dir + name;
    return parse_file_list(path, read_text_file(path));
}

// ---- wording ------------------------------------------------------------------

// "CPU 3", "CPUs 3-5,8", "no CPU".
std::string cpus_text(const CpuSet& cpus) {
    if (cpus.empty()) {
        return "no CPU";
    }
    return (cpus.count() == 1 ? "CPU " : "CPUs ") + cpus.to_list();
}

// The word agreeing in number with cpus_text(cpus): agree(cpus, "is", "are").
const char* agree(const CpuSet& cpus, const char* one, const char* many) {
    return cpus.count() == 1 ? one : many;
}

const char* is_are(const CpuSet& cpus) {
    return agree(cpus, "is", "are");
}

std::string list_or_none(const CpuSet& cpus) {
    return cpus.empty() ? "none" : cpus.to_list();
}

// ---- planning -----------------------------------------------------------------

class Planner {
  public:
    Planner(const Topology& topology, const KernelCpuSets& kernel,
            const std::optional<CpuSet>& requested)
        : topo_(topology), kernel_(kernel), requested_(requested) {}

    IsolationPlan run() {
        find_usable_cpus();
        note_nohz_full_state();
        choose_candidates();
        drop_unusable_candidates();
        choose_worker_cores();
        keep_housekeeping_on_each_node();
        explain_choices();
        check_against_kernel();
        return std::move(plan_);
    }

  private:
    void add(Severity severity, FindingKind kind, CpuSet cpus, std::string message) {
        plan_.findings.push_back(Finding{severity, kind, std::move(cpus), std::move(message)});
    }

    // Not following the user's explicit request is a violation of it; not
    // following the kernel's configuration is a warning about that setting.
    Severity deviation_severity() const {
        return plan_.candidate_source == CandidateSource::user ? Severity::violation
                                                               : Severity::warning;
    }

    // How candidates came to be candidates, for sentences about them.
    std::string origin(const CpuSet& cpus) const {
        if (plan_.candidate_source == CandidateSource::user) {
            return agree(cpus, " requested as a worker", " requested as workers");
        }
        return " isolated by the kernel";
    }

    void find_usable_cpus() {
        usable_ = topo_.cpu_set() & kernel_.online;
        plan_.offline = topo_.cpu_set() - kernel_.online;
        if (usable_.empty()) {
            throw Error("no CPU of the topology (" + topo_.source() + ", CPUs " +
                        topo_.cpu_set().to_list() + ") is online according to " +
                        kernel_.sysfs_root + " (online: " + list_or_none(kernel_.online) + ")");
        }
        if (!plan_.offline.empty()) {
            add(Severity::info, FindingKind::offline_in_topology, plan_.offline,
                cpus_text(plan_.offline) + " " + is_are(plan_.offline) +
                    " in the topology but not online; the plan gives them no role.");
        }
        const CpuSet outside = kernel_.online - topo_.cpu_set();
        if (!outside.empty()) {
            add(Severity::warning, FindingKind::online_outside_topology, outside,
                cpus_text(outside) + " " + is_are(outside) + " online but missing from the " +
                    "topology (" + topo_.source() + ", e.g. outside this process's cpuset); " +
                    "the plan cannot place anything there.");
        }
    }

    void note_nohz_full_state() {
        if (kernel_.nohz_full_state == NohzFullState::unsupported) {
            add(Severity::info, FindingKind::nohz_full_unsupported, {},
                "The kernel has no nohz_full support (no " + kernel_.sysfs_root +
                    "/devices/system/cpu/nohz_full): the scheduler tick keeps running on "
                    "every CPU.");
        } else if (kernel_.nohz_full_state == NohzFullState::off) {
            add(Severity::info, FindingKind::nohz_full_off, {},
                "The kernel supports nohz_full but it was not enabled at boot (no nohz_full=): "
                "the scheduler tick keeps running on every CPU.");
        }
    }

    void choose_candidates() {
        const CpuSet kernel_set = kernel_.kernel_isolated();
        if (requested_) {
            plan_.candidate_source = CandidateSource::user;
            plan_.candidates = *requested_;
            add(Severity::info, FindingKind::candidates_from_user, plan_.candidates,
                "Worker candidates are the CPUs requested: " + list_or_none(plan_.candidates) +
                    ".");
            if (kernel_set.empty()) {
                add(Severity::warning, FindingKind::soft_isolation_only, {},
                    "The kernel isolates no CPU (isolated and nohz_full are empty): only soft "
                    "isolation is possible; workers still share the scheduler with other tasks "
                    "and keep the tick.");
            }
        } else if (!kernel_set.empty()) {
            plan_.candidate_source = CandidateSource::kernel;
            plan_.candidates = kernel_set;
            add(Severity::info, FindingKind::candidates_from_kernel, kernel_set,
                "Worker candidates are the CPUs the kernel isolates: isolated (isolcpus=) " +
                    list_or_none(kernel_.isolated) + ", nohz_full " +
                    list_or_none(kernel_.nohz_full) + ".");
            note_partial_kernel_isolation();
        } else {
            plan_.candidate_source = CandidateSource::soft;
            propose_soft_candidates();
        }
    }

    void note_partial_kernel_isolation() {
        const CpuSet tick_only = kernel_.nohz_full - kernel_.isolated;
        if (!tick_only.empty()) {
            add(Severity::warning, FindingKind::nohz_full_without_isolcpus, tick_only,
                cpus_text(tick_only) + " " + is_are(tick_only) +
                    " nohz_full but not domain-isolated (not in isolcpus=): the scheduler may "
                    "still place other tasks there, which brings the tick back.");
        }
        const CpuSet domain_only = kernel_.isolated - kernel_.nohz_full;
        if (!domain_only.empty()) {
            add(Severity::warning, FindingKind::isolcpus_without_nohz_full, domain_only,
                cpus_text(domain_only) + " " + is_are(domain_only) +
                    " domain-isolated but not nohz_full: the scheduler tick keeps interrupting " +
                    agree(domain_only, "it", "them") + ".");
        }
    }

    // Keep the first online CPU of every NUMA node, with its SMT siblings,
    // for housekeeping; offer the rest.
    void propose_soft_candidates() {
        CpuSet reserved;
        for (const NumaNodeInfo& node : topo_.numa_nodes()) {
            const int first = (node.cpus & usable_).first();
            if (first >= 0) {
                reserved =
                    reserved | (topo_.cpu(static_cast<unsigned>(first)).smt_siblings & usable_);
            }
        }
        plan_.candidates = usable_ - reserved;
        add(Severity::warning, FindingKind::soft_isolation_only, {},
            "The kernel isolates no CPU (isolated and nohz_full are empty): only soft isolation "
            "is possible. Boot with isolcpus= and nohz_full= for kernel isolation.");
        add(Severity::info, FindingKind::soft_housekeeping_reserved, reserved,
            "Soft plan: the first CPU of each NUMA node and its SMT siblings (" +
                reserved.to_list() + ") stay for housekeeping; the other online CPUs (" +
                list_or_none(plan_.candidates) + ") are offered as workers.");
    }

    void drop_unusable_candidates() {
        const CpuSet& raw = plan_.candidates;
        const CpuSet not_online = raw - kernel_.online;
        const CpuSet offline = not_online & (kernel_.possible | topo_.cpu_set());
        const CpuSet absent = not_online - offline;
        const CpuSet unplaced = (raw & kernel_.online) - topo_.cpu_set();
        if (!offline.empty()) {
            add(deviation_severity(), FindingKind::candidate_offline, offline,
                cpus_text(offline) + origin(offline) + " " + is_are(offline) +
                    " offline (online: " + list_or_none(kernel_.online) +
                    "); only online CPUs can be workers.");
        }
        if (!absent.empty()) {
            add(deviation_severity(), FindingKind::candidate_not_present, absent,
                cpus_text(absent) + origin(absent) + " " + agree(absent, "does", "do") +
                    " not exist here (possible: " + list_or_none(kernel_.possible) +
                    ", topology: " + topo_.cpu_set().to_list() + "); ignored.");
        }
        if (!unplaced.empty()) {
            add(deviation_severity(), FindingKind::candidate_not_present, unplaced,
                cpus_text(unplaced) + origin(unplaced) + " " + is_are(unplaced) +
                    " online but not in the topology (" + topo_.source() + "); ignored.");
        }
        candidates_ = raw & usable_;
    }

    // One worker per core whose online CPUs are all candidates: its lowest
    // CPU works, the siblings idle. A core mixing candidates and
    // non-candidates would put a worker next to housekeeping work, so its
    // candidates do housekeeping instead.
    void choose_worker_cores() {
        for (const CoreInfo& core : topo_.cores()) {
            const CpuSet online = core.cpus & usable_;
            const CpuSet wanted = online & candidates_;
            if (wanted.empty()) {
                continue;
            }
            const CpuSet others = online - candidates_;
            if (!others.empty()) {
                explain_sibling_split(wanted, others);
                continue;
            }
            const auto worker = static_cast<unsigned>(wanted.first());
            plan_.workers.add(worker);
            plan_.idle = plan_.idle | (online - CpuSet{worker});
        }
        plan_.housekeeping = usable_ - plan_.workers - plan_.idle;
    }

    void explain_sibling_split(const CpuSet& wanted, const CpuSet& others) {
        const bool user = plan_.candidate_source == CandidateSource::user;
        add(deviation_severity(), FindingKind::sibling_is_housekeeping, wanted,
            cpus_text(wanted) + origin(wanted) + " " + agree(wanted, "shares", "share") +
                " a physical core with " + cpus_text(others) + ", which " + is_are(others) +
                " not " + (user ? "requested" : "isolated") +
                " and so does housekeeping; a worker whose SMT sibling runs housekeeping work "
                "is not isolated, so " +
                cpus_text(wanted) + " " + agree(wanted, "does", "do") + " housekeeping instead.");
    }

    // Every NUMA node with workers keeps a housekeeping CPU, for its own
    // interrupts and kernel threads and for node-local housekeeping threads;
    // if it has none, its first worker core goes back to housekeeping.
    void keep_housekeeping_on_each_node() {
        for (const NumaNodeInfo& node : topo_.numa_nodes()) {
            const CpuSet node_workers = plan_.workers & node.cpus;
            if (node_workers.empty() || plan_.housekeeping.intersects(node.cpus)) {
                continue;
            }
            const CpuSet returned = give_back_core(static_cast<unsigned>(node_workers.first()));
            add(deviation_severity(), FindingKind::numa_node_housekeeping_restored, returned,
                "NUMA node " + std::to_string(node.os_index) +
                    " would have no housekeeping CPU: all its online CPUs are worker "
                    "candidates. The core of " +
                    cpus_text(returned) +
                    " goes back to housekeeping so the node keeps a CPU for its interrupts, "
                    "kernel threads and node-local housekeeping threads.");
        }
        // Only reachable on topologies whose cores straddle NUMA nodes.
        if (plan_.housekeeping.empty() && !plan_.workers.empty()) {
            const CpuSet returned = give_back_core(static_cast<unsigned>(plan_.workers.first()));
            add(deviation_severity(), FindingKind::numa_node_housekeeping_restored, returned,
                "No CPU would be left for housekeeping: the core of " + cpus_text(returned) +
                    " goes back to housekeeping.");
        }
    }

    CpuSet give_back_core(unsigned worker) {
        const CpuSet core_cpus = topo_.cpu(worker).smt_siblings & usable_;
        plan_.workers = plan_.workers - core_cpus;
        plan_.idle = plan_.idle - core_cpus;
        plan_.housekeeping = plan_.housekeeping | core_cpus;
        return core_cpus;
    }

    void explain_choices() {
        for (unsigned worker : plan_.workers.cpus()) {
            const CpuInfo& cpu = topo_.cpu(worker);
            add(Severity::info, FindingKind::worker_chosen, CpuSet{worker},
                "CPU " + std::to_string(worker) + " is the worker of core " +
                    std::to_string(cpu.core) + " (package " + std::to_string(cpu.package) +
                    ", NUMA node " + std::to_string(cpu.numa_node) + ").");
            const CpuSet idle = cpu.smt_siblings & plan_.idle;
            if (!idle.empty()) {
                add(Severity::info, FindingKind::sibling_kept_idle, idle,
                    cpus_text(idle) + " " + agree(idle, "stays", "stay") + " idle: SMT " +
                        agree(idle, "sibling", "siblings") + " of worker CPU " +
                        std::to_string(worker) +
                        ", kept free so the worker has its core to itself.");
            }
        }
        if (plan_.workers.empty()) {
            add(Severity::warning, FindingKind::no_workers, {},
                "No CPU can be a worker: no candidate is left after the rules above.");
        }
        add(Severity::info, FindingKind::housekeeping_chosen, plan_.housekeeping,
            cpus_text(plan_.housekeeping) + " " + agree(plan_.housekeeping, "does", "do") +
                " housekeeping: every online CPU that is neither a worker nor an idle "
                "SMT sibling of one. Interrupts, kernel threads and housekeeping threads "
                "belong there.");
    }

    void check_against_kernel() {
        const CpuSet kernel_set = kernel_.kernel_isolated();
        if (kernel_set.empty()) {
            return;
        }
        if (plan_.candidate_source == CandidateSource::user) {
            const CpuSet not_isolated = plan_.workers - kernel_.isolated;
            if (!not_isolated.empty()) {
                add(Severity::warning, FindingKind::worker_not_kernel_isolated, not_isolated,
                    "Worker " + cpus_text(not_isolated) + " " + is_are(not_isolated) +
                        " not domain-isolated by the kernel (not in isolcpus=): the scheduler "
                        "may run other tasks there.");
            }
            const CpuSet ticking = plan_.workers - kernel_.nohz_full;
            if (kernel_.nohz_full_state == NohzFullState::on && !ticking.empty()) {
                add(Severity::warning, FindingKind::worker_not_nohz_full, ticking,
                    "Worker " + cpus_text(ticking) + " " + is_are(ticking) +
                        " not nohz_full: the scheduler tick keeps interrupting " +
                        agree(ticking, "it", "them") + ".");
            }
        }
        const CpuSet wasted = plan_.housekeeping & kernel_set;
        if (!wasted.empty()) {
            add(Severity::warning, FindingKind::kernel_isolated_housekeeping, wasted,
                cpus_text(wasted) + " " + is_are(wasted) + " isolated by the kernel but " +
                    agree(wasted, "does", "do") +
                    " housekeeping: the scheduler does not balance tasks onto isolcpus= CPUs, so "
                    "housekeeping threads there must be pinned, and a nohz_full= CPU gets its "
                    "tick back whenever it runs more than one task; consider removing " +
                    agree(wasted, "it", "them") + " from isolcpus=/nohz_full=.");
        }
    }

    const Topology& topo_;
    const KernelCpuSets& kernel_;
    const std::optional<CpuSet>& requested_;
    CpuSet usable_;      // online CPUs of the topology
    CpuSet candidates_;  // plan_.candidates that are usable
    IsolationPlan plan_;
};

}  // namespace

KernelCpuSets KernelCpuSets::read(const std::string& sysfs_root) {
    const std::string dir = sysfs_root + "/devices/system/cpu/";
    KernelCpuSets sets;
    sets.sysfs_root = sysfs_root;
    sets.possible = read_required_list(dir, "possible");
    sets.online = read_required_list(dir, "online");
    sets.isolated = read_required_list(dir, "isolated");

    const std::string nohz_path = dir + "nohz_full";
    std::optional<std::string> nohz = read_text_file_if_exists(nohz_path);
    if (!nohz) {
        sets.nohz_full_state = NohzFullState::unsupported;
    } else if (const std::string_view value = trimmed(*nohz); value.empty() || value == "(null)") {
        sets.nohz_full_state = NohzFullState::off;
    } else {
        sets.nohz_full = parse_file_list(nohz_path, *nohz);
        sets.nohz_full_state = NohzFullState::on;
    }
    return sets;
}

CpuRole IsolationPlan::role(unsigned cpu) const noexcept {
    if (workers.contains(cpu)) {
        return CpuRole::worker;
    }
    if (housekeeping.contains(cpu)) {
        return CpuRole::housekeeping;
    }
    if (idle.contains(cpu)) {
        return CpuRole::idle_sibling;
    }
    return CpuRole::offline;
}

IsolationPlan plan_isolation(const Topology& topology, const KernelCpuSets& kernel,
                             const std::optional<CpuSet>& requested_workers) {
    return Planner(topology, kernel, requested_workers).run();
}

std::string_view to_string(NohzFullState state) noexcept {
    switch (state) {
        case NohzFullState::unsupported:
            return "unsupported";
        case NohzFullState::off:
            return "off";
        case NohzFullState::on:
            return "on";
    }
    return "unknown";
}

std::string_view to_string(Severity severity) noexcept {
    switch (severity) {
        case Severity::info:
            return "info";
        case Severity::warning:
            return "warning";
        case Severity::violation:
            return "violation";
    }
    return "unknown";
}

std::string_view to_string(FindingKind kind) noexcept {
    switch (kind) {
        case FindingKind::nohz_full_unsupported:
            return "nohz-full-unsupported";
        case FindingKind::nohz_full_off:
            return "nohz-full-off";
        case FindingKind::offline_in_topology:
            return "offline-in-topology";
        case FindingKind::online_outside_topology:
            return "online-outside-topology";
        case FindingKind::candidates_from_user:
            return "candidates-from-user";
        case FindingKind::candidates_from_kernel:
            return "candidates-from-kernel";
        case FindingKind::soft_isolation_only:
            return "soft-isolation-only";
        case FindingKind::soft_housekeeping_reserved:
            return "soft-housekeeping-reserved";
        case FindingKind::nohz_full_without_isolcpus:
            return "nohz-full-without-isolcpus";
        case FindingKind::isolcpus_without_nohz_full:
            return "isolcpus-without-nohz-full";
        case FindingKind::candidate_not_present:
            return "candidate-not-present";
        case FindingKind::candidate_offline:
            return "candidate-offline";
        case FindingKind::sibling_is_housekeeping:
            return "sibling-is-housekeeping";
        case FindingKind::numa_node_housekeeping_restored:
            return "numa-node-housekeeping-restored";
        case FindingKind::worker_chosen:
            return "worker-chosen";
        case FindingKind::sibling_kept_idle:
            return "sibling-kept-idle";
        case FindingKind::no_workers:
            return "no-workers";
        case FindingKind::housekeeping_chosen:
            return "housekeeping-chosen";
        case FindingKind::worker_not_kernel_isolated:
            return "worker-not-kernel-isolated";
        case FindingKind::worker_not_nohz_full:
            return "worker-not-nohz-full";
        case FindingKind::kernel_isolated_housekeeping:
            return "kernel-isolated-housekeeping";
    }
    return "unknown";
}

std::string_view to_string(CandidateSource source) noexcept {
    switch (source) {
        case CandidateSource::user:
            return "user";
        case CandidateSource::kernel:
            return "kernel";
        case CandidateSource::soft:
            return "soft";
    }
    return "unknown";
}

std::string_view to_string(CpuRole role) noexcept {
    switch (role) {
        case CpuRole::worker:
            return "worker";
        case CpuRole::housekeeping:
            return "housekeeping";
        case CpuRole::idle_sibling:
            return "idle";
        case CpuRole::offline:
            return "offline";
    }
    return "unknown";
}

void to_json(nlohmann::json& out, const KernelCpuSets& kernel) {
    out = {{"sysfs_root", kernel.sysfs_root},
           {"possible", kernel.possible.to_list()},
           {"online", kernel.online.to_list()},
           {"isolated", kernel.isolated.to_list()},
           {"nohz_full", kernel.nohz_full.to_list()},
           {"nohz_full_state", to_string(kernel.nohz_full_state)}};
}

void to_json(nlohmann::json& out, const IsolationPlan& plan) {
    auto findings = nlohmann::json::array();
    for (const Finding& f : plan.findings) {
        findings.push_back({{"severity", to_string(f.severity)},
                            {"kind", to_string(f.kind)},
                            {"cpus", f.cpus.to_list()},
                            {"message", f.message}});
    }
    out = {{"candidate_source", to_string(plan.candidate_source)},
           {"candidates", plan.candidates.to_list()},
           {"workers", plan.workers.to_list()},
           {"housekeeping", plan.housekeeping.to_list()},
           {"idle", plan.idle.to_list()},
           {"offline", plan.offline.to_list()},
           {"findings", std::move(findings)}};
}

}  // namespace qc::core
