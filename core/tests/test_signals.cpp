#include <gtest/gtest.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "emulated.hpp"
#include "quietcore/core/error.hpp"
#include "quietcore/core/signals.hpp"

namespace qc::core {
namespace {

// qemu-user keeps the host's last real-time signals for itself: the guest
// cannot block SIGRTMIN+29 and above, so SignalThread (rightly) refuses to start.
constexpr const char* kTopRtSignals =
    "qemu-user cannot block the highest real-time signals, SignalThread refuses to start";

// As a quietcore main() must: block before any thread exists (this runs
// before gtest's main, so every thread the tests start inherits the mask).
const sigset_t g_mask_before_tests = block_async_signals();

// A bound on waits for events that happen at once when the code works; it
// only turns a broken build into a failure instead of a hang.
constexpr auto kHangGuard = std::chrono::seconds(30);

// Collects what the signal thread reports, for the test thread to wait on.
class Recorder {
  public:
    void add_child(const ChildExit& c) {
        std::lock_guard lock(mu_);
        children_.push_back(c);
        cv_.notify_all();
    }
    void add_signal(const SignalEvent& ev) {
        std::lock_guard lock(mu_);
        signals_.push_back(ev);
        cv_.notify_all();
    }
    bool wait_children(std::size_t n) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, kHangGuard, [&] { return children_.size() >= n; });
    }
    bool wait_signals(std::size_t n) {
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, kHangGuard, [&] { return signals_.size() >= n; });
    }
    std::vector<ChildExit> children() {
        std::lock_guard lock(mu_);
        return children_;
    }
    std::vector<SignalEvent> signals() {
        std::lock_guard lock(mu_);
        return signals_;
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<ChildExit> children_;
    std::vector<SignalEvent> signals_;
};

bool is_blocked_here(int signo) {
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, nullptr, &cur);
    return sigismember(&cur, signo) == 1;
}

TEST(Signals, AsyncSetExcludesFaultsAndUnblockables) {
    for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGKILL, SIGSTOP}) {
        EXPECT_FALSE(is_async_signal(s)) << signal_name(s);
    }
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM}) {
        EXPECT_TRUE(is_async_signal(s)) << signal_name(s);
    }
    for (int s = SIGRTMIN; s <= SIGRTMAX; ++s) {
        EXPECT_TRUE(is_async_signal(s)) << signal_name(s);
    }
    // glibc's internal signals (below SIGRTMIN) and out-of-range numbers.
    for (int s = SIGSYS + 1; s < SIGRTMIN; ++s) {
        EXPECT_FALSE(is_async_signal(s)) << s;
    }
    EXPECT_FALSE(is_async_signal(0));
    EXPECT_FALSE(is_async_signal(-1));
    EXPECT_FALSE(is_async_signal(NSIG));
}

TEST(Signals, BlockedHereAndInheritedByNewThreads) {
    QC_SKIP_WHEN_EMULATED(kTopRtSignals);
    // The static initializer found nothing blocked before it ran.
    EXPECT_EQ(sigismember(&g_mask_before_tests, SIGTERM), 0);
    EXPECT_TRUE(is_blocked_here(SIGTERM));
    EXPECT_FALSE(is_blocked_here(SIGSEGV));
    bool term = false, usr1 = false, rt = false, segv = true, bus = true;
    std::thread t([&] {
        term = is_blocked_here(SIGTERM);
        usr1 = is_blocked_here(SIGUSR1);
        rt = is_blocked_here(SIGRTMAX);
        segv = is_blocked_here(SIGSEGV);
        bus = is_blocked_here(SIGBUS);
    });
    t.join();
    EXPECT_TRUE(term);
    EXPECT_TRUE(usr1);
    EXPECT_TRUE(rt);
    EXPECT_FALSE(segv);
    EXPECT_FALSE(bus);
}

TEST(Signals, SignalNames) {
    EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
    EXPECT_EQ(signal_name(SIGINT), "SIGINT");
    EXPECT_EQ(signal_name(SIGRTMIN), "SIGRTMIN");
    EXPECT_EQ(signal_name(SIGRTMIN + 3), "SIGRTMIN+3");
    EXPECT_EQ(signal_name(0), "signal 0");
    EXPECT_EQ(signal_name(999), "signal 999");
}

TEST(Signals, DescribeChildExit) {
    EXPECT_EQ(describe(ChildExit{12, 3 << 8}), "pid 12 exited with status 3");
    EXPECT_EQ(describe(ChildExit{13, SIGKILL}), "pid 13 killed by SIGKILL");
}

