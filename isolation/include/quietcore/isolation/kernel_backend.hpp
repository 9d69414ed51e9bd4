// The kernel back end: the task-isolation prctl of the project's kernel patch
// (DESIGN.md "Kernel ABI"). On a stock kernel options 48/49 do not exist and
// prctl answers EINVAL; this back end detects that and says so instead of
// mistaking it for the patch's own EINVAL (thread not pinned/isolated).
//
// STRICT modes map onto the flags as follows:
//   off     ENABLE                      persistent (or one-shot) isolation
//   log     ENABLE                      the kernel's persistent non-strict mode:
//                                       the thread stays isolated across kernel
//                                       entries and the kernel keeps the last
//                                       break record, read afterwards with
//                                       read_kernel_break() (a syscall: not in
//                                       steady state)
//   signal  ENABLE|STRICT|SET_SIG(s)    the break ends isolation, the kernel
//                                       sends s; the STRICT handler reads the
//                                       break record and posts it
//   kill    ENABLE|STRICT|SET_SIG(0)    SET_SIG(0) means SIGKILL
// plus ONESHOT when the request asks for one-shot isolation.
#pragma once

#include <memory>

#include "quietcore/isolation/backend.hpp"
#include "quietcore/isolation/break_record.hpp"
#include "quietcore/isolation/task_isolation_abi.hpp"

namespace qc::isolation {

// Whether the running kernel has the task-isolation prctl: PR_GET_TASK_ISOLATION
// with arg2 = 0 returns the flags there and EINVAL on a stock kernel. One
// syscall; the answer is not cached.
bool kernel_task_isolation_present() noexcept;

// The prctl flags for `request`. Throws IsolationError(EINVAL) naming the
// signal when StrictMode::signal asks for a number outside 1..SIGRTMAX, or for
// SIGKILL/SIGSTOP (use StrictMode::kill for SIGKILL).
unsigned kernel_isolation_flags(const IsolationRequest& request);

// The kernel's break record as a BreakRecord. Pure. Fields the kernel did not
// fill in (beyond `size`) stay at their "unknown" defaults; a record too short
// to hold the cause, or with a cause this build does not know, decodes as
// BreakCause::unknown. Only the fields that belong to the cause are copied.
BreakRecord decode_break(const abi::TaskIsolationBreak& raw) noexcept;

// PR_GET_TASK_ISOLATION / PR_TASK_ISOLATION_GET_BREAK for the calling thread:
// one raw syscall, async-signal-safe (errno is preserved), so the STRICT
// handler may call it. False when the kernel has no such record (stock kernel).
bool read_kernel_break(BreakRecord& out) noexcept;

class KernelBackend final : public Backend {
  public:
    std::string_view name() const noexcept override { return "kernel"; }

    // Validates the request, then (StrictMode::signal) installs the STRICT
    // handler and routes this thread's breaks to `mailbox`, then asks the
    // kernel. Throws IsolationError: ENOSYS when the kernel has no task
    // isolation, EINVAL/EAGAIN/EPERM with a sentence on what the kernel refused.
    void enter(const IsolationRequest& request, BreakMailbox& mailbox) override;
    // prctl(PR_SET_TASK_ISOLATION, 0) when entered; detaches the STRICT handler.
    void leave() noexcept override;

  private:
    bool entered_ = false;
    bool signal_attached_ = false;
};

std::unique_ptr<Backend> make_kernel_backend();

}  // namespace qc::isolation
