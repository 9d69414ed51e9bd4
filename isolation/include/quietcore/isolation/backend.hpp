// The two ways to "enter isolation" (DESIGN.md): the kernel's task-isolation
// prctl, and soft isolation for stock kernels. Callers never branch on which;
// select_backend() picks what the running kernel supports.
#pragma once

#include <csignal>
#include <memory>
#include <string_view>

#include "quietcore/core/error.hpp"
#include "quietcore/isolation/break_mailbox.hpp"

namespace qc::isolation {

// What happens when the isolated thread enters the kernel.
enum class StrictMode {
    off,     // nothing is reported (persistent mode re-quiesces on return)
    log,     // the entry is recorded, the thread stays isolated
    signal,  // isolation ends, the cause is posted and `signal` is delivered
    kill,    // isolation ends with SIGKILL
};

struct IsolationRequest {
    bool oneshot = false;  // end isolation at the next kernel entry, without a signal
    StrictMode strict = StrictMode::signal;
    int signal = SIGUSR1;  // for StrictMode::signal
};

// enter() refused: code is the errno the kernel (or the soft back end's own
// checks) gave: EINVAL (preconditions), EAGAIN (quiesce did not finish in time),
// ENOSYS (back end unavailable), EPERM.
class IsolationError : public core::Error {
  public:
    IsolationError(int code, const std::string& message) : core::Error(message), code_(code) {}
    int code() const noexcept { return code_; }

  private:
    int code_;
};

class Backend {
  public:
    virtual ~Backend() = default;
    virtual std::string_view name() const noexcept = 0;  // "kernel" or "soft"

    // On the worker thread, preconditions already checked: start isolation and
    // post every break to `mailbox` (which outlives the isolated period).
    // Throws IsolationError. Not for steady state: may make syscalls.
    virtual void enter(const IsolationRequest& request, BreakMailbox& mailbox) = 0;
    // On the worker thread: end isolation (no-op when not isolated).
    virtual void leave() noexcept = 0;
};

}  // namespace qc::isolation
