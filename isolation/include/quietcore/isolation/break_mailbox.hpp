// Where a break is posted for one worker: by its STRICT signal handler, by the
// soft back end's supervisor thread, or by the worker itself. Lock-free, so
// posting is async-signal-safe; the worker checks broken() (one load) at the
// top of every loop iteration and take()s the record when it acts on it.
#pragma once

#include <atomic>
#include <cstdint>

#include "quietcore/isolation/break_record.hpp"

namespace qc::isolation {

class BreakMailbox {
  public:
    // Any thread or signal handler. The first break since the last take()
    // wins; later ones are only counted (the worker is already dropping out).
    void post(const BreakRecord& record) noexcept {
        std::uint32_t expected = kEmpty;
        if (!state_.compare_exchange_strong(expected, kWriting, std::memory_order_acquire)) {
            coalesced_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        record_ = record;
        state_.store(kFull, std::memory_order_release);
    }

    // The worker: sticky until take(); a plain load, no syscall.
    bool broken() const noexcept { return state_.load(std::memory_order_relaxed) != kEmpty; }

    // The worker: copy the record out and clear the flag. False while empty or
    // while a poster is still writing (try again next iteration).
    bool take(BreakRecord& out) noexcept {
        if (state_.load(std::memory_order_acquire) != kFull) {
            return false;
        }
        out = record_;
        state_.store(kEmpty, std::memory_order_release);
        return true;
    }

    // Breaks posted while one was already pending.
    std::uint64_t coalesced() const noexcept { return coalesced_.load(std::memory_order_relaxed); }

  private:
    static constexpr std::uint32_t kEmpty = 0, kWriting = 1, kFull = 2;
    static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
    std::atomic<std::uint32_t> state_{kEmpty};
    std::atomic<std::uint64_t> coalesced_{0};
    BreakRecord record_{};
};

}  // namespace qc::isolation