void expect_stop_by(int signo) {
    CancellationSource stop;
    Recorder rec;
    SignalThreadOptions opts;
    opts.on_stop_signal = [&](const SignalEvent& ev) { rec.add_signal(ev); };
    SignalThread st(stop, opts);
    ASSERT_FALSE(stop.stop_requested());
    ASSERT_EQ(::kill(::getpid(), signo), 0);
    ASSERT_TRUE(stop.token().wait_for(kHangGuard)) << signal_name(signo) << " did not stop";
    EXPECT_EQ(stop.reason(), (CancelReason{CancelKind::signal, signo}));
    ASSERT_TRUE(rec.wait_signals(1));
    auto evs = rec.signals();
    EXPECT_EQ(evs[0].signo, signo);
    EXPECT_EQ(evs[0].sender_pid, ::getpid());
    EXPECT_EQ(evs[0].sender_uid, ::getuid());
    EXPECT_EQ(evs[0].code, SI_USER);
}

TEST(Signals, SigtermRequestsCancellationWithReason) {
    QC_SKIP_WHEN_EMULATED(kTopRtSignals);
    expect_stop_by(SIGTERM);
}
TEST(Signals, SigintRequestsCancellationWithReason) {
    QC_SKIP_WHEN_EMULATED(kTopRtSignals);
    expect_stop_by(SIGINT);
}
TEST(Signals, SighupAndSigquitStopByDefault) {
    QC_SKIP_WHEN_EMULATED(kTopRtSignals);
    expect_stop_by(SIGHUP);
    expect_stop_by(SIGQUIT);
}

// Record any thread that gets SIGTERM the ordinary way; none should.
std::atomic<int> g_handler_runs{0};
void count_handler_run(int) {
    g_handler_runs.fetch_add(1);
}

TEST(Signals, OtherThreadsNeverReceiveTheSignal) {
    QC_SKIP_WHEN_EMULATED(kTopRtSignals);
    struct sigaction sa {};
    sa.sa_handler = count_handler_run;
    sigemptyset(&sa.sa_mask);
    struct sigaction old {};
    ASSERT_EQ(::sigaction(SIGTERM, &sa, &old), 0);
    g_handler_runs = 0;

    std::atomic<bool> quit{false};
    std::vector<std::thread> busy;
    for (int i = 0; i < 3; ++i) {
        busy.emplace_back([&] {
            while (!quit.load()) {
                sched_yield();
            }
        });
    }
    {
        // Sent before the signal thread exists: the signal stays pending (no
        // thread takes it) and is read once the signalfd is there. Sending
        // them all first also means none is left pending after the thread
        // stops (standard signals do not queue).
        for (int i = 0; i < 5; ++i) {
            ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
        }
        for (int i = 0; i < 1000; ++i) {
            sched_yield();  // give the busy threads every chance to take it
        }
        CancellationSource stop;
        SignalThread st(stop);
        ASSERT_TRUE(stop.token().wait_for(kHangGuard));
        EXPECT_EQ(stop.reason(), (CancelReason{CancelKind::signal, SIGTERM}));
    }
    quit = true;
    for (auto& t : busy) {
        t.join();
    }
    ASSERT_EQ(::sigaction(SIGTERM, &old, nullptr), 0);
    EXPECT_EQ(g_handler_runs.load(), 0);
    sigset_t pending;
    sigpending(&pending);
    EXPECT_EQ(sigismember(&pending, SIGTERM), 0) << "SIGTERM was left pending";
}

bool proc_entry_exists(pid_t pid) {
    return std::ifstream("/proc/" + std::to_string(pid) + "/stat").good();
}

TEST(Signals, ReapsExitedChildrenNoZombieLeft) {
    QC_SKIP_WHEN_EMULATED(kTopRtSignals);
    CancellationSource stop;
    Recorder rec;
    SignalThreadOptions opts;
    opts.on_child_exit = [&](const ChildExit& c) { rec.add_child(c); };
    SignalThread st(stop, opts);

    // Several children exiting together: their SIGCHLDs coalesce into fewer
    // signals, so this checks the waitpid loop.
    constexpr int kChildren = 5;
    std::set<pid_t> pids;
    for (int i = 0; i < kChildren; ++i) {
        pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::_exit(10 + i);
        }
        pids.insert(pid);
    }
    ASSERT_TRUE(rec.wait_children(kChildren));
    std::set<pid_t> reaped;
    for (const auto& c : rec.children()) {
        reaped.insert(c.pid);
        ASSERT_TRUE(WIFEXITED(c.status)) << describe(c);
        EXPECT_GE(WEXITSTATUS(c.status), 10);
        EXPECT_LT(WEXITSTATUS(c.status), 10 + kChildren);
    }
    EXPECT_EQ(reaped, pids);
    EXPECT_EQ(st.children_reaped(), static_cast<std::size_t>(kChildren));
    for (pid_t pid : pids) {
        int status = 0;
        errno = 0;
        EXPECT_EQ(::waitpid(pid, &status, WNOHANG), -1);
        EXPECT_EQ(errno, ECHILD) << "pid " << pid << " still a child (zombie?)";
        EXPECT_FALSE(proc_entry_exists(pid)) << "pid " << pid << " still in /proc";
    }
    EXPECT_FALSE(stop.stop_requested());  // SIGCHLD is not a stop signal
}

