#include "quietcore/isolation/strict_signal.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <system_error>

#include "quietcore/isolation/backend.hpp"

namespace qc::isolation {
namespace {

// Marks a signal whose break record the sender has already posted.
constexpr int kRecordPostedMarker = 0x71c0b4e7;

// What the handler needs, per thread. Written by the thread itself only, so
// the handler (same thread) sees it once a signal fence orders the writes.
struct StrictSlot {
    BreakMailbox* mailbox;
    BreakReader reader;
    int signo;
    bool was_blocked;
};

// initial-exec: a fixed offset from the thread pointer, no __tls_get_addr and
// so no lazy allocation inside the handler.
thread_local StrictSlot tls_slot __attribute__((tls_model("initial-exec"))) = {};

void on_strict_signal(int signo, siginfo_t* info, void*) {
    const int saved_errno = errno;
    StrictSlot& slot = tls_slot;
    std::atomic_signal_fence(std::memory_order_acquire);
    if (slot.mailbox != nullptr && slot.signo == signo) {
        // The soft supervisor runs in this process (the marker's si_pid).
        const bool already_posted = info != nullptr && info->si_code == SI_QUEUE &&
                                    info->si_pid == getpid() &&
                                    info->si_value.sival_int == kRecordPostedMarker;
        if (!already_posted) {
            BreakRecord record;
            if (slot.reader == nullptr || !slot.reader(record)) {
                record = BreakRecord{};
                record.cause = BreakCause::signal;
                record.signal = signo;
            }
            slot.mailbox->post(record);
        }
    }
    errno = saved_errno;
}

void check_catchable(int signo) {
    if (signo < 1 || signo > SIGRTMAX || signo == SIGKILL || signo == SIGSTOP) {
        throw IsolationError(EINVAL, "STRICT signal " + std::to_string(signo) +
                                         " cannot be caught: choose a signal in 1.." +
                                         std::to_string(SIGRTMAX) + " other than SIGKILL/SIGSTOP");
    }
}

// Installed handlers, one bit per signal number; set only after sigaction.
std::atomic<std::uint64_t> g_installed{0};
std::uint64_t bit_of(int signo) {
    return std::uint64_t{1} << (signo - 1);
}

}  // namespace

void install_strict_signal_handler(int signo) {
    check_catchable(signo);
    if ((g_installed.load(std::memory_order_acquire) & bit_of(signo)) != 0) {
        return;
    }
    struct sigaction action {};
    action.sa_sigaction = on_strict_signal;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&action.sa_mask);  // nothing interrupts the handler
    if (sigaction(signo, &action, nullptr) != 0) {
        throw std::system_error(errno, std::generic_category(),
                                "sigaction for STRICT signal " + std::to_string(signo));
    }
    g_installed.fetch_or(bit_of(signo), std::memory_order_release);
}

void attach_strict_signal(int signo, BreakMailbox& mailbox, BreakReader reader) {
    install_strict_signal_handler(signo);
    detach_strict_signal();
    sigset_t one, previous;
    sigemptyset(&one);
    sigaddset(&one, signo);
    // Slot first: the signal may arrive the moment it is unblocked.
    StrictSlot& slot = tls_slot;
    slot.reader = reader;
    slot.signo = signo;
    slot.mailbox = &mailbox;
    std::atomic_signal_fence(std::memory_order_release);
    int rc = pthread_sigmask(SIG_UNBLOCK, &one, &previous);
    if (rc != 0) {
        slot.mailbox = nullptr;
        throw std::system_error(rc, std::generic_category(),
                                "unblocking STRICT signal " + std::to_string(signo));
    }
    slot.was_blocked = sigismember(&previous, signo) == 1;
}

void detach_strict_signal() noexcept {
    StrictSlot& slot = tls_slot;
    if (slot.mailbox == nullptr) {
        return;
    }
    if (slot.was_blocked) {
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, slot.signo);
        pthread_sigmask(SIG_BLOCK, &one, nullptr);
    }
    std::atomic_signal_fence(std::memory_order_release);
    slot = StrictSlot{};
}

BreakMailbox* attached_strict_mailbox() noexcept {
    return tls_slot.mailbox;
}

bool signal_posted_break(pid_t tgid, pid_t tid, int signo) noexcept {
    siginfo_t info;
    std::memset(&info, 0, sizeof info);
    info.si_signo = signo;
    info.si_code = SI_QUEUE;
    info.si_pid = getpid();
    info.si_uid = getuid();
    info.si_value.sival_int = kRecordPostedMarker;
    return syscall(SYS_rt_tgsigqueueinfo, tgid, tid, signo, &info) == 0;
}

}  // namespace qc::isolation
