#include "quietcore/isolation/kernel_backend.hpp"

#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstddef>
#include <cstring>
#include <string>

#include "quietcore/isolation/strict_signal.hpp"

namespace qc::isolation {
namespace {

// Raw prctl, returning -errno instead of touching errno, so signal handlers
// can use it.
long raw_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4) noexcept {
    const int saved = errno;
    long rc = syscall(SYS_prctl, option, a2, a3, a4, 0UL);
    if (rc < 0) {
        rc = -errno;
    }
    errno = saved;
    return rc;
}

std::string kernel_release() {
    struct utsname u {};
    return uname(&u) == 0 ? std::string(u.release) : std::string("(unknown)");
}

// Whether the first `size` bytes of the kernel's record include `field`.
template <typename T>
bool filled(std::uint32_t size, std::size_t offset, const T&) noexcept {
    return size >= offset + sizeof(T);
}
#define QC_FILLED(raw, field) \
    filled((raw).size, offsetof(abi::TaskIsolationBreak, field), (raw).field)

BreakCause cause_of(std::uint32_t cause) noexcept {
    switch (cause) {
        case abi::kCauseNone:
            return BreakCause::none;
        case abi::kCauseSyscall:
            return BreakCause::syscall;
        case abi::kCausePageFault:
            return BreakCause::page_fault;
        case abi::kCauseException:
            return BreakCause::exception;
        case abi::kCauseIrq:
            return BreakCause::irq;
        case abi::kCauseIpi:
            return BreakCause::ipi;
        case abi::kCauseSignal:
            return BreakCause::signal;
        case abi::kCausePreemption:
            return BreakCause::preemption;
        case abi::kCauseMigration:
            return BreakCause::migration;
        case abi::kCauseAffinity:
            return BreakCause::affinity_change;
        default:
            return BreakCause::unknown;
    }
}

std::string refusal_sentence(int code, unsigned flags) {
    char hex[16];
    auto end = std::to_chars(hex, hex + sizeof hex, flags, 16).ptr;
    const std::string prefix =
        "the kernel refused task isolation (flags 0x" + std::string(hex, end) + "): ";
    switch (code) {
        case EINVAL:
            return prefix +
                   "EINVAL: the calling thread must be allowed on exactly one CPU, that CPU must "
                   "be in the kernel's isolation set (isolcpus= and nohz_full=), and no other "
                   "task may be runnable there";
        case EAGAIN:
            return prefix +
                   "EAGAIN: the CPU did not quiesce (tick, vmstat, LRU drain) within the "
                   "kernel's bounded wait; try again after a back-off";
        case EPERM:
            return prefix + "EPERM: the caller lacks the privilege to isolate this thread";
        default:
            return prefix + std::strerror(code);
    }
}

}  // namespace

bool kernel_task_isolation_present() noexcept {
    return raw_prctl(abi::kPrGetTaskIsolation, 0, 0, 0) >= 0;
}

unsigned kernel_isolation_flags(const IsolationRequest& request) {
    unsigned flags = abi::kEnable;
    switch (request.strict) {
        case StrictMode::off:
        case StrictMode::log:
            break;
        case StrictMode::signal:
            if (request.signal < 1 || request.signal > SIGRTMAX || request.signal == SIGKILL ||
                request.signal == SIGSTOP) {
                throw IsolationError(EINVAL, "STRICT signal " + std::to_string(request.signal) +
                                                 " is not a catchable signal (1.." +
                                                 std::to_string(SIGRTMAX) +
                                                 ", not SIGKILL/SIGSTOP; for SIGKILL use "
                                                 "StrictMode::kill)");
            }
            flags |= abi::kStrict | abi::set_signal(request.signal);
            break;
        case StrictMode::kill:
            flags |= abi::kStrict | abi::set_signal(0);
            break;
    }
    if (request.oneshot) {
        flags |= abi::kOneshot;
    }
    return flags;
}

BreakRecord decode_break(const abi::TaskIsolationBreak& raw) noexcept {
    BreakRecord out;
    if (!QC_FILLED(raw, cause)) {
        out.cause = BreakCause::unknown;
        return out;
    }
    out.cause = cause_of(raw.cause);
    if (QC_FILLED(raw, cpu)) {
        out.cpu = raw.cpu;
    }
    if (QC_FILLED(raw, timestamp_ns)) {
        out.timestamp_ns = raw.timestamp_ns;
    }
    switch (out.cause) {
        case BreakCause::syscall:
            if (QC_FILLED(raw, syscall_nr)) {
                out.syscall_nr = raw.syscall_nr;
            }
            break;
        case BreakCause::page_fault:
            if (QC_FILLED(raw, fault_address)) {
                out.address = raw.fault_address;
            }
            break;
        case BreakCause::irq:
            if (QC_FILLED(raw, irq)) {
                out.irq = raw.irq;
            }
            [[fallthrough]];
        case BreakCause::exception:
            if (QC_FILLED(raw, vector)) {
                out.vector = raw.vector;
            }
            break;
        case BreakCause::ipi:
            if (QC_FILLED(raw, source_cpu)) {
                out.source_cpu = raw.source_cpu;
            }
            break;
        case BreakCause::signal:
            if (QC_FILLED(raw, signal)) {
                out.signal = raw.signal;
            }
            break;
        default:
            break;
    }
    return out;
}
#undef QC_FILLED

bool read_kernel_break(BreakRecord& out) noexcept {
    abi::TaskIsolationBreak raw;
    std::memset(&raw, 0, sizeof raw);
    if (raw_prctl(abi::kPrGetTaskIsolation, abi::kGetBreak, reinterpret_cast<unsigned long>(&raw),
                  sizeof raw) < 0) {
        return false;
    }
    out = decode_break(raw);
    return true;
}

void KernelBackend::enter(const IsolationRequest& request, BreakMailbox& mailbox) {
    const unsigned flags = kernel_isolation_flags(request);
    if (!kernel_task_isolation_present()) {
        throw IsolationError(ENOSYS, "the running kernel " + kernel_release() +
                                         " has no task-isolation prctl (PR_GET_TASK_ISOLATION, "
                                         "option 49, answered EINVAL): it lacks the quietcore "
                                         "patch; use the soft back end");
    }
    if (request.strict == StrictMode::signal) {
        attach_strict_signal(request.signal, mailbox, &read_kernel_break);
        signal_attached_ = true;
    }
    long rc = raw_prctl(abi::kPrSetTaskIsolation, flags, 0, 0);
    if (rc < 0) {
        leave();
        throw IsolationError(static_cast<int>(-rc), refusal_sentence(static_cast<int>(-rc), flags));
    }
    entered_ = true;
}

void KernelBackend::leave() noexcept {
    if (entered_) {
        raw_prctl(abi::kPrSetTaskIsolation, 0, 0, 0);
        entered_ = false;
    }
    if (signal_attached_) {
        detach_strict_signal();
        signal_attached_ = false;
    }
}

std::unique_ptr<Backend> make_kernel_backend() {
    return std::make_unique<KernelBackend>();
}

}  // namespace qc::isolation
