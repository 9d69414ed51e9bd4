#include "isolate_session.hpp"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <exception>

#include "child_launch.hpp"
#include "quietcore/core/monotonic_clock.hpp"
#include "quietcore/core/signals.hpp"
#include "quietcore/core/thread.hpp"
#include "quietcore/isolation/entry_poller.hpp"
#include "quietcore/isolation/soft_filter.hpp"

namespace qc::isolate {

using core::monotonic_ns;

namespace {

using isolation::BreakCause;

// Housekeeping threads (supervisor, poller) stay off the command's CPU.
void move_off(unsigned cpu) {
    const core::CpuSet others = core::online_cpus() - core::CpuSet{cpu};
    if (others.empty()) {
        return;  // a one-CPU machine: nowhere else to go
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    for (unsigned c : others.cpus()) {
        CPU_SET(c, &set);
    }
    ::sched_setaffinity(0, sizeof set, &set);
}

// Waits up to `ms` for the child to exit; true if it did.
bool exits_within(pid_t pid, unsigned ms) {
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {
        return false;
    }
    pollfd p{pidfd, POLLIN, 0};
    int rc;
    do {
        rc = ::poll(&p, 1, static_cast<int>(ms));
    } while (rc < 0 && errno == EINTR);
    ::close(pidfd);
    return rc > 0;
}

int wait_child(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

std::string irq_detail(const isolation::BreakRecord& r) {
    return r.irq == isolation::kNamedIrq ? isolation::unpack_irq_name(r.vector)
                                         : std::to_string(r.irq);
}

}  // namespace

int run_isolated(const Options& options, Report& report, std::ostream& err) {
    report.command = options.command;
    report.cpu = options.cpu;
    report.strict = to_string(options.strict);
    report.oneshot = options.oneshot;
    report.settle_ms = options.settle_ms;

    const std::string path = resolve_command(options.command.front());
    if (path.empty()) {
        err << "qc-isolate: " << options.command.front() << ": command not found\n";
        return report.status = kExitNotFound;
    }

    move_off(options.cpu);
    core::block_async_signals();  // the threads below inherit it; the child unblocks

    isolation::SupervisorOptions supervisor_options;
    supervisor_options.thread_name = "qc-isolate-sup";
    supervisor_options.max_events_per_thread = 0;  // counts are enough
    isolation::SoftSupervisor supervisor(supervisor_options);
    isolation::EntryPoller poller;
    report.irq_breaks = poller.irq_breaks_isolation(static_cast<int>(options.cpu));
    const isolation::SeccompFilter filter;
    isolation::BreakMailbox mailbox;

    const isolation::SoftPolicy policy{options.strict, SIGUSR1, options.oneshot, &mailbox,
                                       static_cast<int>(options.cpu)};
    isolation::ListenerDefaults descendants;  // processes the command starts: recorded only
    descendants.policy.strict = isolation::StrictMode::log;
    descendants.policy.cpu = static_cast<int>(options.cpu);

    const std::uint64_t start_ns = monotonic_ns();
    const std::uint64_t steady_ns = start_ns + std::uint64_t{options.settle_ms} * 1'000'000u;
    supervisor.set_steady_after(steady_ns);

    LaunchedChild child;
    try {
        child = launch(path, options.command, options.cpu, filter);
    } catch (const std::exception& e) {
        err << "qc-isolate: " << e.what() << "\n";
        return report.status = kExitSetupFailed;
    }
    auto command = supervisor.watch(child.pid, child.pid);
    command->set_policy(policy);
    command->set_isolated(options.settle_ms == 0);
    supervisor.adopt_listener(
        std::shared_ptr<const std::atomic<int>>(child.handoff, &child.handoff->listener_fd),
        child.pid, command, descendants);
    // The child publishes its listener after pinning itself: from then on the
    // poller's baseline has the final affinity and CPU.
    while (child.handoff->listener_fd.load() == isolation::kListenerPending) {
        ::usleep(100);
    }
    try {
        poller.watch(command, static_cast<int>(options.cpu));
        poller.start();
    } catch (const std::exception&) {
        // The child is gone already (it failed before exec); reported below.
    }

    if (options.settle_ms > 0 && !exits_within(child.pid, options.settle_ms)) {
        for (const auto& t : supervisor.threads()) {
            if (t->tgid() == child.pid) {
                t->set_isolated(true);
            }
        }
    }
    const int status = wait_child(child.pid);
    report.duration_ms = static_cast<double>(monotonic_ns() - start_ns) / 1e6;
    poller.stop();

    const auto failed = static_cast<ChildStep>(child.handoff->failed_step.load());
    if (failed != kNoFailure) {
        err << "qc-isolate: " << describe(failed)
            << " failed: " << std::strerror(child.handoff->error.load()) << "\n";
        return report.status = failed == kExec ? kExitNotFound : kExitSetupFailed;
    }
    if (WIFEXITED(status)) {
        report.exit_code = WEXITSTATUS(status);
        report.status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        report.term_signal = WTERMSIG(status);
        report.status = 128 + WTERMSIG(status);
    }

    for (const auto& t : supervisor.threads()) {
        report.processes.push_back(t->tid());
        const auto summary = t->summary();
        for (const auto& [key, n] : summary.startup) {
            report.startup.syscalls[isolation::syscall_name(key.first, key.second)] += n;
        }
        for (const auto& [key, n] : summary.steady) {
            report.steady.syscalls[isolation::syscall_name(key.first, key.second)] += n;
        }
    }
    for (const auto& o : poller.observations()) {
        EntryCounts& c = o.time_ns < steady_ns ? report.startup : report.steady;
        switch (o.cause) {
            case BreakCause::preemption:
                c.preemptions += o.delta;
                break;
            case BreakCause::migration:
                c.migrations += o.delta;
                break;
            case BreakCause::affinity_change:
                c.affinity_changes += o.delta;
                break;
            case BreakCause::irq:
                c.interrupts[o.source] += o.delta;
                break;
            default:
                break;
        }
    }
    isolation::BreakRecord first;
    if (mailbox.take(first)) {
        BreakSummary b;
        b.cause = std::string(isolation::to_string(first.cause));
        if (first.cause == BreakCause::syscall) {
            b.detail = isolation::syscall_name(isolation::native_audit_arch(), first.syscall_nr);
        } else if (first.cause == BreakCause::irq) {
            b.detail = irq_detail(first);
        }
        b.at_ms = static_cast<double>(first.timestamp_ns - start_ns) / 1e6;
        report.first_break = b;
    }
    report.supervisor = supervisor.stats();
    return report.status;
}

}  // namespace qc::isolate
