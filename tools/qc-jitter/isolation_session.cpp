#include "isolation_session.hpp"

#include <exception>

#include "quietcore/isolation/break_record.hpp"
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

IsolationSupervision::IsolationSupervision()
    : poller_(poller_options()), backend_(isolation::make_soft_backend(supervisor_, &poller_)) {
    poller_.start();
}

IsolationSupervision::~IsolationSupervision() {
    poller_.stop();
    supervisor_.stop();
}

BreakCounts IsolationSupervision::breaks(pid_t tid) const {
    BreakCounts counts{{"syscall", 0}};
    if (const auto thread = supervisor_.find(tid)) {
        counts["syscall"] = thread->summary().total;
    }
    for (const isolation::EntryObservation& o : poller_.observations()) {
        if (o.tid == tid && !o.softirq) {
            counts[std::string(isolation::to_string(o.cause))] += o.delta > 0 ? o.delta : 1;
        }
    }
    return counts;
}

void IsolationSession::enter() noexcept {
    try {
        isolation::IsolationRequest request;
        request.strict = isolation::StrictMode::log;
        supervision_.backend().enter(request, mailbox_);
        entered_ = true;
    } catch (const std::exception& e) {
        error_ = "CPU " + std::to_string(cpu_) + ": " + e.what();
    }
}

void IsolationSession::leave() noexcept {
    if (entered_) {
        supervision_.backend().leave();
    }
}

}  // namespace qc::jitter
