// Process-wide signal policy (DESIGN.md "Signals", seed 004).
//
// Every thread blocks every asynchronous signal; one housekeeping thread, the
// SignalThread, takes them from a signalfd. No code runs in signal handlers
// here. Stop signals request a sticky cancellation (graceful drain), SIGCHLD
// reaps every exited child, and every other asynchronous signal is read and
// dropped, so an unexpected SIGUSR1 or SIGPIPE never kills the program.
//
// Running as PID 1 of a PID namespace: the kernel drops default-fatal signals
// sent to PID 1 from inside the namespace when PID 1 has no handler for them.
// That check is skipped for blocked signals, which are queued instead, so the
// signalfd still sees SIGTERM/SIGINT from inside the namespace and from the
// parent alike. Orphans are re-parented to PID 1 and reaped here; SIGKILL from
// the parent namespace still kills (it cannot be blocked).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "quietcore/core/cancellation.hpp"

namespace qc::core {

// Every signal glibc lets applications use, except the synchronous faults
// (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS), which must reach the
// faulting thread, and SIGKILL/SIGSTOP, which cannot be blocked.
sigset_t async_signal_set();
bool is_async_signal(int signo) noexcept;

// Blocks async_signal_set() in the calling thread and returns the previous
// mask. Call it in main() before any thread starts so every thread inherits
// the mask. Throws std::system_error.
sigset_t block_async_signals();

// For a forked child before exec (the mask survives exec): unblock every
// signal. Async-signal-safe; false if sigprocmask failed.
bool unblock_all_signals() noexcept;

// True when this process is PID 1 of its PID namespace.
bool is_pid1() noexcept;

// "SIGTERM", "SIGRTMIN+3"; "signal 99" for a number that is no signal.
std::string signal_name(int signo);

// A reaped child: its pid and raw wait status (WIFEXITED etc. apply).
struct ChildExit {
    pid_t pid;
    int status;
};
// "pid 12 exited with status 3", "pid 12 killed by SIGKILL".
std::string describe(const ChildExit& child);

// One signal as the signalfd reported it.
struct SignalEvent {
    int signo;
    pid_t
        sender_pid;  // as seen from this PID namespace; 0 from the kernel or an ancestor namespace
    uid_t sender_uid;
    int code;  // si_code: SI_USER for kill(), SI_QUEUE, CLD_EXITED, ...
};

struct SignalThreadOptions {
    // Signals that request cancellation with the signal as the reason. SIGHUP
    // (the terminal or session went away) and SIGQUIT (Ctrl-\, and the stop
    // signal some container images configure) are included because their
    // default action also ends the program; give one a handler to use it for
    // something else (e.g. SIGHUP to reload).
    std::vector<int> stop_signals{SIGTERM, SIGINT, SIGHUP, SIGQUIT};
    // Called after the cancellation has been requested (every time a stop
    // signal arrives, also after the first).
    std::function<void(const SignalEvent&)> on_stop_signal;

    // On SIGCHLD, reap every exited child of the process with waitpid(-1,
    // WNOHANG). This takes the exit status of *every* child, so code that
    // waits for its own children must set this false; PID 1 must keep it.
    bool reap_children = true;
    std::function<void(const ChildExit&)> on_child_exit;

    // Per-signal callbacks. A handler replaces the stop action of a signal in
    // stop_signals. SIGCHLD takes none while reap_children is set.
    std::map<int, std::function<void(const SignalEvent&)>> handlers;

    // Every other asynchronous signal is read and dropped; this sees each one.
    std::function<void(const SignalEvent&)> on_ignored;

    // Thread name in /proc (at most 15 bytes).
    std::string thread_name = "qc-signals";
};

// The housekeeping thread that owns signal delivery. Callbacks run on it and
// must not throw (an escaping exception terminates the program, as in any
// std::thread). `stop` must outlive the SignalThread. The thread inherits the
// creator's CPU affinity: create it on a housekeeping thread.
class SignalThread {
  public:
    // Throws qc::core::Error if an option names a signal that is not an
    // asynchronous signal, or if the calling thread does not block every
    // asynchronous signal (call block_async_signals() in main() first);
    // std::system_error if signalfd fails. Signals sent after the constructor
    // returns are never lost: they stay pending until the thread reads them.
    SignalThread(CancellationSource& stop, SignalThreadOptions options = {});
    ~SignalThread();
    SignalThread(const SignalThread&) = delete;
    SignalThread& operator=(const SignalThread&) = delete;

    // Stops the thread (its own cancellation, not `stop`) and joins it.
    // Idempotent. Unread signals stay pending.
    void stop();

    std::size_t children_reaped() const noexcept { return reaped_.load(std::memory_order_relaxed); }

  private:
    void run() noexcept;
    void dispatch(const SignalEvent& ev);
    void reap();

    CancellationSource& stop_;
    SignalThreadOptions options_;
    sigset_t stop_set_{};
    int signal_fd_ = -1;
    CancellationSource own_stop_;
    std::atomic<std::size_t> reaped_{0};
    std::thread thread_;
};

}  // namespace qc::core
