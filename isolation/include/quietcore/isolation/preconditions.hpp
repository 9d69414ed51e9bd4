// Whether the calling thread is ready to be isolated (issue 3 "API"): pinned
// to exactly one CPU, that CPU isolated (isolcpus=) and tick-free (nohz_full=),
// memory locked, ideally SCHED_FIFO. Not being pinned to exactly one CPU is
// always an error. For the kernel back end an unisolated or ticking CPU and
// unlocked memory are errors too (it refuses, or page faults break it); for
// the soft back end they are warnings: a stock kernel has neither isolcpus nor
// nohz_full, and the soft back end locks memory itself. SCHED_FIFO is advice.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "quietcore/core/cpu_set.hpp"
#include "quietcore/isolation/capabilities.hpp"

namespace qc::isolation {

enum class PreconditionSeverity { info, warning, error };

enum class PreconditionKind {
    not_pinned,         // allowed on every online CPU
    pinned_to_several,  // allowed on more than one CPU, not all
    no_cpu,             // allowed on no online CPU (affinity unreadable or stale)
    cpu_not_isolated,   // not in /sys/devices/system/cpu/isolated
    cpu_not_nohz_full,  // not in /sys/devices/system/cpu/nohz_full
    memory_not_locked,  // VmLck is 0: no mlockall / mlock
    not_sched_fifo,     // SCHED_OTHER etc.: advisable to run SCHED_FIFO
};

struct PreconditionFinding {
    PreconditionSeverity severity = PreconditionSeverity::info;
    PreconditionKind kind = PreconditionKind::not_pinned;
    std::string message;  // one sentence naming the CPU / set
};

// The facts the checks look at, gathered separately so the rules can be
// checked on any combination.
struct ThreadFacts {
    core::CpuSet allowed;  // sched_getaffinity of the thread
    core::CpuSet online;
    core::CpuSet isolated;         // isolcpus=
    core::CpuSet nohz_full;        // nohz_full=
    std::size_t locked_bytes = 0;  // VmLck of the process
    int sched_policy = 0;          // SCHED_OTHER, SCHED_FIFO, ...

    // The calling thread's facts; CPU sets from <sysfs_root>. Throws
    // core::Error / std::system_error when they cannot be read.
    static ThreadFacts of_calling_thread(const std::string& sysfs_root = "/sys");
};

std::vector<PreconditionFinding> check_preconditions(const ThreadFacts& facts, BackendKind backend);
// ThreadFacts::of_calling_thread() then check_preconditions().
std::vector<PreconditionFinding> check_calling_thread(BackendKind backend,
                                                      const std::string& sysfs_root = "/sys");

bool has_errors(const std::vector<PreconditionFinding>& findings) noexcept;

std::string_view to_string(PreconditionSeverity severity) noexcept;  // "info", "warning", "error"
std::string_view to_string(PreconditionKind kind) noexcept;          // e.g. "cpu-not-isolated"

}  // namespace qc::isolation
