#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <thread>

#include "quietcore/core/signals.hpp"
#include "quietcore/isolation/backend.hpp"
#include "quietcore/isolation/kernel_backend.hpp"
#include "quietcore/isolation/strict_signal.hpp"

namespace qc::isolation {
namespace {

// As a quietcore main() must: every thread starts with async signals blocked.
const sigset_t g_mask_before_tests = core::block_async_signals();

bool blocked_here(int signo) {
    sigset_t now;
    pthread_sigmask(SIG_BLOCK, nullptr, &now);
    return sigismember(&now, signo) == 1;
}

// Runs `body` on a fresh thread (which inherits the blocked mask) and joins.
template <typename F>
void on_worker(F body) {
    std::thread t(body);
    t.join();
}

TEST(StrictSignal, UncatchableSignalsAreRefusedByName) {
    for (int bad : {0, SIGKILL, SIGSTOP, 65}) {
        try {
            install_strict_signal_handler(bad);
            ADD_FAILURE() << bad;
        } catch (const IsolationError& e) {
            EXPECT_EQ(e.code(), EINVAL);
            EXPECT_NE(std::string(e.what()).find("signal " + std::to_string(bad)),
                      std::string::npos);
        }
    }
}

TEST(StrictSignal, ASignalToTheWorkerPostsItsCause) {
    on_worker([] {
        BreakMailbox mailbox;
        ASSERT_TRUE(blocked_here(SIGUSR1));
        attach_strict_signal(SIGUSR1, mailbox);
        EXPECT_FALSE(blocked_here(SIGUSR1)) << "the worker unblocks its STRICT signal";
        EXPECT_TRUE(blocked_here(SIGTERM)) << "and nothing else";
        EXPECT_EQ(attached_strict_mailbox(), &mailbox);
        EXPECT_FALSE(mailbox.broken());

        // To self: delivered before pthread_kill returns.
        ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR1), 0);
        ASSERT_TRUE(mailbox.broken());
        BreakRecord r;
        ASSERT_TRUE(mailbox.take(r));
        EXPECT_EQ(r.cause, BreakCause::signal);
        EXPECT_EQ(r.signal, SIGUSR1);
        EXPECT_FALSE(mailbox.broken());

        detach_strict_signal();
        EXPECT_TRUE(blocked_here(SIGUSR1)) << "detach restores the blocked mask";
        EXPECT_EQ(attached_strict_mailbox(), nullptr);
    });
}

TEST(StrictSignal, ASignalWhileTheMailboxIsFullIsCoalesced) {
    on_worker([] {
        BreakMailbox mailbox;
        attach_strict_signal(SIGUSR2, mailbox);
        ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR2), 0);
        ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR2), 0);
        ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR2), 0);
        EXPECT_EQ(mailbox.coalesced(), 2u);
        BreakRecord r;
        ASSERT_TRUE(mailbox.take(r));
        EXPECT_EQ(r.signal, SIGUSR2);
        // Taken: the next signal posts again.
        ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR2), 0);
        EXPECT_TRUE(mailbox.broken());
        EXPECT_EQ(mailbox.coalesced(), 2u);
        detach_strict_signal();
    });
}

TEST(StrictSignal, ARecordPostedBeforeTheSignalIsKeptAndNotCountedTwice) {
    on_worker([] {
        BreakMailbox mailbox;
        attach_strict_signal(SIGUSR1, mailbox);
        BreakRecord posted;
        posted.cause = BreakCause::syscall;
        posted.syscall_nr = 39;
        mailbox.post(posted);  // as the soft supervisor does
        ASSERT_TRUE(signal_posted_break(getpid(), gettid(), SIGUSR1)) << errno;
        EXPECT_EQ(mailbox.coalesced(), 0u);
        // A plain signal is a break of its own, hence coalesced.
        ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR1), 0);
        EXPECT_EQ(mailbox.coalesced(), 1u);
        BreakRecord r;
        ASSERT_TRUE(mailbox.take(r));
        EXPECT_EQ(r.cause, BreakCause::syscall);
        EXPECT_EQ(r.syscall_nr, 39);
        detach_strict_signal();
    });
}

bool reader_gives_ipi(BreakRecord& out) noexcept {
    out = BreakRecord{};
    out.cause = BreakCause::ipi;
    out.source_cpu = 0;
    return true;
}

TEST(StrictSignal, TheHandlerUsesTheAttachedBreakReader) {
    on_worker([] {
        BreakMailbox mailbox;
        attach_strict_signal(SIGUSR1, mailbox, &reader_gives_ipi);
        ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR1), 0);
        BreakRecord r;
        ASSERT_TRUE(mailbox.take(r));
        EXPECT_EQ(r.cause, BreakCause::ipi);
        EXPECT_EQ(r.source_cpu, 0);
        detach_strict_signal();
    });
}

TEST(StrictSignal, WithoutAKernelRecordTheKernelReaderFallsBackToTheSignal) {
    if (kernel_task_isolation_present()) {
        GTEST_SKIP() << "this kernel has task isolation";
    }
    on_worker([] {
        BreakMailbox mailbox;
        attach_strict_signal(SIGUSR1, mailbox, &read_kernel_break);
        errno = 77;
        ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR1), 0);
        EXPECT_EQ(errno, 77) << "the handler preserves errno";
        BreakRecord r;
        ASSERT_TRUE(mailbox.take(r));
        EXPECT_EQ(r.cause, BreakCause::signal);
        EXPECT_EQ(r.signal, SIGUSR1);
        detach_strict_signal();
    });
}

TEST(StrictSignal, ASignalFromAnotherThreadReachesTheSpinningWorker) {
    BreakMailbox mailbox;
    std::atomic<bool> attached{false};
    std::thread worker([&] {
        attach_strict_signal(SIGUSR1, mailbox);
        attached.store(true);
        while (!mailbox.broken()) {
            // The worker loop: one load per iteration, no syscall.
        }
        detach_strict_signal();
    });
    while (!attached.load()) {
        std::this_thread::yield();
    }
    ASSERT_EQ(pthread_kill(worker.native_handle(), SIGUSR1), 0);
    worker.join();
    BreakRecord r;
    ASSERT_TRUE(mailbox.take(r));
    EXPECT_EQ(r.cause, BreakCause::signal);
    EXPECT_EQ(r.signal, SIGUSR1);
}

TEST(StrictSignal, AThreadWithoutAMailboxIgnoresTheSignal) {
    install_strict_signal_handler(SIGUSR2);
    on_worker([] {
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, SIGUSR2);
        pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
        // Default action would end the process; the handler does nothing here.
        ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR2), 0);
        EXPECT_EQ(attached_strict_mailbox(), nullptr);
    });
}

}  // namespace
}  // namespace qc::isolation
