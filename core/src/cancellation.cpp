#include "quietcore/core/cancellation.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace qc::core {

namespace detail {

CancellationState::CancellationState() {
    // Non-blocking so the one write() in request() can never block a signal
    // handler; the counter only ever goes from 0 to 1, so it cannot overflow.
    event_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (event_fd < 0) {
        throw std::system_error(errno, std::generic_category(),
                                "cancellation: eventfd(0, EFD_CLOEXEC|EFD_NONBLOCK)");
    }
}

CancellationState::~CancellationState() {
    ::close(event_fd);
}

}  // namespace detail

namespace {

using detail::CancellationState;

std::optional<CancelReason> decode(std::uint64_t word) noexcept {
    if (word == 0) {
        return std::nullopt;
    }
    auto kind = static_cast<CancelKind>((word >> 32) & 0xff);
    auto code = static_cast<int>(static_cast<std::uint32_t>(word));
    return CancelReason{kind, code};
}

// Returns true when the fd became readable, false on timeout.
bool poll_readable(int fd, int timeout_ms) {
    pollfd pfd{fd, POLLIN, 0};
    for (;;) {
        int n = ::poll(&pfd, 1, timeout_ms);
        if (n > 0) {
            return true;
        }
        if (n == 0) {
            return false;
        }
        if (errno != EINTR) {
            throw std::system_error(errno, std::generic_category(), "cancellation: poll");
        }
        // EINTR: retrying with the full timeout can only make the wait longer,
        // which callers of a housekeeping wait accept.
    }
}

}  // namespace

std::optional<CancelReason> CancellationToken::reason() const noexcept {
    return state_ ? decode(state_->word.load(std::memory_order_acquire)) : std::nullopt;
}

int CancellationToken::wait_fd() const noexcept {
    return state_ ? state_->event_fd : -1;
}

bool CancellationToken::wait_for(std::chrono::milliseconds timeout) const {
    if (stop_requested()) {
        return true;
    }
    if (!state_) {
        throw std::system_error(EINVAL, std::generic_category(),
                                "cancellation: wait on a token without a source");
    }
    auto ms = timeout.count() < 0 ? 0 : timeout.count();
    return poll_readable(state_->event_fd, ms > INT32_MAX ? INT32_MAX : static_cast<int>(ms));
}

void CancellationToken::wait() const {
    if (!state_) {
        throw std::system_error(EINVAL, std::generic_category(),
                                "cancellation: wait on a token without a source");
    }
    while (!stop_requested()) {
        poll_readable(state_->event_fd, -1);
    }
}

CancellationSource::CancellationSource() : state_(std::make_shared<CancellationState>()) {}

std::optional<CancelReason> CancellationSource::reason() const noexcept {
    return state_ ? decode(state_->word.load(std::memory_order_acquire)) : std::nullopt;
}

bool CancellationSource::request(int code) noexcept {
    return request_as(CancelKind::user, code);
}

bool CancellationSource::request_by_signal(int signo) noexcept {
    return request_as(CancelKind::signal, signo);
}

bool CancellationSource::request_as(CancelKind kind, int code) noexcept {
    if (!state_) {
        return false;
    }
    std::uint64_t desired = CancellationState::kRequested |
                            (static_cast<std::uint64_t>(kind) << 32) |
                            static_cast<std::uint32_t>(code);
    std::uint64_t expected = 0;
    if (!state_->word.compare_exchange_strong(expected, desired, std::memory_order_acq_rel,
                                              std::memory_order_acquire)) {
        return false;  // someone else was first; sticky, nothing to do
    }
    // Only the winner writes, so the eventfd counter is exactly 1 from now on
    // and pollers keep seeing it readable. errno is saved because this may run
    // inside a signal handler.
    int saved_errno = errno;
    const std::uint64_t one = 1;
    ssize_t rc;
    do {
        rc = ::write(state_->event_fd, &one, sizeof one);
    } while (rc < 0 && errno == EINTR);
    errno = saved_errno;
    return true;
}

}  // namespace qc::core