TEST(Signals, ReportsChildKilledBySignal) {
    QC_SKIP_WHEN_EMULATED(kTopRtSignals);
    CancellationSource stop;
    Recorder rec;
    SignalThreadOptions opts;
    opts.on_child_exit = [&](const ChildExit& c) { rec.add_child(c); };
    SignalThread st(stop, opts);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        unblock_all_signals();
        ::pause();
        ::_exit(0);
    }
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    ASSERT_TRUE(rec.wait_children(1));
    auto c = rec.children().at(0);
    EXPECT_EQ(c.pid, pid);
    ASSERT_TRUE(WIFSIGNALED(c.status));
    EXPECT_EQ(WTERMSIG(c.status), SIGKILL);
}

TEST(Signals, HandlerRunsAndReplacesStopAction) {
    QC_SKIP_WHEN_EMULATED(kTopRtSignals);
    CancellationSource stop;
    Recorder rec;
    SignalThreadOptions opts;
    opts.handlers[SIGHUP] = [&](const SignalEvent& ev) { rec.add_signal(ev); };
    opts.handlers[SIGUSR1] = [&](const SignalEvent& ev) { rec.add_signal(ev); };
    SignalThread st(stop, opts);
    ASSERT_EQ(::kill(::getpid(), SIGHUP), 0);
    ASSERT_TRUE(rec.wait_signals(1));
    ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);
    ASSERT_TRUE(rec.wait_signals(2));
    auto evs = rec.signals();
    EXPECT_EQ(evs[0].signo, SIGHUP);
    EXPECT_EQ(evs[1].signo, SIGUSR1);
    EXPECT_EQ(evs[1].sender_pid, ::getpid());
    EXPECT_FALSE(stop.stop_requested());
    // SIGTERM still stops.
    ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
    ASSERT_TRUE(stop.token().wait_for(kHangGuard));
    EXPECT_EQ(stop.reason(), (CancelReason{CancelKind::signal, SIGTERM}));
}

TEST(Signals, UnhandledSignalsAreReadAndDropped) {
    QC_SKIP_WHEN_EMULATED(kTopRtSignals);
    CancellationSource stop;
    Recorder rec;
    SignalThreadOptions opts;
    opts.on_ignored = [&](const SignalEvent& ev) { rec.add_signal(ev); };
    SignalThread st(stop, opts);
    ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0);
    ASSERT_TRUE(rec.wait_signals(1));
    sigval value{};
    value.sival_int = 7;
    ASSERT_EQ(::sigqueue(::getpid(), SIGRTMIN + 1, value), 0);
    ASSERT_TRUE(rec.wait_signals(2));
    auto evs = rec.signals();
    EXPECT_EQ(evs[0].signo, SIGUSR2);
    EXPECT_EQ(evs[1].signo, SIGRTMIN + 1);
    EXPECT_EQ(evs[1].code, SI_QUEUE);
    EXPECT_FALSE(stop.stop_requested());
    sigset_t pending;
    sigpending(&pending);
    EXPECT_EQ(sigismember(&pending, SIGUSR2), 0);
}

TEST(Signals, CustomStopSet) {
    QC_SKIP_WHEN_EMULATED(kTopRtSignals);
    CancellationSource stop;
    Recorder rec;
    SignalThreadOptions opts;
    opts.stop_signals = {SIGUSR1};
    opts.on_ignored = [&](const SignalEvent& ev) { rec.add_signal(ev); };
    SignalThread st(stop, opts);
    ASSERT_EQ(::kill(::getpid(), SIGINT), 0);  // no longer a stop signal
    ASSERT_TRUE(rec.wait_signals(1));
    EXPECT_EQ(rec.signals()[0].signo, SIGINT);
    EXPECT_FALSE(stop.stop_requested());
    ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);
    ASSERT_TRUE(stop.token().wait_for(kHangGuard));
    EXPECT_EQ(stop.reason(), (CancelReason{CancelKind::signal, SIGUSR1}));
}

TEST(Signals, StopEndsTheThreadWithoutTouchingTheOwnersCancellation) {
    QC_SKIP_WHEN_EMULATED(kTopRtSignals);
    CancellationSource stop;
    SignalThread st(stop);
    st.stop();
    st.stop();  // idempotent
    EXPECT_FALSE(stop.stop_requested());
}

std::set<std::string> thread_names() {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream in(entry.path() / "comm");
        std::string name;
        std::getline(in, name);
        names.insert(name);
    }
    return names;
}

