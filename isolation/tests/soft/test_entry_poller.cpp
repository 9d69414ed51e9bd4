// The entry poller on real threads: affinity changes, migrations, preemption
// and interrupts seen through /proc, breaking isolation per mode.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "quietcore/core/isolation_plan.hpp"
#include "quietcore/core/text_file.hpp"
#include "quietcore/core/thread.hpp"
#include "quietcore/isolation/entry_poller.hpp"
#include "soft_test_support.hpp"

namespace qc::isolation {
namespace {

using test::wait_until;

// A pinned thread that sleeps on a condition variable (so it is never
// preempted) and runs briefly each time it is nudged.
class SleepingThread {
  public:
    explicit SleepingThread(unsigned cpu)
        : thread_({"qc-poll-sleep", cpu, {}}, [this] {
              tid_ = ::gettid();
              std::unique_lock lock(mutex_);
              while (!quit_) {
                  waiting_ = true;
                  cv_.wait(lock, [&] { return quit_ || nudges_ != seen_; });
                  seen_ = nudges_;
                  waiting_ = false;
              }
          }) {
        wait_until([&] { return tid_.load() != 0; });
        wait_until([&] { return state() == 'S'; });
    }
    ~SleepingThread() {
        {
            std::lock_guard lock(mutex_);
            quit_ = true;
        }
        cv_.notify_all();
    }
    pid_t tid() const { return tid_; }
    void nudge() {
        {
            std::lock_guard lock(mutex_);
            ++nudges_;
        }
        cv_.notify_all();
        wait_until([&] {
            std::lock_guard lock(mutex_);
            return seen_ == nudges_ && waiting_;
        });
        wait_until([&] { return state() == 'S'; });
    }
    char state() const {
        const std::string stat =
            core::read_text_file("/proc/self/task/" + std::to_string(tid_.load()) + "/stat");
        return stat[stat.rfind(')') + 2];
    }

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool quit_ = false, waiting_ = false;
    unsigned nudges_ = 0, seen_ = 0;
    std::atomic<pid_t> tid_{0};
    core::PinnedThread thread_;
};

// A pinned thread that spins without syscalls until destroyed.
class SpinningThread {
  public:
    explicit SpinningThread(unsigned cpu, const char* name = "qc-poll-spin")
        : thread_({name, cpu, {}}, [this] {
              tid_ = ::gettid();
              while (!quit_.load(std::memory_order_relaxed)) {
              }
          }) {
        wait_until([&] { return tid_.load() != 0; });
    }
    ~SpinningThread() { quit_ = true; }
    pid_t tid() const { return tid_; }

  private:
    std::atomic<bool> quit_{false};
    std::atomic<pid_t> tid_{0};
    core::PinnedThread thread_;
};

bool set_affinity(pid_t tid, std::initializer_list<unsigned> cpus) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (unsigned c : cpus) {
        CPU_SET(c, &set);
    }
    return ::sched_setaffinity(tid, sizeof set, &set) == 0;
}

std::vector<EntryObservation> of_cause(const EntryPoller& poller, BreakCause cause) {
    auto all = poller.observations();
    std::erase_if(all, [&](const EntryObservation& o) { return o.cause != cause; });
    return all;
}

PollerOptions report_only_irqs() {
    PollerOptions options;
    options.irq_breaks = IrqBreaks::report_only;
    return options;
}

class EntryPollerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (core::online_cpus().count() < 2) {
            GTEST_SKIP() << "needs two online CPUs";
        }
    }
};

TEST_F(EntryPollerTest, AffinityChangeBreaksSignalModeAndSignals) {
    test::TestHandler handler(SIGUSR2);
    SleepingThread sleeper(1);
    auto record = std::make_shared<MonitoredThread>(::getpid(), sleeper.tid(), 16);
    BreakMailbox mailbox;
    record->set_policy(SoftPolicy{StrictMode::signal, SIGUSR2, false, &mailbox, 1});
    record->set_isolated(true);

    EntryPoller poller(report_only_irqs());
    poller.watch(record, 1);
    poller.poll_once();
    EXPECT_FALSE(mailbox.broken()) << "a sleeping pinned thread had a break";
    EXPECT_TRUE(of_cause(poller, BreakCause::preemption).empty());

    ASSERT_TRUE(set_affinity(sleeper.tid(), {0, 1}));
    poller.poll_once();
    const auto changes = of_cause(poller, BreakCause::affinity_change);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].source, "0-1");
    EXPECT_EQ(changes[0].tid, sleeper.tid());
    EXPECT_TRUE(changes[0].broke_isolation);
    BreakRecord got;
    ASSERT_TRUE(mailbox.take(got));
    EXPECT_EQ(got.cause, BreakCause::affinity_change);
    EXPECT_EQ(got.cpu, 1);
    EXPECT_FALSE(record->isolated());
    EXPECT_EQ(record->breaks(BreakCause::affinity_change), 1u);
    ASSERT_TRUE(wait_until([] { return test::g_handler.calls.load() == 1; }));
    EXPECT_EQ(test::g_handler.signo.load(), SIGUSR2);
}

