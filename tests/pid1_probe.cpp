// A small quietcore program for the PID-1 integration test (DESIGN.md
// "Signals", seed 004). Started as PID 1 of a new PID namespace, it:
//   1. blocks asynchronous signals and starts the signal thread,
//   2. forks a child that exits with status 7, and an intermediate process
//      that forks a grandchild and exits, orphaning the grandchild (which the
//      kernel re-parents to PID 1, so only PID 1 can reap it),
//   3. waits until all three are reaped, prints "ready ...",
//   4. waits for cancellation (a stop signal), then stops gracefully: prints
//      the reason, checks it has no child left, exits 0.
// Every line goes to stdout, flushed, for the driver (pid1_namespace_test.py).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "quietcore/core/cancellation.hpp"
#include "quietcore/core/signals.hpp"

namespace {

using namespace qc::core;

std::mutex g_out_mu;

void say(const std::string& line) {
    std::lock_guard lock(g_out_mu);
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

// Blocks until the write end of `hold` is closed everywhere, then exits.
[[noreturn]] void grandchild(int hold_read) {
    char c;
    ssize_t n;
    do {
        n = ::read(hold_read, &c, 1);
    } while (n < 0 && errno == EINTR);
    ::_exit(0);
}

// Forks the grandchild, reports its pid, and exits: the grandchild becomes
// an orphan as soon as this process is gone.
[[noreturn]] void intermediate(int hold_read, int hold_write, int report_write) {
    pid_t gc = ::fork();
    if (gc == 0) {
        ::close(hold_write);
        ::close(report_write);
        grandchild(hold_read);
    }
    if (gc < 0 || ::write(report_write, &gc, sizeof gc) != sizeof gc) {
        ::_exit(1);
    }
    ::_exit(0);  // closes hold_write: the grandchild wakes up orphaned
}

}  // namespace

int main() {
    // Before any thread: every thread inherits the mask.
    block_async_signals();

    std::mutex mu;
    std::condition_variable cv;
    std::vector<pid_t> reaped;

    CancellationSource stop;
    SignalThreadOptions opts;
    opts.on_child_exit = [&](const ChildExit& c) {
        say("reaped " + describe(c));
        std::lock_guard lock(mu);
        reaped.push_back(c.pid);
        cv.notify_all();
    };
    opts.on_stop_signal = [](const SignalEvent& ev) {
        say("stop signal " + signal_name(ev.signo) + " from pid " + std::to_string(ev.sender_pid));
    };
    opts.on_ignored = [](const SignalEvent& ev) {
        say("ignored " + signal_name(ev.signo) + " from pid " + std::to_string(ev.sender_pid));
    };
    SignalThread signals(stop, opts);
    say(std::string("pid1=") + (is_pid1() ? "yes" : "no"));

    pid_t child = ::fork();
    if (child == 0) {
        ::_exit(7);
    }
    int hold[2];
    int report[2];
    if (child < 0 || ::pipe(hold) != 0 || ::pipe(report) != 0) {
        say("error: fork/pipe failed");
        return 2;
    }
    pid_t middle = ::fork();
    if (middle == 0) {
        ::close(report[0]);
        intermediate(hold[0], hold[1], report[1]);
    }
    ::close(hold[0]);
    ::close(hold[1]);
    ::close(report[1]);
    pid_t orphan = -1;
    if (middle < 0 || ::read(report[0], &orphan, sizeof orphan) != sizeof orphan) {
        say("error: no grandchild pid");
        return 2;
    }
    ::close(report[0]);

    {
        std::unique_lock lock(mu);
        auto all_reaped = [&] {
            for (pid_t p : {child, middle, orphan}) {
                if (std::find(reaped.begin(), reaped.end(), p) == reaped.end()) {
                    return false;
                }
            }
            return true;
        };
        if (!cv.wait_for(lock, std::chrono::seconds(20), all_reaped)) {
            say("error: not all of child, intermediate and orphan were reaped");
            return 3;
        }
    }
    say("ready child=" + std::to_string(child) + " intermediate=" + std::to_string(middle) +
        " orphan=" + std::to_string(orphan));

    stop.token().wait();
    auto reason = stop.reason();
    say("stopping reason=" + (reason && reason->kind == CancelKind::signal
                                  ? signal_name(reason->code)
                                  : std::string("other")));
    signals.stop();

    // Graceful stop done: nothing may be left to reap.
    int status = 0;
    errno = 0;
    pid_t left = ::waitpid(-1, &status, WNOHANG);
    say(left == -1 && errno == ECHILD ? "children=none"
                                      : "children=left (waitpid " + std::to_string(left) + ")");
    say("exit 0");
    return 0;
}
