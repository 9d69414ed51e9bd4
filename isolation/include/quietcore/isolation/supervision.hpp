// The housekeeping side of isolation, shared by every worker of a process:
// which back end runs (the kernel's task isolation where the patch is,
// otherwise soft isolation with its seccomp supervisor and entry poller), a
// back end per worker, and what entered the kernel on each worker so far.
// Used by qc-jitter --isolate and by the data-plane workers; callers never
// branch on the back end.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "quietcore/isolation/backend.hpp"
#include "quietcore/isolation/capabilities.hpp"  // BackendKind
#include "quietcore/isolation/entry_poller.hpp"
#include "quietcore/isolation/seccomp_monitor.hpp"

namespace qc::isolation {

// Cause name ("syscall", "irq", "preemption", ...) -> count.
using BreakCounts = std::map<std::string, std::uint64_t>;

// after - before per cause; "syscall" always present, other causes only when
// non-zero.
BreakCounts subtract(const BreakCounts& after, const BreakCounts& before);

// The kernel back end when the running kernel has the task-isolation prctl,
// the soft one otherwise.
BackendKind detect_backend() noexcept;

class Supervision {
  public:
    // Throws IsolationError (ENOSYS) when `kind` is kernel and the running
    // kernel has no task isolation. Soft: starts the supervisor and poller.
    explicit Supervision(BackendKind kind = detect_backend());
    ~Supervision();
    Supervision(const Supervision&) = delete;
    Supervision& operator=(const Supervision&) = delete;

    BackendKind kind() const noexcept { return kernel_ ? BackendKind::kernel : BackendKind::soft; }
    // "kernel" or "soft".
    std::string_view backend_name() const noexcept { return kernel_ ? "kernel" : "soft"; }
    // A back end for one worker: its own kernel back end (kept in `owned`),
    // or the shared soft one.
    Backend& backend_for_worker(std::unique_ptr<Backend>& owned);
    // Kernel entries of thread `tid` of this process so far, by cause: the
    // kernel's counts, or (soft) its syscalls (supervisor) and the poller's
    // observations (interrupts, preemptions, migrations).
    BreakCounts breaks(pid_t tid) const;
    // Soft: one poll of the per-CPU counters now (the poller also runs on its
    // own thread). Kernel: nothing.
    void poll_once();

  private:
    bool kernel_;
    std::unique_ptr<SoftSupervisor> supervisor_;
    std::unique_ptr<EntryPoller> poller_;
    std::unique_ptr<Backend> soft_backend_;
};

}  // namespace qc::isolation
