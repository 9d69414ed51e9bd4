#include "quietcore/isolation/supervision.hpp"

#include <errno.h>
#include <unistd.h>

#include "quietcore/isolation/break_record.hpp"
#include "quietcore/isolation/kernel_backend.hpp"
#include "quietcore/isolation/kernel_task_status.hpp"
#include "quietcore/isolation/soft_backend.hpp"
#include "quietcore/isolation/soft_monitored_thread.hpp"

namespace qc::isolation {

namespace {
PollerOptions poller_options() {
    PollerOptions o;
    o.max_observations = 1 << 20;  // counted per thread in breaks(), so keep them all
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

BackendKind detect_backend() noexcept {
    return kernel_task_isolation_present() ? BackendKind::kernel : BackendKind::soft;
}

Supervision::Supervision(BackendKind kind) : kernel_(kind == BackendKind::kernel) {
    if (kernel_ && !kernel_task_isolation_present()) {
        throw IsolationError(ENOSYS,
                             "isolation back end 'kernel': the running kernel has no task "
                             "isolation (PR_SET_TASK_ISOLATION); use 'soft'");
    }
    if (!kernel_) {
        supervisor_ = std::make_unique<SoftSupervisor>();
        poller_ = std::make_unique<EntryPoller>(poller_options());
        soft_backend_ = make_soft_backend(*supervisor_, poller_.get());
        poller_->start();
    }
}

Supervision::~Supervision() {
    if (poller_) {
        poller_->stop();
    }
    if (supervisor_) {
        supervisor_->stop();
    }
}

Backend& Supervision::backend_for_worker(std::unique_ptr<Backend>& owned) {
    if (kernel_) {
        owned = make_kernel_backend();
        return *owned;
    }
    return *soft_backend_;
}

void Supervision::poll_once() {
    if (poller_) {
        poller_->poll_once();
    }
}

BreakCounts Supervision::breaks(pid_t tid) const {
    BreakCounts counts{{"syscall", 0}};
    if (kernel_) {
        if (const auto st = read_kernel_task_status(getpid(), tid)) {
            for (std::size_t i = 0; i < kBreakCauseCount; ++i) {
                if (st->breaks_by_cause[i] > 0) {
                    counts[std::string(to_string(static_cast<BreakCause>(i)))] =
                        st->breaks_by_cause[i];
                }
            }
        }
        return counts;
    }
    if (const auto thread = supervisor_->find(tid)) {
        counts["syscall"] = thread->summary().total;
    }
    for (const EntryObservation& o : poller_->observations()) {
        if (o.tid == tid && !o.softirq) {
            counts[std::string(to_string(o.cause))] += o.delta > 0 ? o.delta : 1;
        }
    }
    return counts;
}

}  // namespace qc::isolation
