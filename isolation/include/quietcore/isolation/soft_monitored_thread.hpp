// One thread under soft isolation, as seen by the housekeeping side (the
// seccomp supervisor and the entry poller). The worker only ever touches the
// atomics at the top (policy, isolated): plain stores, no syscall, no lock, so
// it can never wait for a housekeeping thread that is itself waiting for one
// of the worker's syscall notifications. The records below them are
// housekeeping-only and may allocate.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "quietcore/isolation/backend.hpp"
#include "quietcore/isolation/break_mailbox.hpp"
#include "quietcore/isolation/break_record.hpp"

namespace qc::isolation {

// How a kernel entry while isolated is handled (DESIGN.md "Isolation state machine").
struct SoftPolicy {
    StrictMode strict = StrictMode::log;
    int signal = SIGUSR1;             // for StrictMode::signal
    bool oneshot = false;             // the first entry ends isolation, without a signal
    BreakMailbox* mailbox = nullptr;  // where breaks are posted; may be null
    int cpu = -1;                     // the CPU the thread is pinned to, -1 unknown
};

// What the reporter must do to the thread after on_entry().
enum class BreakAction { none, signal, kill };

// One syscall as the supervisor received it.
struct SyscallEvent {
    std::uint64_t time_ns = 0;  // CLOCK_MONOTONIC at receipt
    pid_t tid = 0;              // in the supervisor's PID namespace
    std::uint32_t arch = 0;     // AUDIT_ARCH_*
    std::int32_t nr = -1;
    std::uint64_t args[6] = {};
    bool while_isolated = false;
};

// (arch, syscall number) -> how many times.
using SyscallCounts = std::map<std::pair<std::uint32_t, std::int32_t>, std::uint64_t>;

class MonitoredThread {
  public:
    // tgid is needed to signal the thread (tgkill); max_events bounds events().
    MonitoredThread(pid_t tgid, pid_t tid, std::size_t max_events);

    pid_t tid() const noexcept { return tid_; }
    pid_t tgid() const noexcept { return tgid_; }

    // --- worker side: atomics only -------------------------------------------
    // Set while not isolated; set_isolated(true) publishes it.
    void set_policy(const SoftPolicy& policy) noexcept;
    void set_isolated(bool on) noexcept { isolated_.store(on, std::memory_order_release); }
    bool isolated() const noexcept { return isolated_.load(std::memory_order_acquire); }
    SoftPolicy policy() const noexcept;

    // --- housekeeping side ---------------------------------------------------
    // A kernel entry described by `record` happened. Not isolated: nothing.
    // oneshot: isolation ends; signal/kill modes also post the record, no
    // signal. log/off: the thread stays isolated, nothing is posted. signal/
    // kill: isolation ends, the record is posted to the mailbox, and the
    // caller must then deliver() the returned action (after it has let the
    // syscall continue, for signal mode). Exactly one reporter wins a break.
    BreakAction on_entry(const BreakRecord& record) noexcept;
    // tgkill(tgid, tid, policy signal or SIGKILL). False if the thread is gone.
    bool deliver(BreakAction action) const noexcept;

    // Record a syscall; steady = after the start-up window.
    void record_syscall(const SyscallEvent& event, bool steady);

    // Breaks this thread's reports ended isolation with, by cause.
    std::uint64_t breaks(BreakCause cause) const noexcept {
        return breaks_[static_cast<std::size_t>(cause)].load(std::memory_order_relaxed);
    }

    struct Summary {
        SyscallCounts startup;  // before the start-up window ended
        SyscallCounts steady;
        std::uint64_t total = 0;
        std::vector<SyscallEvent> events;  // the first max_events, in order
        std::uint64_t events_dropped = 0;
    };
    Summary summary() const;

    // The thread (its filter's last user) is gone.
    void mark_finished() noexcept { finished_.store(true, std::memory_order_relaxed); }
    bool finished() const noexcept { return finished_.load(std::memory_order_relaxed); }

  private:
    const pid_t tgid_;
    const pid_t tid_;
    const std::size_t max_events_;

    std::atomic<bool> isolated_{false};
    std::atomic<StrictMode> strict_{StrictMode::log};
    std::atomic<int> signal_{SIGUSR1};
    std::atomic<bool> oneshot_{false};
    std::atomic<BreakMailbox*> mailbox_{nullptr};
    std::atomic<int> cpu_{-1};
    std::atomic<bool> finished_{false};
    std::array<std::atomic<std::uint64_t>, kBreakCauseCount> breaks_{};

    mutable std::mutex records_mutex_;  // housekeeping threads only
    Summary records_;
};

}  // namespace qc::isolation
