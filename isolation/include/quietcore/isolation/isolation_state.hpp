// The isolation state machine's vocabulary (DESIGN.md "Isolation state
// machine"): states, what moved a worker between them, the event recorded for
// every transition, per-cause break counters and the policies after a break.
//
//  idle --prepare--> quiescing --ok--> isolated --break(cause)--> broken
//    ^                  |                 |                         |
//    |               EINVAL/            leave()              policy: re-enter
//    |               EAGAIN (retry         |                  after backoff /
//    +--- stopped <--- w/ backoff) <-------+------------------ degrade / stop
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "quietcore/isolation/break_record.hpp"

namespace qc::isolation {

enum class IsolationState : std::uint8_t {
    idle,       // not isolated: before start, while backing off an EAGAIN, or degraded
    quiescing,  // Backend::enter() in progress
    isolated,
    broken,   // a break was taken; backing off before re-entering
    stopped,  // the worker is told to exit
};

// Why a transition happened.
enum class Trigger : std::uint8_t {
    prepare,        // idle/broken/stopped -> quiescing: enter() called (attempt n)
    entered,        // quiescing -> isolated
    enter_retry,    // quiescing -> idle: EAGAIN, retried after a back-off
    enter_refused,  // quiescing -> idle (degrade) or stopped: not retryable, or retries used up
    broke,          // isolated -> broken, or a late break while not isolated (from == to)
    degrade,        // broken -> idle: keep working un-isolated
    stop,           // broken -> stopped by policy
    leave,          // any -> stopped: the worker left isolation
};

struct IsolationEvent {
    std::uint64_t cycles = 0;  // core::CycleCounter::read(); the reader converts
    IsolationState from = IsolationState::idle;
    IsolationState to = IsolationState::idle;
    Trigger trigger = Trigger::prepare;
    std::int32_t error = 0;     // errno of a refused enter (EINVAL, EAGAIN, ...), else 0
    std::uint32_t attempt = 0;  // enter attempt this event belongs to (1 = first)
    BreakRecord cause{};        // Trigger::broke: what broke isolation
};
static_assert(std::is_trivially_copyable_v<IsolationEvent>);

// What a worker does after a break.
enum class BreakPolicy : std::uint8_t {
    reenter,  // back off, then enter again
    degrade,  // leave isolation and keep working un-isolated
    stop,     // leave isolation; the worker is told to exit
};

// Back-offs are counted in poll() calls (worker loop iterations), never slept:
// the worker keeps running its loop un-isolated while it waits.
struct IsolationPolicy {
    BreakPolicy after_break = BreakPolicy::reenter;
    // Back-off before re-entering: initial << (n - 1) iterations for the n-th
    // setback in a row (break or EAGAIN), at most max_backoff_iterations.
    std::uint64_t initial_backoff_iterations = 1024;
    std::uint64_t max_backoff_iterations = std::uint64_t{1} << 24;
    // Consecutive EAGAIN answers accepted before giving up on entering.
    std::uint32_t max_enter_attempts = 8;
    // A break after at least this many cycle-counter ticks of isolation is
    // not "in a row": the back-off starts again from initial.
    std::uint64_t stable_cycles = std::uint64_t{1} << 32;
};

// Breaks by cause, for one worker. One writer (the worker) with relaxed
// load+store (no locked instruction); any thread reads.
class BreakCounters {
  public:
    void count(BreakCause cause) noexcept {
        auto& c = counts_[index(cause)];
        c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
    std::uint64_t operator[](BreakCause cause) const noexcept {
        return counts_[index(cause)].load(std::memory_order_relaxed);
    }
    std::uint64_t total() const noexcept {
        std::uint64_t sum = 0;
        for (const auto& c : counts_) {
            sum += c.load(std::memory_order_relaxed);
        }
        return sum;
    }

  private:
    static std::size_t index(BreakCause cause) noexcept {
        auto i = static_cast<std::size_t>(cause);
        return i < kBreakCauseCount ? i : static_cast<std::size_t>(BreakCause::unknown);
    }
    std::array<std::atomic<std::uint64_t>, kBreakCauseCount> counts_{};
};

std::string_view to_string(IsolationState state) noexcept;  // "idle", "quiescing", ...
std::string_view to_string(Trigger trigger) noexcept;       // "prepare", "enter-retry", ...
std::string_view to_string(BreakPolicy policy) noexcept;    // "reenter", "degrade", "stop"

// Housekeeping (allocates): "syscall 39 on CPU 1", and
// "isolated -> broken (broke, attempt 1): syscall 39 on CPU 1". Timestamps are
// left to the reader, who has the cycle counter's calibration.
std::string describe(const BreakRecord& record);
std::string describe(const IsolationEvent& event);

}  // namespace qc::isolation
