// The seccomp supervisor with real filters on this kernel: exact syscall
// reports in log mode, kill mode, and notifications whose thread is killed or
// signalled while the supervisor holds them (seeds 000, 001).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "emulated.hpp"
#include "quietcore/isolation/seccomp_monitor.hpp"
#include "quietcore/isolation/soft_filter.hpp"
#include "soft_test_support.hpp"

namespace qc::isolation {
namespace {

// Every test here supervises real seccomp user notifications; qemu-user does
// not implement the seccomp syscall (ENOSYS), so under it there is nothing to test.
constexpr const char* kNoSeccomp = "qemu-user has no seccomp syscall (ENOSYS)";

using test::NotificationHold;
using test::ReleaseOnExit;
using test::spin_until;
using test::wait_until;

std::uint64_t count_of(const SyscallCounts& counts, long nr) {
    const auto it = counts.find({native_audit_arch(), static_cast<std::int32_t>(nr)});
    return it == counts.end() ? 0 : it->second;
}

TEST(SeccompFilter, ProgramIsBuiltAndNamesResolve) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    const SeccompFilter filter;
    EXPECT_GT(filter.program().size(), 4u);
    EXPECT_EQ(syscall_name(native_audit_arch(), SYS_getppid), "getppid");
    EXPECT_EQ(syscall_name(native_audit_arch(), SYS_clock_nanosleep), "clock_nanosleep");
    EXPECT_EQ(syscall_name(native_audit_arch(), 99999), "syscall 99999");
}

TEST(SoftSupervisor, LogModeReportsExactlyTheSyscallsMade) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    ASSERT_GE(devnull, 0);
    SoftSupervisor supervisor;
    const SeccompFilter filter;

    std::atomic<pid_t> tid{0};
    std::atomic<bool> done{false}, release{false};
    pid_t ppid[2] = {0, 0};
    ssize_t written = 0;
    FilterInstallResult installed;
    std::thread worker([&] {
        tid = ::gettid();
        auto me =
            supervisor.monitor_current_thread(filter, SoftPolicy{StrictMode::log}, {}, &installed);
        me->set_isolated(true);
        ppid[0] = ::getppid();
        ppid[1] = ::getppid();
        written = ::write(devnull, "x", 1);
        me->set_isolated(false);
        done = true;
        spin_until(release);  // no syscall until the test has read the report
    });
    ASSERT_TRUE(wait_until([&] { return done.load(); }));
    // The supervisor counts an answer just after the kernel has woken the worker.
    ASSERT_TRUE(wait_until([&] { return supervisor.stats().continued == 3; }));
    const auto summary = supervisor.find(tid)->summary();
    const SupervisorStats stats = supervisor.stats();
    release = true;
    worker.join();
    ::close(devnull);

    EXPECT_GE(installed.listener_fd, 0);
    EXPECT_TRUE(installed.wait_killable_recv) << "this kernel (>= 5.19) has WAIT_KILLABLE_RECV";
    EXPECT_EQ(ppid[0], ::getppid());
    EXPECT_EQ(ppid[1], ::getppid());
    EXPECT_EQ(written, 1);

    ASSERT_EQ(summary.events.size(), 3u);
    EXPECT_EQ(summary.total, 3u);
    EXPECT_EQ(summary.events[0].nr, SYS_getppid);
    EXPECT_EQ(summary.events[1].nr, SYS_getppid);
    EXPECT_EQ(summary.events[2].nr, SYS_write);
    EXPECT_EQ(summary.events[2].args[0], static_cast<std::uint64_t>(devnull));
    EXPECT_EQ(summary.events[2].args[2], 1u);
    for (const auto& e : summary.events) {
        EXPECT_EQ(e.tid, tid.load());
        EXPECT_EQ(e.arch, native_audit_arch());
        EXPECT_TRUE(e.while_isolated);
    }
    EXPECT_LE(summary.events[0].time_ns, summary.events[1].time_ns);
    EXPECT_EQ(summary.steady.size(), 2u);
    EXPECT_EQ(count_of(summary.steady, SYS_getppid), 2u);
    EXPECT_EQ(count_of(summary.steady, SYS_write), 1u);
    EXPECT_TRUE(summary.startup.empty());
    EXPECT_EQ(stats.notifications, 3u);
    EXPECT_EQ(stats.continued, 3u);
    EXPECT_EQ(stats.stale, 0u);

