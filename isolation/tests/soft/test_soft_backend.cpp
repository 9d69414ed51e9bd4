// The soft Backend on this stock kernel: preconditions, log / signal /
// oneshot modes with real filters and signals, re-entry after a break.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

#include "emulated.hpp"
#include "quietcore/core/thread.hpp"
#include "quietcore/isolation/soft_backend.hpp"
#include "quietcore/isolation/strict_signal.hpp"
#include "soft_test_support.hpp"

namespace qc::isolation {
namespace {

// Every test here supervises real seccomp user notifications; qemu-user does
// not implement the seccomp syscall (ENOSYS), so under it there is nothing to test.
constexpr const char* kNoSeccomp = "qemu-user has no seccomp syscall (ENOSYS)";

using test::spin_until;
using test::wait_until;

unsigned worker_cpu() {
    const auto cpus = core::online_cpus().cpus();
    return cpus.back();
}

std::uint64_t count_of(const SyscallCounts& counts, long nr) {
    const auto it = counts.find({native_audit_arch(), static_cast<std::int32_t>(nr)});
    return it == counts.end() ? 0 : it->second;
}

TEST(SoftBackend, NameIsSoft) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    SoftSupervisor supervisor;
    EXPECT_EQ(make_soft_backend(supervisor)->name(), "soft");
}

TEST(SoftBackend, RefusesAThreadNotPinnedToOneCpu) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    if (core::online_cpus().count() < 2) {
        GTEST_SKIP() << "needs two online CPUs";
    }
    SoftSupervisor supervisor;
    auto backend = make_soft_backend(supervisor);
    BreakMailbox mailbox;
    int code = 0;
    std::string message;
    std::thread unpinned([&] {
        core::CpuSet all = core::online_cpus();
        cpu_set_t set;
        CPU_ZERO(&set);
        for (unsigned cpu : all.cpus()) {
            CPU_SET(cpu, &set);
        }
        ::sched_setaffinity(0, sizeof set, &set);
        try {
            backend->enter(IsolationRequest{}, mailbox);
        } catch (const IsolationError& e) {
            code = e.code();
            message = e.what();
        }
    });
    unpinned.join();
    EXPECT_EQ(code, EINVAL);
    EXPECT_NE(message.find("exactly one CPU"), std::string::npos) << message;
    EXPECT_NE(message.find(core::online_cpus().to_list()), std::string::npos) << message;
    EXPECT_EQ(supervisor.stats().listeners_added, 0u);  // nothing installed
}

TEST(SoftBackend, LogModeReportsTheSyscallsAndStaysIsolated) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    const int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    ASSERT_GE(devnull, 0);
    SoftSupervisor supervisor;
    auto backend = make_soft_backend(supervisor);
    BreakMailbox mailbox;
    std::atomic<bool> done{false}, release{false};
    std::shared_ptr<MonitoredThread> me;
    bool isolated_after = false;
    core::PinnedThread worker({"qc-soft-log", worker_cpu(), {}}, [&] {
        backend->enter(IsolationRequest{false, StrictMode::log, SIGUSR2}, mailbox);
        ::getppid();
        ::getppid();
        [[maybe_unused]] const ssize_t n = ::write(devnull, "x", 1);
        me = current_soft_thread();
        isolated_after = me->isolated();
        backend->leave();
        done = true;
        spin_until(release);
    });
    ASSERT_TRUE(wait_until([&] { return done.load(); }));
    const auto summary = me->summary();
    release = true;
    worker.join();
    ::close(devnull);

    EXPECT_TRUE(isolated_after);
    EXPECT_FALSE(me->isolated());
    EXPECT_FALSE(mailbox.broken());
    ASSERT_EQ(summary.events.size(), 3u);
    EXPECT_EQ(summary.events[0].nr, SYS_getppid);
    EXPECT_EQ(summary.events[1].nr, SYS_getppid);
    EXPECT_EQ(summary.events[2].nr, SYS_write);
    EXPECT_EQ(count_of(summary.steady, SYS_getppid), 2u);
    EXPECT_EQ(count_of(summary.steady, SYS_write), 1u);
    EXPECT_EQ(summary.total, 3u);
    EXPECT_EQ(me->policy().cpu, static_cast<int>(worker_cpu()));
}

// A blocking ppoll() is the break: the supervisor lets it run, then the STRICT
// signal interrupts it (EINTR: ppoll is never restarted), which proves the
// signal reached the handler on the worker thread.
long blocking_ppoll() {
    timespec ten_seconds{10, 0};
    return ::syscall(SYS_ppoll, nullptr, 0, &ten_seconds, nullptr, 0);
}

