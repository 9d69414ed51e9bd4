#include <gtest/gtest.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <fstream>
#include <string>
#include <system_error>

#include "drop_capability.hpp"
#include "error_of.hpp"
#include "quietcore/core/cancellation.hpp"
#include "quietcore/core/error.hpp"
#include "quietcore/core/thread.hpp"

namespace qc::core {
namespace {

std::string read_comm(pid_t tid) {
    std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/comm");
    std::string name;
    std::getline(in, name);
    return name;
}

using qc::test::error_of;

#define EXPECT_CONTAINS(haystack, needle)                            \
    EXPECT_NE(std::string(haystack).find(needle), std::string::npos) \
        << "\"" << (haystack) << "\" does not contain \"" << (needle) << "\""

TEST(Thread, PinnedToEachOnlineCpu) {
    CpuSet online = online_cpus();
    ASSERT_FALSE(online.empty());
    for (unsigned cpu : online.cpus()) {
        int ran_on = -1;
        CpuSet affinity;
        {
            PinnedThread t({"qc-pin-" + std::to_string(cpu), cpu, std::nullopt}, [&] {
                ran_on = ::sched_getcpu();
                // Read back the mask independently of allowed_cpus().
                cpu_set_t set;
                CPU_ZERO(&set);
                pthread_getaffinity_np(pthread_self(), sizeof set, &set);
                for (unsigned c = 0; c < CPU_SETSIZE; ++c) {
                    if (CPU_ISSET(c, &set)) {
                        affinity.add(c);
                    }
                }
            });
            EXPECT_GT(t.tid(), 0);
        }
        EXPECT_EQ(ran_on, static_cast<int>(cpu));
        EXPECT_EQ(affinity.to_list(), std::to_string(cpu));
    }
}

TEST(Thread, NameVisibleInProcWhileRunning) {
    CancellationSource stop;
    PinnedThread t({"qc-named-thr", std::nullopt, std::nullopt},
                   [tok = stop.token()] { tok.wait(); });
    // Set-up, naming included, is complete when the constructor returns.
    EXPECT_EQ(read_comm(t.tid()), "qc-named-thr");
    EXPECT_EQ(t.config().name, "qc-named-thr");
    stop.request();
    t.join();
    EXPECT_FALSE(t.joinable());
}

TEST(Thread, UnpinnedThreadKeepsCreatorsAffinity) {
    CpuSet creator = allowed_cpus();
    CpuSet inside;
    PinnedThread t({"qc-free", std::nullopt, std::nullopt}, [&] { inside = allowed_cpus(); });
    t.join();
    EXPECT_EQ(inside.to_list(), creator.to_list());
}

TEST(Thread, SchedFifoAsRoot) {
    int policy = -1;
    int prio = -1;
    int cpu = -1;
    try {
        CpuSet online = online_cpus();
        unsigned last = online.end() - 1;
        PinnedThread t({"qc-fifo", last, 10}, [&] {
            sched_param p{};
            pthread_getschedparam(pthread_self(), &policy, &p);
            prio = p.sched_priority;
            cpu = ::sched_getcpu();
        });
        t.join();
        EXPECT_EQ(cpu, static_cast<int>(last));
    } catch (const std::system_error& e) {
        if (e.code().value() == EPERM) {
            GTEST_SKIP() << "SCHED_FIFO not permitted in this environment: " << e.what();
        }
        throw;
    }
    EXPECT_EQ(policy, SCHED_FIFO);
    EXPECT_EQ(prio, 10);
}

// The EPERM path for real: a forked child without CAP_SYS_NICE and with
// RLIMIT_RTPRIO 0 asks for SCHED_FIFO; it sends the error text back.
TEST(Thread, SchedFifoWithoutPrivilegeFailsWithClearError) {
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(pipefd[0]);
        rlimit zero{0, 0};
        if (::setrlimit(RLIMIT_RTPRIO, &zero) != 0 || !qc::test::drop_capability(CAP_SYS_NICE)) {
            ::_exit(3);
        }
        bool body_ran = false;
        std::string msg = "(no error)";
        int code = 0;
        try {
            PinnedThread t({"qc-noprio", std::nullopt, 20}, [&] { body_ran = true; });
        } catch (const std::system_error& e) {
            msg = e.what();
            code = e.code().value();
        }
        (void)!::write(pipefd[1], msg.data(), msg.size());
        ::_exit(body_ran ? 4 : (code == EPERM ? 0 : 5));
    }
    ::close(pipefd[1]);
    std::string msg;
    std::array<char, 512> buf;
    for (ssize_t n; (n = ::read(pipefd[0], buf.data(), buf.size())) > 0;) {
        msg.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(pipefd[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_NE(WEXITSTATUS(status), 3) << "could not drop CAP_SYS_NICE in the child";
    EXPECT_NE(WEXITSTATUS(status), 4) << "body ran although set-up failed";
    EXPECT_EQ(WEXITSTATUS(status), 0) << msg;
    EXPECT_CONTAINS(msg, "thread \"qc-noprio\"");
    EXPECT_CONTAINS(msg, "SCHED_FIFO priority 20 not permitted");
    EXPECT_CONTAINS(msg, "CAP_SYS_NICE");
    EXPECT_CONTAINS(msg, "RLIMIT_RTPRIO is 0");
}

TEST(Thread, OfflineOrImpossibleCpuIsRejectedInTheCaller) {
    CpuSet online = online_cpus();
    unsigned missing = online.end();  // one past the highest online CPU
    bool body_ran = false;
    std::string msg = error_of([&] {
        PinnedThread t({"qc-badcpu", missing, std::nullopt}, [&] { body_ran = true; });
    });
    EXPECT_FALSE(body_ran);
    EXPECT_CONTAINS(msg, "thread \"qc-badcpu\"");
    EXPECT_CONTAINS(msg, "CPU " + std::to_string(missing) + ": CPU is not online");
    EXPECT_CONTAINS(msg, "online CPUs: " + online.to_list());

    msg = error_of([&] {
        PinnedThread t({"qc-hugecpu", CpuSet::kMaxCpus + 5, std::nullopt},
                       [&] { body_ran = true; });
    });
    EXPECT_FALSE(body_ran);
    EXPECT_CONTAINS(msg, "CPU " + std::to_string(CpuSet::kMaxCpus + 5));
    EXPECT_CONTAINS(msg, "beyond the kernel's limit");
}

TEST(Thread, PriorityOutOfRangeIsRejected) {
    EXPECT_EQ(fifo_priority_min(), 1);
    EXPECT_EQ(fifo_priority_max(), 99);
    for (int bad : {0, -1, 100, 1000}) {
        bool body_ran = false;
        std::string msg = error_of([&] {
            PinnedThread t({"qc-badprio", std::nullopt, bad}, [&] { body_ran = true; });
        });
        EXPECT_FALSE(body_ran);
        EXPECT_CONTAINS(msg, "thread \"qc-badprio\"");
        EXPECT_CONTAINS(msg,
                        "SCHED_FIFO priority " + std::to_string(bad) + " is out of range 1..99");
    }
    // The same check for the calling thread.
    EXPECT_THROW(set_current_thread_fifo(0), Error);
}

TEST(Thread, NameRules) {
    std::string msg = error_of([] { PinnedThread t({"sixteen-chars-xx", {}, {}}, [] {}); });
    EXPECT_CONTAINS(msg, "thread name \"sixteen-chars-xx\" is 16 bytes");
    EXPECT_CONTAINS(msg, "at most 15");
    EXPECT_CONTAINS(error_of([] { PinnedThread t({"", {}, {}}, [] {}); }), "must not be empty");
    EXPECT_CONTAINS(error_of([] { check_thread_name("rx/0"); }), "\"rx/0\" contains '/'");
    EXPECT_CONTAINS(error_of([] { check_thread_name("rx\n0"); }), "control character");

    // Exactly 15 bytes is fine and survives intact.
    CancellationSource stop;
    PinnedThread t({"fifteen-chars-x", {}, {}}, [tok = stop.token()] { tok.wait(); });
    EXPECT_EQ(read_comm(t.tid()), "fifteen-chars-x");
    stop.request();
}

TEST(Thread, PinCurrentThreadChecksOnline) {
    unsigned missing = online_cpus().end();
    EXPECT_CONTAINS(error_of([&] { pin_current_thread(missing); }), "is not online");
}

TEST(Thread, MoveAssignJoinsThePreviousThread) {
    std::atomic<bool> a_done{false};
    std::atomic<bool> b_done{false};
    CancellationSource release_b;
    PinnedThread a({"qc-move-a", {}, {}}, [&] { a_done = true; });
    PinnedThread b({"qc-move-b", {}, {}}, [&, tok = release_b.token()] {
        tok.wait();
        b_done = true;
    });
    pid_t b_tid = b.tid();
    a = std::move(b);
    EXPECT_TRUE(a_done.load());  // a's old thread was joined
    EXPECT_FALSE(b_done.load());
    EXPECT_EQ(a.tid(), b_tid);
    EXPECT_EQ(a.config().name, "qc-move-b");
    EXPECT_EQ(b.tid(), 0);  // NOLINT(bugprone-use-after-move)
    EXPECT_FALSE(b.joinable());
    EXPECT_EQ(read_comm(a.tid()), "qc-move-b");
    release_b.request();
    a.join();
    EXPECT_TRUE(b_done.load());
}

}  // namespace
}  // namespace qc::core