    // The thread is gone: its filter has no users, the listener hangs up.
    EXPECT_TRUE(wait_until([&] { return supervisor.stats().listeners_closed == 1; }));
    EXPECT_TRUE(supervisor.find(tid)->finished());
    EXPECT_EQ(supervisor.open_listeners(), 0u);
}

TEST(SoftSupervisor, StartupWindowSplitsCounts) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    SoftSupervisor supervisor;
    supervisor.set_steady_after(UINT64_MAX);  // start-up until further notice
    const SeccompFilter filter;
    std::atomic<pid_t> tid{0};
    std::atomic<bool> first_done{false}, go_on{false}, done{false}, release{false};
    std::thread worker([&] {
        tid = ::gettid();
        auto me = supervisor.monitor_current_thread(filter, SoftPolicy{StrictMode::log});
        ::getppid();
        first_done = true;
        spin_until(go_on);
        ::getpid();
        done = true;
        spin_until(release);
    });
    ASSERT_TRUE(wait_until([&] { return first_done.load(); }));
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    supervisor.set_steady_after(static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u +
                                static_cast<std::uint64_t>(now.tv_nsec));
    go_on = true;
    ASSERT_TRUE(wait_until([&] { return done.load(); }));
    const auto summary = supervisor.find(tid)->summary();
    release = true;
    worker.join();
    EXPECT_EQ(count_of(summary.startup, SYS_getppid), 1u);
    EXPECT_EQ(count_of(summary.steady, SYS_getppid), 0u);
    EXPECT_EQ(count_of(summary.steady, SYS_getpid), 1u);
    EXPECT_FALSE(summary.events[0].while_isolated);  // never set isolated
}

// A forked child installs the filter and publishes its listener fd through
// shared memory; its first syscall then waits for the parent's supervisor.
pid_t fork_monitored_child(const SeccompFilter& filter, std::atomic<int>& slot) {
    const pid_t child = ::fork();
    if (child == 0) {
        const FilterInstallResult r = filter.install();  // raw syscalls only
        slot.store(r.listener_fd >= 0 ? r.listener_fd : -r.error);
        if (r.listener_fd < 0) {
            ::_exit(2);
        }
        ::syscall(SYS_getppid);
        ::_exit(0);
    }
    return child;
}

TEST(SoftSupervisor, KilledWhileHeldIsNeverAnsweredAndServiceGoesOn) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    NotificationHold hold;
    SupervisorOptions options;
    options.on_notification = [&](const SyscallEvent& e) { hold.on_notification(e); };
    SoftSupervisor supervisor(options);
    ReleaseOnExit release_hold{hold};
    const SeccompFilter filter;

    auto slot = make_shared_listener_slot();
    const pid_t child = fork_monitored_child(filter, *slot);
    ASSERT_GT(child, 0);
    hold.target(child);
    supervisor.adopt_listener(slot, child, nullptr);

    ASSERT_TRUE(wait_until([&] { return hold.held(); })) << "child's getppid never arrived";
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    hold.release();

    // ID_VALID said the notification is gone: counted, not answered.
    ASSERT_TRUE(wait_until([&] { return supervisor.stats().stale == 1; }));
    EXPECT_EQ(supervisor.stats().continued, 0u);
    EXPECT_EQ(count_of(supervisor.find(child)->summary().steady, SYS_getppid), 1u);
    // The reaped child was the filter's last user: POLLHUP, listener closed.
    EXPECT_TRUE(wait_until([&] { return supervisor.stats().listeners_closed == 1; }));

    // The supervisor still answers another thread.
    std::atomic<pid_t> tid{0};
    std::atomic<bool> done{false};
    pid_t ppid = 0;
    std::thread worker([&] {
        tid = ::gettid();
        auto me = supervisor.monitor_current_thread(filter, SoftPolicy{StrictMode::log});
        ppid = ::getppid();
        done = true;
    });
    ASSERT_TRUE(wait_until([&] { return done.load(); }));
    worker.join();
    EXPECT_EQ(ppid, ::getppid());
    EXPECT_GE(count_of(supervisor.find(tid)->summary().steady, SYS_getppid), 1u);
    EXPECT_GE(supervisor.stats().continued, 1u);
    EXPECT_EQ(supervisor.stats().errors, 0u);
}