TEST(SoftBackend, SignalModeBreaksAtTheFirstSyscallAndCanReEnter) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    SoftSupervisor supervisor;
    auto backend = make_soft_backend(supervisor);
    BreakMailbox mailbox;
    std::atomic<bool> done{false}, release{false};
    std::shared_ptr<MonitoredThread> me;
    bool isolated_after_first = true, attached = false;
    int errno_first = 0, errno_second = 0;
    long rc_first = 0, rc_second = 0;
    BreakRecord first{}, second{};
    bool took_first = false, took_second = false;
    core::PinnedThread worker({"qc-soft-sig", worker_cpu(), {}}, [&] {
        backend->enter(IsolationRequest{false, StrictMode::signal, SIGUSR2}, mailbox);
        me = current_soft_thread();
        attached = attached_strict_mailbox() == &mailbox;
        rc_first = blocking_ppoll();
        errno_first = errno;
        isolated_after_first = me->isolated();
        took_first = mailbox.take(first);
        backend->leave();
        // Policy "re-enter": the next syscall breaks again.
        backend->enter(IsolationRequest{false, StrictMode::signal, SIGUSR2}, mailbox);
        rc_second = blocking_ppoll();
        errno_second = errno;
        took_second = mailbox.take(second);
        backend->leave();
        done = true;
        spin_until(release);
    });
    ASSERT_TRUE(wait_until([&] { return done.load(); }));
    release = true;
    worker.join();

    EXPECT_TRUE(attached);
    EXPECT_EQ(rc_first, -1);
    EXPECT_EQ(errno_first, EINTR);
    EXPECT_EQ(rc_second, -1);
    EXPECT_EQ(errno_second, EINTR);
    EXPECT_FALSE(isolated_after_first);
    ASSERT_TRUE(took_first);
    EXPECT_EQ(first.cause, BreakCause::syscall);
    EXPECT_EQ(first.syscall_nr, SYS_ppoll);
    EXPECT_EQ(first.cpu, static_cast<int>(worker_cpu()));
    EXPECT_GT(first.timestamp_ns, 0u);
    ASSERT_TRUE(took_second);
    EXPECT_EQ(second.syscall_nr, SYS_ppoll);
    EXPECT_GT(second.timestamp_ns, first.timestamp_ns);
    EXPECT_EQ(me->breaks(BreakCause::syscall), 2u);
    // The handler saw the supervisor's marker and did not post a second record.
    EXPECT_EQ(mailbox.coalesced(), 0u);
}

TEST(SoftBackend, OneshotEndsIsolationWithoutASignal) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    SoftSupervisor supervisor;
    auto backend = make_soft_backend(supervisor);
    BreakMailbox mailbox;
    std::atomic<bool> done{false}, release{false};
    bool isolated_after = true, broken_after = false;
    long rc = -1;
    BreakRecord record{};
    core::PinnedThread worker({"qc-soft-once", worker_cpu(), {}}, [&] {
        backend->enter(IsolationRequest{true, StrictMode::signal, SIGUSR2}, mailbox);
        // Had a signal been sent, it would interrupt this wait (EINTR); in
        // one-shot mode it runs to its timeout and returns 0.
        timespec wait{0, 200'000'000};
        rc = ::syscall(SYS_ppoll, nullptr, 0, &wait, nullptr, 0);
        isolated_after = current_soft_thread()->isolated();
        broken_after = mailbox.take(record);
        done = true;
        spin_until(release);
    });
    ASSERT_TRUE(wait_until([&] { return done.load(); }));
    release = true;
    worker.join();
    EXPECT_EQ(rc, 0);
    EXPECT_FALSE(isolated_after);
    EXPECT_TRUE(broken_after);
    EXPECT_EQ(record.syscall_nr, SYS_ppoll);
}

TEST(SoftBackend, StrictOffInstallsNoFilter) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    SoftSupervisor supervisor;
    auto backend = make_soft_backend(supervisor);
    BreakMailbox mailbox;
    bool monitored = true;
    core::PinnedThread worker({"qc-soft-off", worker_cpu(), {}}, [&] {
        backend->enter(IsolationRequest{false, StrictMode::off, SIGUSR2}, mailbox);
        ::getppid();
        monitored = current_soft_thread() != nullptr;
        backend->leave();
    });
    worker.join();
    EXPECT_FALSE(monitored);
    EXPECT_EQ(supervisor.stats().notifications, 0u);
    EXPECT_EQ(supervisor.stats().listeners_added, 0u);
}

}  // namespace
}  // namespace qc::isolation
