#include "quietcore/isolation/isolated_thread.hpp"

#include <cerrno>
#include <cstring>
#include <exception>
#include <string>

#include "quietcore/core/cycle_counter.hpp"
#include "quietcore/core/error.hpp"

namespace qc::isolation {
namespace {

const IsolationPolicy& checked(const IsolationPolicy& p) {
    if (p.initial_backoff_iterations == 0) {
        throw core::Error("isolation policy: initial_backoff_iterations must be at least 1");
    }
    if (p.max_backoff_iterations < p.initial_backoff_iterations) {
        throw core::Error("isolation policy: max_backoff_iterations (" +
                          std::to_string(p.max_backoff_iterations) +
                          ") is below initial_backoff_iterations (" +
                          std::to_string(p.initial_backoff_iterations) + ")");
    }
    if (p.max_enter_attempts == 0) {
        throw core::Error("isolation policy: max_enter_attempts must be at least 1");
    }
    return p;
}

}  // namespace

IsolatedThread::IsolatedThread(Backend& backend, const IsolationRequest& request,
                               const IsolationPolicy& policy,
                               core::SpscRing<IsolationEvent>& events)
    : backend_(backend), request_(request), policy_(checked(policy)), events_(events) {}

bool IsolatedThread::start() noexcept {
    const IsolationState now = state();
    if (now == IsolationState::isolated || now == IsolationState::quiescing) {
        return now == IsolationState::isolated;
    }
    backoff_remaining_ = 0;
    attempt_ = 0;
    try_enter();
    attention_ = state() == IsolationState::stopped || backoff_remaining_ > 0;
    return state() == IsolationState::isolated;
}

bool IsolatedThread::poll_slow() noexcept {
    if (state() == IsolationState::stopped) {
        return false;
    }
    BreakRecord record;
    if (mailbox_.take(record)) {
        on_break(record);
    }
    if (backoff_remaining_ > 0 && --backoff_remaining_ == 0) {
        if (state() == IsolationState::broken) {
            attempt_ = 0;  // a new series of attempts after a break
        }
        try_enter();
    }
    attention_ = state() == IsolationState::stopped || backoff_remaining_ > 0;
    return state() != IsolationState::stopped;
}

void IsolatedThread::on_break(const BreakRecord& record) noexcept {
    counters_.count(record.cause);
    const IsolationState now = state();
    // Log/off modes report entries but stay isolated; a break that arrives
    // after isolation already ended is counted and recorded, nothing more.
    const bool ends_isolation =
        now == IsolationState::isolated &&
        (request_.strict == StrictMode::signal || request_.strict == StrictMode::kill);
    if (!ends_isolation) {
        transition(now, Trigger::broke, 0, record);
        return;
    }
    backend_.leave();
    transition(IsolationState::broken, Trigger::broke, 0, record);
    if (core::CycleCounter::read() - entered_cycles_ >= policy_.stable_cycles) {
        break_streak_ = 0;
    }
    ++break_streak_;
    switch (policy_.after_break) {
        case BreakPolicy::reenter:
            backoff_remaining_ = backoff(break_streak_);
            break;
        case BreakPolicy::degrade:
            transition(IsolationState::idle, Trigger::degrade);
            break;
        case BreakPolicy::stop:
            transition(IsolationState::stopped, Trigger::stop);
            break;
    }
}

void IsolatedThread::try_enter() noexcept {
    ++attempt_;
    transition(IsolationState::quiescing, Trigger::prepare);
    int code = 0;
    try {
        backend_.enter(request_, mailbox_);
    } catch (const IsolationError& e) {
        code = e.code() != 0 ? e.code() : EIO;
        remember_error(e.what());
    } catch (const std::exception& e) {
        code = EIO;
        remember_error(e.what());
    } catch (...) {
        code = EIO;
        remember_error("Backend::enter threw an exception that is not a std::exception");
    }
    if (code == 0) {
        last_error_[0] = '\0';
        entered_cycles_ = core::CycleCounter::read();
        transition(IsolationState::isolated, Trigger::entered);
        return;
    }
    if (code == EAGAIN && attempt_ < policy_.max_enter_attempts) {
        transition(IsolationState::idle, Trigger::enter_retry, code);
        backoff_remaining_ = backoff(attempt_);
        return;
    }
    // Not retryable (EINVAL, ENOSYS, EPERM, ...) or out of retries: keep
    // working un-isolated, unless the policy is to stop.
    transition(
        policy_.after_break == BreakPolicy::stop ? IsolationState::stopped : IsolationState::idle,
        Trigger::enter_refused, code);
}

void IsolatedThread::leave() noexcept {
    backend_.leave();
    backoff_remaining_ = 0;
    attention_ = true;
    if (state() != IsolationState::stopped) {
        transition(IsolationState::stopped, Trigger::leave);
    }
}

void IsolatedThread::transition(IsolationState to, Trigger trigger, int error,
                                const BreakRecord& cause) noexcept {
    IsolationEvent event;
    event.cycles = core::CycleCounter::read();
    event.from = state();
    event.to = to;
    event.trigger = trigger;
    event.error = error;
    event.attempt = attempt_;
    event.cause = cause;
    state_.store(to, std::memory_order_relaxed);
    events_.try_push(event);  // a full ring drops and counts: never wait
}

std::uint64_t IsolatedThread::backoff(std::uint32_t setbacks) const noexcept {
    std::uint64_t b = policy_.initial_backoff_iterations;
    for (std::uint32_t i = 1; i < setbacks && b < policy_.max_backoff_iterations; ++i) {
        b = b > policy_.max_backoff_iterations / 2 ? policy_.max_backoff_iterations : b * 2;
    }
    return b < policy_.max_backoff_iterations ? b : policy_.max_backoff_iterations;
}

void IsolatedThread::remember_error(const char* message) noexcept {
    std::strncpy(last_error_, message, sizeof last_error_ - 1);
    last_error_[sizeof last_error_ - 1] = '\0';
}

}  // namespace qc::isolation
