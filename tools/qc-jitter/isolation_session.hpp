// --isolate: the measuring threads enter isolation with StrictMode::log (an
// entry is counted, never fatal) and the run reports what entered the kernel
// on them, by cause. On a kernel with the task-isolation patch that is the
// kernel back end (persistent mode; the kernel counts breaks in
// /proc/<pid>/task/<tid>/task_isolation); elsewhere the soft back end.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "quietcore/isolation/backend.hpp"
#include "quietcore/isolation/break_mailbox.hpp"
#include "quietcore/isolation/entry_poller.hpp"
#include "quietcore/isolation/seccomp_monitor.hpp"

namespace qc::jitter {

// Cause name ("syscall", "irq", "preemption", ...) -> count.
using BreakCounts = std::map<std::string, std::uint64_t>;

// after - before per cause; "syscall" always present, other causes only when
// non-zero.
BreakCounts subtract(const BreakCounts& after, const BreakCounts& before);

// The housekeeping side, shared by every worker: supervisor, poller, back end.
class IsolationSupervision {
  public:
    IsolationSupervision();
    ~IsolationSupervision();
    IsolationSupervision(const IsolationSupervision&) = delete;
    IsolationSupervision& operator=(const IsolationSupervision&) = delete;

    // "kernel" or "soft".
    std::string_view backend_name() const noexcept { return kernel_ ? "kernel" : "soft"; }
    // A back end for one worker: its own kernel back end, or the shared soft one.
    isolation::Backend& backend_for_worker(std::unique_ptr<isolation::Backend>& owned);
    // Kernel entries of thread `tid` so far, by cause: the kernel's counts,
    // or (soft) its syscalls (supervisor) and the poller's observations
    // (interrupts, preemptions, migrations).
    BreakCounts breaks(pid_t tid) const;
    void poll_once();

  private:
    bool kernel_;
    std::unique_ptr<isolation::SoftSupervisor> supervisor_;
    std::unique_ptr<isolation::EntryPoller> poller_;
    std::unique_ptr<isolation::Backend> soft_backend_;
};

// One worker's isolation; enter() and leave() run on the worker.
class IsolationSession {
  public:
    IsolationSession(IsolationSupervision& supervision, unsigned cpu)
        : supervision_(supervision), cpu_(cpu) {}
    // Before the run (may make syscalls). Failure is kept for error().
    void enter() noexcept;
    void leave() noexcept;
    bool entered() const noexcept { return entered_; }
    const std::string& error() const noexcept { return error_; }

  private:
    IsolationSupervision& supervision_;
    unsigned cpu_;
    std::unique_ptr<isolation::Backend> owned_backend_;
    isolation::Backend* backend_ = nullptr;
    isolation::BreakMailbox mailbox_;
    bool entered_ = false;
    std::string error_;
};

}  // namespace qc::jitter