TEST(SoftSupervisor, KillModeKillsTheChildAndPostsTheCause) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    SoftSupervisor supervisor;
    const SeccompFilter filter;
    BreakMailbox mailbox;
    ListenerDefaults defaults;
    defaults.policy = SoftPolicy{StrictMode::kill, SIGUSR1, false, &mailbox, 0};
    defaults.isolated = true;

    auto slot = make_shared_listener_slot();
    const pid_t child = fork_monitored_child(filter, *slot);
    ASSERT_GT(child, 0);
    supervisor.adopt_listener(slot, child, nullptr, defaults);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;

    BreakRecord record;
    ASSERT_TRUE(wait_until([&] { return mailbox.take(record); }));
    EXPECT_EQ(record.cause, BreakCause::syscall);
    EXPECT_EQ(record.syscall_nr, SYS_getppid);
    EXPECT_EQ(supervisor.stats().continued, 0u);
    EXPECT_EQ(supervisor.find(child)->breaks(BreakCause::syscall), 1u);
}

class SignalledWhileHeld : public ::testing::TestWithParam<bool> {};

// A non-fatal signal sent to a thread whose notification the supervisor
// holds. With WAIT_KILLABLE_RECV the thread keeps waiting, the signal stays
// pending, the answer is accepted and the handler runs after the syscall.
// Without it the signal interrupts the wait: the handler runs at once, the
// held notification becomes stale (ID_VALID fails) and the syscall restarts
// (SA_RESTART) as a second notification.
TEST_P(SignalledWhileHeld, IsHandledPerWaitKillableRecv) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    const bool killable = GetParam();
    test::TestHandler handler(SIGUSR2);
    NotificationHold hold;
    SupervisorOptions options;
    options.on_notification = [&](const SyscallEvent& e) { hold.on_notification(e); };
    SoftSupervisor supervisor(options);
    ReleaseOnExit release_hold{hold};
    const SeccompFilter filter(FilterOptions{killable});

    std::atomic<pid_t> tid{0};
    std::atomic<bool> done{false}, release{false};
    pid_t ppid = 0;
    FilterInstallResult installed;
    std::thread worker([&] {
        tid = ::gettid();
        hold.target(tid);
        auto me =
            supervisor.monitor_current_thread(filter, SoftPolicy{StrictMode::log}, {}, &installed);
        ppid = ::getppid();
        done = true;
        spin_until(release);
    });
    ASSERT_TRUE(wait_until([&] { return hold.held(); }));
    ASSERT_EQ(installed.wait_killable_recv, killable);
    ASSERT_EQ(::syscall(SYS_tgkill, ::getpid(), tid.load(), SIGUSR2), 0);
    if (killable) {
        ASSERT_TRUE(wait_until([&] { return test::thread_signal_pending(tid, SIGUSR2); }));
        EXPECT_EQ(test::g_handler.calls.load(), 0) << "the held wait was interrupted";
    } else {
        ASSERT_TRUE(wait_until([&] { return test::g_handler.calls.load() == 1; }));
    }
    hold.release();
    ASSERT_TRUE(wait_until([&] { return done.load(); }));
    ASSERT_TRUE(wait_until([&] { return test::g_handler.calls.load() == 1; }));
    const auto summary = supervisor.find(tid)->summary();
    const SupervisorStats stats = supervisor.stats();
    release = true;
    worker.join();

    EXPECT_EQ(ppid, ::getppid());
    EXPECT_EQ(test::g_handler.signo.load(), SIGUSR2);
    EXPECT_EQ(count_of(summary.steady, SYS_getppid), killable ? 1u : 2u);
    EXPECT_EQ(stats.stale, killable ? 0u : 1u);
    EXPECT_EQ(stats.send_enoent, 0u);
    EXPECT_EQ(stats.errors, 0u);
}

INSTANTIATE_TEST_SUITE_P(WaitKillableRecv, SignalledWhileHeld, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "on" : "off"; });

}  // namespace
}  // namespace qc::isolation