TEST_F(EntryPollerTest, MigrationIsObservedInLogModeWithoutBreaking) {
    SleepingThread sleeper(1);
    auto record = std::make_shared<MonitoredThread>(::getpid(), sleeper.tid(), 16);
    BreakMailbox mailbox;
    record->set_policy(SoftPolicy{StrictMode::log, SIGUSR2, false, &mailbox, 1});
    record->set_isolated(true);
    EntryPoller poller(report_only_irqs());
    poller.watch(record, 1);

    ASSERT_TRUE(set_affinity(sleeper.tid(), {0}));
    sleeper.nudge();  // it runs, now on CPU 0
    poller.poll_once();
    const auto moves = of_cause(poller, BreakCause::migration);
    ASSERT_EQ(moves.size(), 1u);
    EXPECT_EQ(moves[0].cpu, 0);
    EXPECT_EQ(moves[0].source, "from cpu 1");
    EXPECT_FALSE(moves[0].broke_isolation);
    EXPECT_EQ(of_cause(poller, BreakCause::affinity_change).size(), 1u);
    EXPECT_TRUE(record->isolated());
    EXPECT_FALSE(mailbox.broken());
}

TEST_F(EntryPollerTest, PreemptionBreaksSignalMode) {
    test::TestHandler handler(SIGUSR2);
    SpinningThread watched(1, "qc-poll-spin-a");
    SpinningThread rival(1, "qc-poll-spin-b");  // same CPU: they preempt each other
    auto record = std::make_shared<MonitoredThread>(::getpid(), watched.tid(), 16);
    BreakMailbox mailbox;
    record->set_policy(SoftPolicy{StrictMode::signal, SIGUSR2, false, &mailbox, 1});
    record->set_isolated(true);
    EntryPoller poller(report_only_irqs());
    poller.watch(record, 1);

    ASSERT_TRUE(wait_until([&] {
        poller.poll_once();
        return mailbox.broken();
    }));
    BreakRecord got;
    ASSERT_TRUE(mailbox.take(got));
    EXPECT_EQ(got.cause, BreakCause::preemption);
    EXPECT_GE(poller.observed(BreakCause::preemption), 1u);
    EXPECT_TRUE(of_cause(poller, BreakCause::migration).empty());
    ASSERT_TRUE(wait_until([] { return test::g_handler.calls.load() == 1; }));
}

TEST_F(EntryPollerTest, InterruptsAreReportOnlyWithoutNohzFull) {
    if (!core::KernelCpuSets::read().nohz_full.empty()) {
        GTEST_SKIP() << "this kernel has nohz_full CPUs";
    }
    SpinningThread busy(1);  // keeps CPU 1's tick running
    SleepingThread sleeper(1);
    auto record = std::make_shared<MonitoredThread>(::getpid(), sleeper.tid(), 16);
    BreakMailbox mailbox;
    record->set_policy(SoftPolicy{StrictMode::signal, SIGUSR2, false, &mailbox, 1});
    record->set_isolated(true);
    EntryPoller poller;  // IrqBreaks::automatic
    EXPECT_FALSE(poller.irq_breaks_isolation(1));
    poller.watch(record, 1);
    ASSERT_TRUE(wait_until([&] {
        poller.poll_once();
        return poller.observed(BreakCause::irq) > 0;
    }));
    for (const auto& o : of_cause(poller, BreakCause::irq)) {
        EXPECT_FALSE(o.broke_isolation) << o.source;
        EXPECT_GT(o.delta, 0u);
        EXPECT_EQ(o.cpu, 1);
    }
    EXPECT_FALSE(mailbox.broken());
    EXPECT_TRUE(record->isolated());
}