TEST(Signals, ThreadIsNamed) {
    QC_SKIP_WHEN_EMULATED(kTopRtSignals);
    CancellationSource stop;
    SignalThreadOptions opts;
    opts.thread_name = "qc-sig-test";
    std::optional<SignalThread> st;
    st.emplace(stop, opts);
    // The thread names itself first thing.
    auto deadline = std::chrono::steady_clock::now() + kHangGuard;
    while (!thread_names().contains("qc-sig-test") && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    ASSERT_TRUE(thread_names().contains("qc-sig-test"));
    st.reset();
    EXPECT_FALSE(thread_names().contains("qc-sig-test"));
}

template <typename Fn>
std::string error_of(Fn&& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(Signals, RejectsSignalsItCannotTake) {
    QC_SKIP_WHEN_EMULATED(kTopRtSignals);
    CancellationSource stop;
    auto with_stop = [&](std::vector<int> sigs) {
        return error_of([&] {
            SignalThreadOptions o;
            o.stop_signals = std::move(sigs);
            SignalThread st(stop, o);
        });
    };
    EXPECT_NE(with_stop({SIGTERM, SIGKILL}).find("stop_signals names SIGKILL"), std::string::npos);
    EXPECT_NE(with_stop({SIGSEGV}).find("SIGSEGV"), std::string::npos);
    EXPECT_NE(with_stop({0}).find("signal 0"), std::string::npos);
    EXPECT_NE(with_stop({200}).find("signal 200"), std::string::npos);
    EXPECT_NE(with_stop({SIGCHLD}).find("SIGCHLD"), std::string::npos);

    std::string msg = error_of([&] {
        SignalThreadOptions o;
        o.handlers[SIGCHLD] = [](const SignalEvent&) {};
        SignalThread st(stop, o);
    });
    EXPECT_NE(msg.find("handlers names SIGCHLD"), std::string::npos) << msg;
    msg = error_of([&] {
        SignalThreadOptions o;
        o.handlers[SIGSTOP] = [](const SignalEvent&) {};
        SignalThread st(stop, o);
    });
    EXPECT_NE(msg.find("handlers names SIGSTOP"), std::string::npos) << msg;
    msg = error_of([&] {
        SignalThreadOptions o;
        o.thread_name = "a-name-that-is-too-long";
        SignalThread st(stop, o);
    });
    EXPECT_NE(msg.find("a-name-that-is-too-long"), std::string::npos) << msg;

    // Without reaping, SIGCHLD is an ordinary signal again.
    SignalThreadOptions o;
    o.reap_children = false;
    o.handlers[SIGCHLD] = [](const SignalEvent&) {};
    EXPECT_NO_THROW(SignalThread(stop, o));
}

TEST(Signals, RefusesToStartWhenCallerDoesNotBlock) {
    std::string msg;
    std::thread t([&] {
        sigset_t term;
        sigemptyset(&term);
        sigaddset(&term, SIGUSR1);
        pthread_sigmask(SIG_UNBLOCK, &term, nullptr);
        CancellationSource stop;
        msg = error_of([&] { SignalThread st(stop); });
    });
    t.join();
    EXPECT_NE(msg.find("SIGUSR1 is not blocked in the calling thread"), std::string::npos) << msg;
    EXPECT_NE(msg.find("block_async_signals()"), std::string::npos) << msg;
}

TEST(Signals, UnblockAllSignalsForExecInChild) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        if (!unblock_all_signals()) {
            ::_exit(2);
        }
        sigset_t cur;
        sigprocmask(SIG_BLOCK, nullptr, &cur);
        ::_exit(sigismember(&cur, SIGTERM) == 0 && sigismember(&cur, SIGRTMIN) == 0 ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

// is_pid1() for real: the first child forked after unshare(CLONE_NEWPID) is
// PID 1 of the new namespace; its parent is not.
TEST(Signals, IsPid1InNewPidNamespace) {
    EXPECT_FALSE(is_pid1());
    pid_t helper = ::fork();
    ASSERT_GE(helper, 0);
    if (helper == 0) {
        if (::unshare(CLONE_NEWPID) != 0) {
            ::_exit(errno == EPERM ? 77 : 3);
        }
        pid_t init = ::fork();
        if (init < 0) {
            ::_exit(4);
        }
        if (init == 0) {
            ::_exit(is_pid1() ? 0 : 5);
        }
        int status = 0;
        if (::waitpid(init, &status, 0) != init || !WIFEXITED(status)) {
            ::_exit(6);
        }
        ::_exit(is_pid1() ? 7 : WEXITSTATUS(status));
    }
    int status = 0;
    ASSERT_EQ(::waitpid(helper, &status, 0), helper);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        GTEST_SKIP() << "unshare(CLONE_NEWPID) not permitted here (needs CAP_SYS_ADMIN)";
    }
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace qc::core
