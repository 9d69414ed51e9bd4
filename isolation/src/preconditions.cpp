#include "quietcore/isolation/preconditions.hpp"

#include <sched.h>

#include "quietcore/core/isolation_plan.hpp"
#include "quietcore/core/numa_memory.hpp"
#include "quietcore/core/thread.hpp"

namespace qc::isolation {
namespace {

std::string cpus_text(const core::CpuSet& set) {
    return set.empty() ? std::string("none") : set.to_list();
}

}  // namespace

ThreadFacts ThreadFacts::of_calling_thread(const std::string& sysfs_root) {
    ThreadFacts facts;
    const core::KernelCpuSets kernel = core::KernelCpuSets::read(sysfs_root);
    facts.allowed = core::allowed_cpus();
    facts.online = kernel.online;
    facts.isolated = kernel.isolated;
    facts.nohz_full = kernel.nohz_full;
    facts.locked_bytes = core::locked_memory_bytes();
    facts.sched_policy = sched_getscheduler(0);
    return facts;
}

std::vector<PreconditionFinding> check_preconditions(const ThreadFacts& facts,
                                                     BackendKind backend) {
    std::vector<PreconditionFinding> out;
    const auto kernel_rule = backend == BackendKind::kernel ? PreconditionSeverity::error
                                                            : PreconditionSeverity::warning;
    const std::string who = "the " + std::string(to_string(backend)) + " back end";

    const core::CpuSet usable = facts.allowed & facts.online;
    if (usable.empty()) {
        out.push_back({PreconditionSeverity::error, PreconditionKind::no_cpu,
                       "The thread is allowed on CPUs " + cpus_text(facts.allowed) +
                           ", none of which is online (" + cpus_text(facts.online) +
                           "); pin it to one isolated CPU."});
    } else if (usable.count() > 1) {
        const bool everywhere = facts.online.is_subset_of(facts.allowed);
        out.push_back(
            {PreconditionSeverity::error,
             everywhere ? PreconditionKind::not_pinned : PreconditionKind::pinned_to_several,
             (everywhere ? "The thread is not pinned: it may run on every online CPU ("
                         : "The thread is pinned to several CPUs (") +
                 usable.to_list() + "); " + who + " needs exactly one CPU."});
    } else {
        const unsigned cpu = static_cast<unsigned>(usable.first());
        const std::string name = "CPU " + std::to_string(cpu);
        if (!facts.isolated.contains(cpu)) {
            out.push_back({kernel_rule, PreconditionKind::cpu_not_isolated,
                           name + " is not in the scheduler's isolated set (isolcpus=: " +
                               cpus_text(facts.isolated) + "), so other tasks may run on it."});
        }
        if (!facts.nohz_full.contains(cpu)) {
            out.push_back({kernel_rule, PreconditionKind::cpu_not_nohz_full,
                           name + " is not tick-free (nohz_full=: " + cpus_text(facts.nohz_full) +
                               "), so the timer tick keeps interrupting it."});
        }
    }
    if (facts.locked_bytes == 0) {
        out.push_back({kernel_rule, PreconditionKind::memory_not_locked,
                       "No memory of the process is locked (VmLck is 0 kB): call mlockall "
                       "(core::lock_all_memory) and pre-fault before isolating, or page faults "
                       "will break isolation."});
    }
    if (facts.sched_policy != SCHED_FIFO) {
        out.push_back({PreconditionSeverity::info, PreconditionKind::not_sched_fifo,
                       "The thread does not run SCHED_FIFO; that is advisable, so a stray "
                       "SCHED_OTHER task on the CPU cannot preempt it."});
    }
    return out;
}

std::vector<PreconditionFinding> check_calling_thread(BackendKind backend,
                                                      const std::string& sysfs_root) {
    return check_preconditions(ThreadFacts::of_calling_thread(sysfs_root), backend);
}

bool has_errors(const std::vector<PreconditionFinding>& findings) noexcept {
    for (const auto& f : findings) {
        if (f.severity == PreconditionSeverity::error) {
            return true;
        }
    }
    return false;
}

std::string_view to_string(PreconditionSeverity severity) noexcept {
    switch (severity) {
        case PreconditionSeverity::info:
            return "info";
        case PreconditionSeverity::warning:
            return "warning";
        case PreconditionSeverity::error:
            break;
    }
    return "error";
}

std::string_view to_string(PreconditionKind kind) noexcept {
    switch (kind) {
        case PreconditionKind::not_pinned:
            return "not-pinned";
        case PreconditionKind::pinned_to_several:
            return "pinned-to-several";
        case PreconditionKind::no_cpu:
            return "no-cpu";
        case PreconditionKind::cpu_not_isolated:
            return "cpu-not-isolated";
        case PreconditionKind::cpu_not_nohz_full:
            return "cpu-not-nohz-full";
        case PreconditionKind::memory_not_locked:
            return "memory-not-locked";
        case PreconditionKind::not_sched_fifo:
            break;
    }
    return "not-sched-fifo";
}

}  // namespace qc::isolation
