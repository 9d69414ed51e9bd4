// The STRICT signal (DESIGN.md "Signals"): one process-wide SA_SIGINFO
// handler per signal number, and per thread a mailbox the handler posts to.
//
// The handler is async-signal-safe: it reads a thread_local slot (initial-exec
// TLS, so no allocation on first use), builds a BreakRecord and posts it to the
// mailbox. Where the record comes from:
//   - a kernel break reader is attached (kernel back end): the kernel's break
//     record (PR_TASK_ISOLATION_GET_BREAK), isolation being already off;
//   - the signal was sent with signal_posted_break() (soft supervisor): the
//     record is already in the mailbox, the handler posts nothing;
//   - otherwise: a BreakCause::signal record with the signal number.
// A signal while the mailbox still holds a record is coalesced (counted by
// the mailbox), not lost. The worker acts at its next loop iteration.
//
// Every thread blocks asynchronous signals (core's signals.hpp); an attached
// worker unblocks only its STRICT signal, so a process-directed SIGTERM never
// lands on an isolated CPU. Synchronous faults are never blocked.
#pragma once

#include <sys/types.h>

#include "quietcore/isolation/break_mailbox.hpp"
#include "quietcore/isolation/break_record.hpp"

namespace qc::isolation {

// Fills a record describing the last break; false when there is none. Must be
// async-signal-safe. The kernel back end passes read_kernel_break.
using BreakReader = bool (*)(BreakRecord& out) noexcept;

// Installs the handler for `signo` (idempotent). Throws IsolationError(EINVAL)
// naming the signal when it is not a catchable signal (SIGKILL, SIGSTOP,
// outside 1..SIGRTMAX), std::system_error if sigaction fails.
void install_strict_signal_handler(int signo);

// Calling thread: route `signo` to `mailbox` (which must outlive the
// attachment) and unblock it in this thread. Installs the handler if needed.
// Replaces an earlier attachment of this thread. Throws as above.
void attach_strict_signal(int signo, BreakMailbox& mailbox, BreakReader reader = nullptr);
// Calling thread: restore the signal's previous blocked state and forget the
// mailbox. No-op when nothing is attached.
void detach_strict_signal() noexcept;
// The calling thread's attached mailbox, or nullptr.
BreakMailbox* attached_strict_mailbox() noexcept;

// For a poster that has already post()ed the record (the soft supervisor):
// sends `signo` to thread `tid` of process `tgid`, marked so the handler does
// not post again. Async-signal-safe; false (errno set) if the kernel refused.
bool signal_posted_break(pid_t tgid, pid_t tid, int signo) noexcept;

}  // namespace qc::isolation
