// --isolate: the measuring threads enter soft isolation (isolation/'s soft
// back end, StrictMode::log so an entry is counted, never fatal) and the run
// reports what entered the kernel on them, by cause.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

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

    isolation::Backend& backend() noexcept { return *backend_; }
    // Kernel entries of thread `tid` so far: its syscalls (supervisor) and
    // the poller's observations (interrupts, preemptions, migrations).
    BreakCounts breaks(pid_t tid) const;
    void poll_once() { poller_.poll_once(); }

  private:
    isolation::SoftSupervisor supervisor_;
    isolation::EntryPoller poller_;
    std::unique_ptr<isolation::Backend> backend_;
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
    isolation::BreakMailbox mailbox_;
    bool entered_ = false;
    std::string error_;
};

}  // namespace qc::jitter
