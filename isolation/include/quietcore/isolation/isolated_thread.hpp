// One isolated worker's state machine (isolation_state.hpp), driven by the
// worker itself: start() once, poll() at the top of every loop iteration.
//
//   IsolatedThread iso(backend, request, policy, events);
//   iso.start();
//   while (iso.poll()) { ...one iteration of work... }
//
// poll() in steady state is one relaxed load of the mailbox's broken flag
// plus one plain load of a worker-local flag: no syscall, no allocation.
// When a break is posted (STRICT signal handler or soft supervisor) it takes
// the record, counts it, records the transition on the event ring and applies
// the policy. Re-entering isolation calls Backend::enter(), which makes
// syscalls (the kernel back end's prctl): that happens after a break or an
// EAGAIN, never in steady state. Back-offs are counted in poll() calls.
//
// Which requests end isolation on a break: StrictMode::signal and kill. With
// log/off the back end keeps the thread isolated; posted entries are counted
// and recorded and the state stays isolated. One-shot isolation ends silently
// at the next kernel entry (no signal, nothing posted): pair it with
// StrictMode::signal to learn of it.
//
// Threads: every member function except state(), counters() and
// coalesced_breaks() belongs to the worker thread. Events go to `events`,
// whose single producer is the worker; a housekeeping thread drains it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "quietcore/core/event_ring.hpp"
#include "quietcore/isolation/backend.hpp"
#include "quietcore/isolation/break_mailbox.hpp"
#include "quietcore/isolation/isolation_state.hpp"

namespace qc::isolation {

class IsolatedThread {
  public:
    // `backend` and `events` must outlive this object. Throws core::Error
    // naming the field when the policy is inconsistent (a zero back-off or
    // attempt count, max below initial).
    IsolatedThread(Backend& backend, const IsolationRequest& request, const IsolationPolicy& policy,
                   core::SpscRing<IsolationEvent>& events);
    IsolatedThread(const IsolatedThread&) = delete;
    IsolatedThread& operator=(const IsolatedThread&) = delete;

    // From idle, broken or stopped: enter isolation now. An EAGAIN is retried
    // by later poll()s after a back-off. True when isolated on return; when not,
    // state() and last_error() say why.
    bool start() noexcept;

    // Once per loop iteration. False once the worker should exit (stopped).
    bool poll() noexcept {
        if (!mailbox_.broken()) [[likely]] {
            if (!attention_) [[likely]] {
                return true;
            }
            // Backing off after a break: one decrement here, not a call per
            // iteration (a preempted soft-isolated forwarder spends most of
            // its time backing off; the call cost qc-fwd ~2.5% in io mode).
            if (backoff_remaining_ > 1 && state() != IsolationState::stopped) {
                --backoff_remaining_;
                return true;
            }
        }
        return poll_slow();
    }

    // End isolation for good: Backend::leave(), state stopped.
    void leave() noexcept;

    IsolationState state() const noexcept { return state_.load(std::memory_order_relaxed); }
    const BreakCounters& counters() const noexcept { return counters_; }
    // Breaks posted while one was pending (the mailbox keeps the first).
    std::uint64_t coalesced_breaks() const noexcept { return mailbox_.coalesced(); }
    // Where back ends and STRICT handlers post breaks for this worker.
    BreakMailbox& mailbox() noexcept { return mailbox_; }
    // poll() calls left before the next enter attempt; 0 when none is due.
    std::uint64_t backoff_remaining() const noexcept { return backoff_remaining_; }
    // The message of the last refused enter ("" if none), truncated to 255 bytes.
    std::string_view last_error() const noexcept { return last_error_; }

  private:
    bool poll_slow() noexcept;
    void on_break(const BreakRecord& record) noexcept;
    void try_enter() noexcept;
    void transition(IsolationState to, Trigger trigger, int error = 0,
                    const BreakRecord& cause = {}) noexcept;
    std::uint64_t backoff(std::uint32_t setbacks) const noexcept;
    void remember_error(const char* message) noexcept;

    BreakMailbox mailbox_;
    bool attention_ = false;  // back-off running or stopped: poll() takes the slow path
    Backend& backend_;
    IsolationRequest request_;
    IsolationPolicy policy_;
    core::SpscRing<IsolationEvent>& events_;
    std::atomic<IsolationState> state_{IsolationState::idle};
    BreakCounters counters_;
    std::uint64_t backoff_remaining_ = 0;
    std::uint32_t attempt_ = 0;       // enter attempts in the current series
    std::uint32_t break_streak_ = 0;  // breaks in a row (isolated < stable_cycles)
    std::uint64_t entered_cycles_ = 0;
    char last_error_[256] = {};
};

}  // namespace qc::isolation
