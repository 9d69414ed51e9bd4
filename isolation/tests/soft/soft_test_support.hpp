// Helpers of the soft back-end tests: a recording SA_SIGINFO handler, bounded
// waits (the test thread is never monitored, so it may sleep), a hook that
// holds one notification in the supervisor, and /proc signal state.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "quietcore/core/text_file.hpp"
#include "quietcore/isolation/seccomp_monitor.hpp"
#include "quietcore/isolation/soft_proc_parse.hpp"

namespace qc::isolation::test {

// What the test handler saw; written in the handler, so atomics only.
struct HandlerLog {
    std::atomic<int> calls{0};
    std::atomic<int> signo{0};
    std::atomic<int> code{0};
    std::atomic<pid_t> sender{0};
};
inline HandlerLog g_handler;

// A plain SA_SIGINFO handler that only stores (no syscall), for threads whose
// syscalls are all monitored.
inline void record_signal_no_syscall(int signo, siginfo_t* info, void*) {
    g_handler.signo.store(signo);
    g_handler.code.store(info->si_code);
    g_handler.sender.store(info->si_pid);
    g_handler.calls.fetch_add(1);
}

// Installs record_signal_no_syscall for `signo` (SA_RESTART: an interrupted
// syscall restarts) and resets the log; restores the old action on scope exit.
class TestHandler {
  public:
    explicit TestHandler(int signo) : signo_(signo) {
        g_handler.calls = 0;
        g_handler.signo = 0;
        g_handler.code = 0;
        g_handler.sender = 0;
        struct sigaction sa {};
        sa.sa_sigaction = record_signal_no_syscall;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        ::sigaction(signo_, &sa, &old_);
    }
    ~TestHandler() { ::sigaction(signo_, &old_, nullptr); }

  private:
    int signo_;
    struct sigaction old_ {};
};

// Polls `done` every millisecond; false if it did not become true in time.
inline bool wait_until(const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > end) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

// True when `signo` is pending on thread `tid` of this process (SigPnd).
inline bool thread_signal_pending(pid_t tid, int signo) {
    const std::string status =
        core::read_text_file("/proc/self/task/" + std::to_string(tid) + "/status");
    const auto pos = status.find("SigPnd:");
    if (pos == std::string::npos) {
        return false;
    }
    const unsigned long long mask = std::stoull(status.substr(pos + 7), nullptr, 16);
    return (mask >> (signo - 1)) & 1u;
}

// Supervisor hook that holds the first notification of one target tid until
// released, so a test can kill or signal the thread meanwhile.
class NotificationHold {
  public:
    void target(pid_t tid) { target_.store(tid); }

    void on_notification(const SyscallEvent& event) {
        if (event.tid != target_.load() || used_.exchange(true)) {
            return;
        }
        std::unique_lock lock(mutex_);
        held_ = true;
        cv_.notify_all();
        cv_.wait(lock, [&] { return released_; });
    }
    bool held() {
        std::lock_guard lock(mutex_);
        return held_;
    }
    void release() {
        std::lock_guard lock(mutex_);
        released_ = true;
        cv_.notify_all();
    }

  private:
    std::atomic<pid_t> target_{0};
    std::atomic<bool> used_{false};
    std::mutex mutex_;
    std::condition_variable cv_;
    bool held_ = false;
    bool released_ = false;
};

// Declare after the supervisor: releases a held notification before the
// supervisor's destructor joins its thread, also when a test fails early.
struct ReleaseOnExit {
    NotificationHold& hold;
    ~ReleaseOnExit() { hold.release(); }
};

// Busy-wait without a syscall (the caller may be monitored).
inline void spin_until(const std::atomic<bool>& flag) {
    while (!flag.load(std::memory_order_acquire)) {
    }
}

}  // namespace qc::isolation::test
