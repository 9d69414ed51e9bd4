// Sticky cancellation (DESIGN.md "Signals", seed 003).
//
// A CancellationSource is requested at most once in effect: the first
// request() wins, records its reason, and from then on the request stays
// visible forever: there is no reset. Isolated workers poll
// CancellationToken::stop_requested() at the top of every loop iteration; it is
// one atomic load, no syscall. Housekeeping threads blocked in poll/epoll add
// wait_fd() to their set: the first request writes an eventfd that stays
// readable forever after.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

namespace qc::core {

// Why a stop was requested: by program code (with a code of its choosing) or
// by a signal (code = the signal number).
enum class CancelKind : std::uint8_t { user = 1, signal = 2 };

struct CancelReason {
    CancelKind kind;
    int code;

    friend bool operator==(const CancelReason&, const CancelReason&) = default;
};

namespace detail {
// Shared by a source and its tokens. `word` is 0 until the first request,
// then kRequested | kind << 32 | (uint32)code, never changed again. One word
// so the flag and its reason appear together.
struct CancellationState {
    static constexpr std::uint64_t kRequested = std::uint64_t{1} << 63;
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                  "request() must stay async-signal-safe");

    std::atomic<std::uint64_t> word{0};
    int event_fd = -1;

    CancellationState();
    ~CancellationState();
    CancellationState(const CancellationState&) = delete;
    CancellationState& operator=(const CancellationState&) = delete;
};
}  // namespace detail

// The read side: cheap to copy, shares the state with its source (a token may
// outlive the source). A default-constructed token is never requested and has
// no fd.
class CancellationToken {
  public:
    CancellationToken() noexcept = default;

    // One acquire load; safe on an isolated CPU and in signal handlers.
    bool stop_requested() const noexcept {
        return state_ && state_->word.load(std::memory_order_acquire) != 0;
    }
    // The reason of the first request, if any. No syscall.
    std::optional<CancelReason> reason() const noexcept;

    // An eventfd that becomes readable (POLLIN/EPOLLIN) at the first request
    // and stays readable. Poll it; never read() it or the wake-up is consumed
    // for everyone. -1 for a default-constructed token.
    int wait_fd() const noexcept;

    // Housekeeping only: block until requested (true) or until the timeout
    // passes (false). Throws std::system_error if poll fails.
    bool wait_for(std::chrono::milliseconds timeout) const;
    void wait() const;

  private:
    friend class CancellationSource;
    explicit CancellationToken(std::shared_ptr<const detail::CancellationState> state) noexcept
        : state_(std::move(state)) {}
    std::shared_ptr<const detail::CancellationState> state_;
};

// The write side. Creating one allocates the shared state and an eventfd
// (housekeeping; throws std::system_error if eventfd fails). Move-only.
class CancellationSource {
  public:
    CancellationSource();
    CancellationSource(CancellationSource&&) noexcept = default;
    CancellationSource& operator=(CancellationSource&&) noexcept = default;
    CancellationSource(const CancellationSource&) = delete;
    CancellationSource& operator=(const CancellationSource&) = delete;
    ~CancellationSource() = default;

    // Request a stop. Thread-safe and async-signal-safe (one compare-exchange
    // and, for the first request only, one write() to the eventfd). Returns true
    // if this call was the first request; later calls change nothing.
    bool request(int code = 0) noexcept;
    // The same, recording that signal `signo` caused it.
    bool request_by_signal(int signo) noexcept;

    bool stop_requested() const noexcept {
        return state_ && state_->word.load(std::memory_order_acquire) != 0;
    }
    std::optional<CancelReason> reason() const noexcept;
    int wait_fd() const noexcept { return state_ ? state_->event_fd : -1; }

    CancellationToken token() const noexcept { return CancellationToken(state_); }

  private:
    bool request_as(CancelKind kind, int code) noexcept;
    std::shared_ptr<detail::CancellationState> state_;
};

}  // namespace qc::core
