#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "quietcore/isolation/soft_monitored_thread.hpp"
#include "quietcore/isolation/strict_signal.hpp"

namespace qc::isolation {

MonitoredThread::MonitoredThread(pid_t tgid, pid_t tid, std::size_t max_events)
    : tgid_(tgid), tid_(tid), max_events_(max_events) {}

void MonitoredThread::set_policy(const SoftPolicy& policy) noexcept {
    strict_.store(policy.strict, std::memory_order_relaxed);
    signal_.store(policy.signal, std::memory_order_relaxed);
    oneshot_.store(policy.oneshot, std::memory_order_relaxed);
    mailbox_.store(policy.mailbox, std::memory_order_relaxed);
    cpu_.store(policy.cpu, std::memory_order_relaxed);
}

SoftPolicy MonitoredThread::policy() const noexcept {
    return SoftPolicy{
        strict_.load(std::memory_order_relaxed), signal_.load(std::memory_order_relaxed),
        oneshot_.load(std::memory_order_relaxed), mailbox_.load(std::memory_order_relaxed),
        cpu_.load(std::memory_order_relaxed)};
}

BreakAction MonitoredThread::on_entry(const BreakRecord& record) noexcept {
    if (!isolated()) {  // acquire: the policy stored before set_isolated(true) is visible
        return BreakAction::none;
    }
    const StrictMode strict = strict_.load(std::memory_order_relaxed);
    const bool oneshot = oneshot_.load(std::memory_order_relaxed);
    if (!oneshot && (strict == StrictMode::off || strict == StrictMode::log)) {
        return BreakAction::none;
    }
    if (!isolated_.exchange(false, std::memory_order_acq_rel)) {
        return BreakAction::none;  // another reporter ended isolation first
    }
    breaks_[static_cast<std::size_t>(record.cause)].fetch_add(1, std::memory_order_relaxed);
    const bool reports = strict == StrictMode::signal || strict == StrictMode::kill;
    if (BreakMailbox* mailbox = mailbox_.load(std::memory_order_relaxed); mailbox && reports) {
        mailbox->post(record);
    }
    if (oneshot || !reports) {
        return BreakAction::none;
    }
    return strict == StrictMode::kill ? BreakAction::kill : BreakAction::signal;
}

bool MonitoredThread::deliver(BreakAction action) const noexcept {
    if (action == BreakAction::none) {
        return true;
    }
    if (action == BreakAction::kill) {
        return ::syscall(SYS_tgkill, tgid_, tid_, SIGKILL) == 0;
    }
    // on_entry() posted the record first: the STRICT handler must not post again.
    return signal_posted_break(tgid_, tid_, signal_.load(std::memory_order_relaxed));
}

void MonitoredThread::record_syscall(const SyscallEvent& event, bool steady) {
    std::lock_guard lock(records_mutex_);
    ++(steady ? records_.steady : records_.startup)[{event.arch, event.nr}];
    ++records_.total;
    if (records_.events.size() < max_events_) {
        records_.events.push_back(event);
    } else {
        ++records_.events_dropped;
    }
}

MonitoredThread::Summary MonitoredThread::summary() const {
    std::lock_guard lock(records_mutex_);
    return records_;
}

}  // namespace qc::isolation
