#include "isolation_session.hpp"

#include <unistd.h>

#include <exception>

#include "quietcore/isolation/break_record.hpp"
#include "quietcore/isolation/kernel_backend.hpp"
#include "quietcore/isolation/kernel_task_status.hpp"
#include "quietcore/isolation/soft_backend.hpp"
#include "quietcore/isolation/soft_monitored_thread.hpp"

namespace qc::jitter {

namespace {
isolation::PollerOptions poller_options() {
    isolation::PollerOptions o;
    o.max_observations = 1 << 20;  // counted per thread below, so keep them all
    return o;
}
}  // namespace

BreakCounts subtract(const BreakCounts& after, const BreakCounts& before) {
    BreakCounts out{{"syscall", 0}};
    for (const auto& [cause, n] : after) {
        const auto it = before.find(cause);
        const std::uint64_t then = it == before.end() ? 0 : it->second;
        if (n > then || cause == "syscall") {
            out[cause] = n > then ? n - then : 0;
        }
    }
    return out;
}

IsolationSupervision::IsolationSupervision() : kernel_(isolation::kernel_task_isolation_present()) {
    if (!kernel_) {
        supervisor_ = std::make_unique<isolation::SoftSupervisor>();
        poller_ = std::make_unique<isolation::EntryPoller>(poller_options());
        soft_backend_ = isolation::make_soft_backend(*supervisor_, poller_.get());
        poller_->start();
    }
}

IsolationSupervision::~IsolationSupervision() {
    if (poller_) {
        poller_->stop();
    }
    if (supervisor_) {
        supervisor_->stop();
    }
}

isolation::Backend& IsolationSupervision::backend_for_worker(
    std::unique_ptr<isolation::Backend>& owned) {
    if (kernel_) {
        owned = isolation::make_kernel_backend();
        return *owned;
    }
    return *soft_backend_;
}

void IsolationSupervision::poll_once() {
    if (poller_) {
        poller_->poll_once();
    }
}

BreakCounts IsolationSupervision::breaks(pid_t tid) const {
    BreakCounts counts{{"syscall", 0}};
    if (kernel_) {
        if (const auto st = isolation::read_kernel_task_status(getpid(), tid)) {
            for (std::size_t i = 0; i < isolation::kBreakCauseCount; ++i) {
                if (st->breaks_by_cause[i] > 0) {
                    counts[std::string(isolation::to_string(
                        static_cast<isolation::BreakCause>(i)))] = st->breaks_by_cause[i];
                }
            }
        }
        return counts;
    }
    if (const auto thread = supervisor_->find(tid)) {
        counts["syscall"] = thread->summary().total;
    }
    for (const isolation::EntryObservation& o : poller_->observations()) {
        if (o.tid == tid && !o.softirq) {
            counts[std::string(isolation::to_string(o.cause))] += o.delta > 0 ? o.delta : 1;
        }
    }
    return counts;
}

void IsolationSession::enter() noexcept {
    try {
        backend_ = &supervision_.backend_for_worker(owned_backend_);
        isolation::IsolationRequest request;
        request.strict = isolation::StrictMode::log;
        backend_->enter(request, mailbox_);
        entered_ = true;
    } catch (const std::exception& e) {
        error_ = "CPU " + std::to_string(cpu_) + ": " + e.what();
    }
}

void IsolationSession::leave() noexcept {
    if (entered_) {
        backend_->leave();
    }
}

}  // namespace qc::jitter