TEST_F(EntryPollerTest, InterruptsBreakWhenConfiguredWithTheirName) {
    test::TestHandler handler(SIGUSR2);
    SpinningThread busy(1);
    SleepingThread sleeper(1);
    auto record = std::make_shared<MonitoredThread>(::getpid(), sleeper.tid(), 16);
    BreakMailbox mailbox;
    record->set_policy(SoftPolicy{StrictMode::signal, SIGUSR2, false, &mailbox, 1});
    record->set_isolated(true);
    PollerOptions options;
    options.irq_breaks = IrqBreaks::break_isolation;
    EntryPoller poller(options);
    poller.watch(record, 1);
    ASSERT_TRUE(wait_until([&] {
        poller.poll_once();
        return mailbox.broken();
    }));
    BreakRecord got;
    ASSERT_TRUE(mailbox.take(got));
    EXPECT_EQ(got.cause, BreakCause::irq);
    const auto irqs = of_cause(poller, BreakCause::irq);
    const auto breaker = std::find_if(irqs.begin(), irqs.end(),
                                      [](const EntryObservation& o) { return o.broke_isolation; });
    ASSERT_NE(breaker, irqs.end());
    if (got.irq == kNamedIrq) {
        EXPECT_EQ(unpack_irq_name(got.vector), breaker->source.substr(0, 4));
    } else {
        EXPECT_EQ(std::to_string(got.irq), breaker->source);
    }
    ASSERT_TRUE(wait_until([] { return test::g_handler.calls.load() == 1; }));
}

TEST_F(EntryPollerTest, SoftirqsAreObservedButNeverBreak) {
    SpinningThread busy(1);  // timer softirqs run on CPU 1
    SleepingThread sleeper(1);
    auto record = std::make_shared<MonitoredThread>(::getpid(), sleeper.tid(), 16);
    BreakMailbox mailbox;
    record->set_policy(SoftPolicy{StrictMode::signal, SIGUSR2, false, &mailbox, 1});
    record->set_isolated(true);
    PollerOptions options;
    options.irq_breaks = IrqBreaks::report_only;
    options.softirqs = true;
    EntryPoller poller(options);
    poller.watch(record, 1);
    const auto softirq_seen = [&] {
        const auto irqs = of_cause(poller, BreakCause::irq);
        return std::any_of(irqs.begin(), irqs.end(),
                           [](const EntryObservation& o) { return o.softirq; });
    };
    ASSERT_TRUE(wait_until([&] {
        poller.poll_once();
        return softirq_seen();
    }));
    EXPECT_FALSE(mailbox.broken());
    EXPECT_TRUE(record->isolated());
}

TEST_F(EntryPollerTest, ThreadThatExitedIsDropped) {
    auto sleeper = std::make_unique<SleepingThread>(1);
    auto record = std::make_shared<MonitoredThread>(::getpid(), sleeper->tid(), 16);
    EntryPoller poller(report_only_irqs());
    poller.watch(record, 1);
    EXPECT_EQ(poller.watched(), 1u);
    sleeper.reset();  // joins
    poller.poll_once();
    EXPECT_EQ(poller.watched(), 0u);
}

TEST_F(EntryPollerTest, WatchingAMissingThreadThrows) {
    auto record = std::make_shared<MonitoredThread>(::getpid(), 999999, 16);
    EntryPoller poller(report_only_irqs());
    EXPECT_THROW(poller.watch(record, 1), core::Error);
}

TEST_F(EntryPollerTest, PollingThreadRuns) {
    test::TestHandler handler(SIGUSR2);
    SleepingThread sleeper(1);
    auto record = std::make_shared<MonitoredThread>(::getpid(), sleeper.tid(), 16);
    BreakMailbox mailbox;
    record->set_policy(SoftPolicy{StrictMode::signal, SIGUSR2, false, &mailbox, 1});
    record->set_isolated(true);
    PollerOptions options = report_only_irqs();
    options.interval = std::chrono::milliseconds(1);
    EntryPoller poller(options);
    poller.watch(record, 1);
    poller.start();
    ASSERT_TRUE(set_affinity(sleeper.tid(), {0, 1}));
    EXPECT_TRUE(wait_until([&] { return mailbox.broken(); }));
    poller.stop();
}

}  // namespace
}  // namespace qc::isolation
