#include "quietcore/core/signals.hpp"

#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>

#include "quietcore/core/error.hpp"
#include "quietcore/core/thread.hpp"

namespace qc::core {

namespace {

// Faults are delivered to the thread that caused them and must stay
// deliverable there; SIGKILL/SIGSTOP cannot be blocked at all.
constexpr std::array kNotAsync{SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGKILL, SIGSTOP};

[[noreturn]] void throw_errno(int err, const std::string& what) {
    throw std::system_error(err, std::generic_category(), what);
}

void check_option_signal(int signo, const char* option) {
    if (!is_async_signal(signo)) {
        throw Error(std::string("SignalThread: ") + option + " names " + signal_name(signo) +
                    ", which is not an asynchronous signal this thread can take (faults, "
                    "SIGKILL, SIGSTOP and glibc's internal signals are excluded)");
    }
}

}  // namespace

sigset_t async_signal_set() {
    sigset_t set;
    // glibc's sigfillset leaves out its internal signals (SIGCANCEL,
    // SIGSETXID): stealing those would break thread cancellation and setuid.
    sigfillset(&set);
    for (int s : kNotAsync) {
        sigdelset(&set, s);
    }
    return set;
}

bool is_async_signal(int signo) noexcept {
    if (signo <= 0 || signo >= NSIG) {
        return false;
    }
    sigset_t set = async_signal_set();
    return sigismember(&set, signo) == 1;
}

sigset_t block_async_signals() {
    sigset_t set = async_signal_set();
    sigset_t old;
    if (int rc = pthread_sigmask(SIG_BLOCK, &set, &old); rc != 0) {
        throw_errno(rc, "block_async_signals: pthread_sigmask(SIG_BLOCK)");
    }
    return old;
}

bool unblock_all_signals() noexcept {
    sigset_t none;
    sigemptyset(&none);
    return sigprocmask(SIG_SETMASK, &none, nullptr) == 0;
}

bool is_pid1() noexcept {
    return ::getpid() == 1;
}

std::string signal_name(int signo) {
    if (signo >= SIGRTMIN && signo <= SIGRTMAX) {
        return signo == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+" + std::to_string(signo - SIGRTMIN);
    }
    if (signo > 0 && signo < NSIG) {
        if (const char* abbrev = sigabbrev_np(signo)) {
            return std::string("SIG") + abbrev;
        }
    }
    return "signal " + std::to_string(signo);
}

std::string describe(const ChildExit& child) {
    std::string s = "pid " + std::to_string(child.pid);
    if (WIFEXITED(child.status)) {
        return s + " exited with status " + std::to_string(WEXITSTATUS(child.status));
    }
    if (WIFSIGNALED(child.status)) {
        return s + " killed by " + signal_name(WTERMSIG(child.status)) +
               (WCOREDUMP(child.status) ? " (core dumped)" : "");
    }
    return s + " changed state (wait status " + std::to_string(child.status) + ")";
}

SignalThread::SignalThread(CancellationSource& stop, SignalThreadOptions options)
    : stop_(stop), options_(std::move(options)) {
    check_thread_name(options_.thread_name);

    sigemptyset(&stop_set_);
    for (int s : options_.stop_signals) {
        check_option_signal(s, "stop_signals");
        if (s == SIGCHLD && options_.reap_children) {
            throw Error("SignalThread: stop_signals names SIGCHLD, which reaps children");
        }
        sigaddset(&stop_set_, s);
    }
    for (const auto& [s, fn] : options_.handlers) {
        check_option_signal(s, "handlers");
        if (s == SIGCHLD && options_.reap_children) {
            throw Error(
                "SignalThread: handlers names SIGCHLD while reap_children is set; use "
                "on_child_exit");
        }
        sigdelset(&stop_set_, s);  // a handler replaces the stop action
    }

    // The signalfd only sees signals that no thread takes the ordinary way;
    // if the creating thread (and so the new one) lets one through, the kernel
    // may deliver it with its default action instead.
    sigset_t wanted = async_signal_set();
    sigset_t current;
    if (int rc = pthread_sigmask(SIG_BLOCK, nullptr, &current); rc != 0) {
        throw_errno(rc, "SignalThread: pthread_sigmask");
    }
    for (int s = 1; s < NSIG; ++s) {
        if (sigismember(&wanted, s) == 1 && sigismember(&current, s) != 1) {
            throw Error("SignalThread: " + signal_name(s) +
                        " is not blocked in the calling thread; call block_async_signals() in "
                        "main() before any thread starts");
        }
    }

    signal_fd_ = ::signalfd(-1, &wanted, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd_ < 0) {
        throw_errno(errno, "SignalThread: signalfd");
    }
    try {
        thread_ = std::thread([this] { run(); });
    } catch (...) {
        ::close(signal_fd_);
        throw;
    }
}

SignalThread::~SignalThread() {
    stop();
    ::close(signal_fd_);
}

void SignalThread::stop() {
    own_stop_.request();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void SignalThread::run() noexcept {
    // The name was checked in the constructor; failing to set it is cosmetic.
    pthread_setname_np(pthread_self(), options_.thread_name.c_str());

    // Children may have exited before this thread existed; their SIGCHLD is
    // pending and arrives below, but a pass now costs nothing.
    if (options_.reap_children) {
        reap();
    }
    std::array<pollfd, 2> fds{{{signal_fd_, POLLIN, 0}, {own_stop_.wait_fd(), POLLIN, 0}}};
    std::array<signalfd_siginfo, 16> batch;
    while (!own_stop_.stop_requested()) {
        int n = ::poll(fds.data(), fds.size(), -1);
        if (n < 0) {
            continue;  // EINTR; nothing else can fail with valid fds
        }
        if ((fds[0].revents & POLLIN) == 0) {
            continue;
        }
        ssize_t got = ::read(signal_fd_, batch.data(), sizeof batch);
        if (got <= 0) {
            continue;  // EAGAIN: another reader or a spurious wake-up
        }
        for (std::size_t i = 0; i < static_cast<std::size_t>(got) / sizeof batch[0]; ++i) {
            const auto& info = batch[i];
            dispatch(SignalEvent{static_cast<int>(info.ssi_signo), static_cast<pid_t>(info.ssi_pid),
                                 static_cast<uid_t>(info.ssi_uid), info.ssi_code});
        }
    }
}

void SignalThread::dispatch(const SignalEvent& ev) {
    if (sigismember(&stop_set_, ev.signo) == 1) {
        stop_.request_by_signal(ev.signo);
        if (options_.on_stop_signal) {
            options_.on_stop_signal(ev);
        }
        return;
    }
    if (ev.signo == SIGCHLD && options_.reap_children) {
        reap();
        return;
    }
    if (auto it = options_.handlers.find(ev.signo); it != options_.handlers.end()) {
        if (it->second) {
            it->second(ev);
        }
        return;
    }
    if (options_.on_ignored) {
        options_.on_ignored(ev);
    }
}

void SignalThread::reap() {
    // SIGCHLD does not queue: one signal may stand for many exits.
    for (;;) {
        int status = 0;
        pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid < 0 && errno == EINTR) {
            continue;
        }
        if (pid <= 0) {
            return;  // 0: children left but none exited; ECHILD: no children
        }
        reaped_.fetch_add(1, std::memory_order_relaxed);
        if (options_.on_child_exit) {
            options_.on_child_exit(ChildExit{pid, status});
        }
    }
}

}  // namespace qc::core
