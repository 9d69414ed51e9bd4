#include <gtest/gtest.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "quietcore/core/cancellation.hpp"

namespace qc::core {
namespace {

// Bounds waits for events that happen at once when the code works; only
// turns a broken build into a failure instead of a hang.
constexpr int kHangGuardMs = 30'000;

// Spins until thread `tid` of this process is asleep in the kernel (state S
// in /proc), so a test knows the waiter really blocked before it is woken.
void wait_until_sleeping(pid_t tid) {
    std::string path = "/proc/self/task/" + std::to_string(tid) + "/stat";
    for (;;) {
        std::ifstream in(path);
        std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto close_paren = stat.rfind(')');
        if (close_paren != std::string::npos && close_paren + 2 < stat.size() &&
            stat[close_paren + 2] == 'S') {
            return;
        }
        std::this_thread::yield();
    }
}

bool fd_readable_now(int fd) {
    pollfd pfd{fd, POLLIN, 0};
    return ::poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN) != 0;
}

TEST(Cancellation, StartsNotRequested) {
    CancellationSource src;
    EXPECT_FALSE(src.stop_requested());
    EXPECT_FALSE(src.token().stop_requested());
    EXPECT_FALSE(src.reason().has_value());
    ASSERT_GE(src.wait_fd(), 0);
    EXPECT_FALSE(fd_readable_now(src.wait_fd()));
    EXPECT_FALSE(src.token().wait_for(std::chrono::milliseconds(0)));
}

TEST(Cancellation, StickyAndFirstReasonWins) {
    CancellationSource src;
    auto token = src.token();
    EXPECT_TRUE(src.request(42));
    EXPECT_TRUE(token.stop_requested());
    EXPECT_EQ(token.reason(), (CancelReason{CancelKind::user, 42}));

    // Later requests change neither the flag nor the reason.
    EXPECT_FALSE(src.request(7));
    EXPECT_FALSE(src.request_by_signal(SIGTERM));
    EXPECT_TRUE(token.stop_requested());
    EXPECT_EQ(src.reason(), (CancelReason{CancelKind::user, 42}));
    // And stay visible, readable fd included, however often they are checked.
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(token.stop_requested());
        EXPECT_TRUE(fd_readable_now(token.wait_fd()));
        EXPECT_TRUE(token.wait_for(std::chrono::milliseconds(0)));
    }
}

TEST(Cancellation, SignalReasonAndNegativeCodeRoundTrip) {
    CancellationSource a;
    a.request_by_signal(SIGINT);
    EXPECT_EQ(a.reason(), (CancelReason{CancelKind::signal, SIGINT}));

    CancellationSource b;
    b.request(-5);
    EXPECT_EQ(b.reason(), (CancelReason{CancelKind::user, -5}));
}

TEST(Cancellation, TokenOutlivesSource) {
    CancellationToken token;
    {
        CancellationSource src;
        token = src.token();
        src.request(3);
    }
    EXPECT_TRUE(token.stop_requested());
    EXPECT_EQ(token.reason(), (CancelReason{CancelKind::user, 3}));
    EXPECT_TRUE(fd_readable_now(token.wait_fd()));
}

TEST(Cancellation, DefaultTokenNeverStopsAndRefusesToWait) {
    CancellationToken token;
    EXPECT_FALSE(token.stop_requested());
    EXPECT_FALSE(token.reason().has_value());
    EXPECT_EQ(token.wait_fd(), -1);
    EXPECT_THROW(token.wait_for(std::chrono::milliseconds(1)), std::system_error);
}

TEST(Cancellation, MovedFromSourceIsInertAndMovedToKeepsState) {
    CancellationSource a;
    auto token = a.token();
    CancellationSource b = std::move(a);
    EXPECT_FALSE(a.request(1));  // NOLINT(bugprone-use-after-move): documented as inert
    EXPECT_FALSE(token.stop_requested());
    EXPECT_TRUE(b.request(2));
    EXPECT_TRUE(token.stop_requested());
    EXPECT_EQ(token.reason(), (CancelReason{CancelKind::user, 2}));
}

// Many threads race to request; exactly one wins and every spinning reader
// sees the stop.
TEST(Cancellation, ManyThreadsExactlyOneWinner) {
    constexpr int kRequesters = 8;
    constexpr int kReaders = 4;
    CancellationSource src;
    std::atomic<int> winners{0};
    std::atomic<int> readers_done{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < kReaders; ++i) {
        threads.emplace_back([&, token = src.token()] {
            while (!token.stop_requested()) {
                std::this_thread::yield();
            }
            readers_done.fetch_add(1);
        });
    }
    for (int i = 0; i < kRequesters; ++i) {
        threads.emplace_back([&, i] {
            while (!go.load()) {
                std::this_thread::yield();
            }
            if (src.request(100 + i)) {
                winners.fetch_add(1);
            }
        });
    }
    go.store(true);
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(winners.load(), 1);
    EXPECT_EQ(readers_done.load(), kReaders);
    auto reason = src.reason();
    ASSERT_TRUE(reason.has_value());
    EXPECT_GE(reason->code, 100);
    EXPECT_LT(reason->code, 100 + kRequesters);
    // Exactly one write happened: the counter is 1 (read it only here, on a
    // source no one else uses, since reading consumes it).
    std::uint64_t count = 0;
    ASSERT_EQ(::read(src.wait_fd(), &count, sizeof count), static_cast<ssize_t>(sizeof count));
    EXPECT_EQ(count, 1u);
}

TEST(Cancellation, PollWakesWhenAnotherThreadRequests) {
    CancellationSource src;
    auto token = src.token();
    std::atomic<pid_t> waiter_tid{0};
    int poll_result = -2;
    short revents = 0;
    std::thread waiter([&] {
        pollfd pfd{token.wait_fd(), POLLIN, 0};
        waiter_tid.store(::gettid());
        poll_result = ::poll(&pfd, 1, kHangGuardMs);  // only the request ends it in time
        revents = pfd.revents;
    });
    while (waiter_tid.load() == 0) {
        std::this_thread::yield();
    }
    wait_until_sleeping(waiter_tid.load());
    src.request_by_signal(SIGTERM);
    waiter.join();
    EXPECT_EQ(poll_result, 1);
    EXPECT_TRUE(revents & POLLIN);
    EXPECT_EQ(token.reason(), (CancelReason{CancelKind::signal, SIGTERM}));
}

TEST(Cancellation, EpollWakesWhenAnotherThreadRequests) {
    CancellationSource src;
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    ASSERT_GE(ep, 0);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 0xC0FFEE;
    ASSERT_EQ(::epoll_ctl(ep, EPOLL_CTL_ADD, src.wait_fd(), &ev), 0);

    std::atomic<pid_t> waiter_tid{0};
    int n = -2;
    epoll_event got{};
    std::thread waiter([&] {
        waiter_tid.store(::gettid());
        n = ::epoll_wait(ep, &got, 1, kHangGuardMs);
    });
    while (waiter_tid.load() == 0) {
        std::this_thread::yield();
    }
    wait_until_sleeping(waiter_tid.load());
    src.request(9);
    waiter.join();
    EXPECT_EQ(n, 1);
    EXPECT_EQ(got.data.u64, 0xC0FFEEu);
    EXPECT_TRUE(got.events & EPOLLIN);

    // Level-triggered and never consumed: a second wait returns at once too.
    EXPECT_EQ(::epoll_wait(ep, &got, 1, 0), 1);
    ::close(ep);
}

TEST(Cancellation, AlreadyRequestedFdIsImmediatelyReadable) {
    CancellationSource src;
    src.request(1);
    // A poller that starts after the request must not block.
    pollfd pfd{src.wait_fd(), POLLIN, 0};
    EXPECT_EQ(::poll(&pfd, 1, 0), 1);
    EXPECT_TRUE(src.token().wait_for(std::chrono::milliseconds(0)));
    src.token().wait();  // returns at once
}

TEST(Cancellation, WaitReturnsAfterRequestFromOtherThread) {
    CancellationSource src;
    auto token = src.token();
    std::thread requester([&] { src.request(5); });
    EXPECT_TRUE(token.wait_for(std::chrono::milliseconds(kHangGuardMs)));
    requester.join();
    EXPECT_TRUE(token.stop_requested());
}

// request() is meant to be callable from a signal handler.
CancellationSource* g_handler_source = nullptr;
void request_from_handler(int signo) {
    g_handler_source->request_by_signal(signo);
}

TEST(Cancellation, RequestFromSignalHandler) {
    CancellationSource src;
    g_handler_source = &src;
    struct sigaction sa {};
    sa.sa_handler = request_from_handler;
    sigemptyset(&sa.sa_mask);
    struct sigaction old {};
    ASSERT_EQ(::sigaction(SIGUSR2, &sa, &old), 0);
    ASSERT_EQ(::raise(SIGUSR2), 0);  // delivered to this thread before raise returns
    ASSERT_EQ(::sigaction(SIGUSR2, &old, nullptr), 0);
    g_handler_source = nullptr;
    EXPECT_EQ(src.reason(), (CancelReason{CancelKind::signal, SIGUSR2}));
    EXPECT_TRUE(fd_readable_now(src.wait_fd()));
}

}  // namespace
}  // namespace qc::core
