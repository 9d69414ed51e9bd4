#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/utsname.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <fstream>
#include <optional>
#include <string>

#include "quietcore/isolation/kernel_backend.hpp"
#include "quietcore/isolation/strict_signal.hpp"

namespace qc::isolation {
namespace {

// Independent of prctl: a kernel with the patch has task_isolation_* symbols.
// nullopt when /proc/kallsyms cannot be read.
std::optional<bool> kallsyms_has_task_isolation() {
    std::ifstream in("/proc/kallsyms");
    if (!in) {
        return std::nullopt;
    }
    std::string line;
    bool any = false;
    while (std::getline(in, line)) {
        any = true;
        if (line.find("task_isolation") != std::string::npos) {
            return true;
        }
    }
    return any ? std::optional<bool>(false) : std::nullopt;
}

std::string release() {
    struct utsname u {};
    uname(&u);
    return u.release;
}

abi::TaskIsolationBreak full_record(std::uint32_t cause) {
    abi::TaskIsolationBreak raw{};
    raw.size = sizeof raw;
    raw.cause = cause;
    raw.cpu = 3;
    raw.syscall_nr = 39;
    raw.fault_address = 0x7f0012345000;
    raw.irq = 17;
    raw.vector = 0xec;
    raw.source_cpu = 0;
    raw.signal = SIGUSR2;
    raw.timestamp_ns = 123456789;
    raw.count = 5;
    return raw;
}

TEST(KernelBackend, DetectsThatThisKernelHasNoTaskIsolation) {
    auto symbols = kallsyms_has_task_isolation();
    if (!symbols) {
        GTEST_SKIP() << "/proc/kallsyms is not readable";
    }
    EXPECT_EQ(kernel_task_isolation_present(), *symbols);
}

TEST(KernelBackend, EnterOnAStockKernelThrowsEnosysNamingTheKernel) {
    if (kernel_task_isolation_present()) {
        GTEST_SKIP() << "this kernel has task isolation";
    }
    auto backend = make_kernel_backend();
    EXPECT_EQ(backend->name(), "kernel");
    BreakMailbox mailbox;
    IsolationRequest request;  // STRICT signal, SIGUSR1
    try {
        backend->enter(request, mailbox);
        FAIL() << "enter() succeeded on a kernel without task isolation";
    } catch (const IsolationError& e) {
        EXPECT_EQ(e.code(), ENOSYS);
        const std::string what = e.what();
        EXPECT_NE(what.find(release()), std::string::npos) << what;
        EXPECT_NE(what.find("no task-isolation prctl"), std::string::npos) << what;
    }
    // Nothing stays attached after a refused enter; leave() is harmless.
    EXPECT_EQ(attached_strict_mailbox(), nullptr);
    backend->leave();
}

TEST(KernelBackend, ReadingTheBreakRecordFailsWithoutTheKernelSupport) {
    if (kernel_task_isolation_present()) {
        GTEST_SKIP() << "this kernel has task isolation";
    }
    BreakRecord record;
    record.cause = BreakCause::irq;
    errno = 1234;
    EXPECT_FALSE(read_kernel_break(record));
    EXPECT_EQ(errno, 1234) << "read_kernel_break must preserve errno (signal handlers)";
    EXPECT_EQ(record.cause, BreakCause::irq) << "the output is untouched on failure";
}

TEST(KernelBackend, FlagsFollowTheRequest) {
    IsolationRequest r;
    r.strict = StrictMode::off;
    EXPECT_EQ(kernel_isolation_flags(r), abi::kEnable);
    r.strict = StrictMode::log;  // the persistent non-strict mode
    EXPECT_EQ(kernel_isolation_flags(r), abi::kEnable);
    r.oneshot = true;
    EXPECT_EQ(kernel_isolation_flags(r), abi::kEnable | abi::kOneshot);
    r.oneshot = false;
    r.strict = StrictMode::signal;
    r.signal = SIGUSR2;
    const unsigned f = kernel_isolation_flags(r);
    EXPECT_EQ(f & (abi::kEnable | abi::kStrict | abi::kOneshot), abi::kEnable | abi::kStrict);
    EXPECT_EQ(abi::get_signal(f), SIGUSR2);
    r.strict = StrictMode::kill;
    const unsigned k = kernel_isolation_flags(r);
    EXPECT_EQ(k, abi::kEnable | abi::kStrict);
    EXPECT_EQ(abi::get_signal(k), 0) << "SET_SIG(0) is SIGKILL";
}

TEST(KernelBackend, RejectsAStrictSignalThatCannotBeCaught) {
    for (int bad : {0, -1, SIGKILL, SIGSTOP, 65, 200}) {
        IsolationRequest r;
        r.strict = StrictMode::signal;
        r.signal = bad;
        try {
            kernel_isolation_flags(r);
            ADD_FAILURE() << "signal " << bad << " accepted";
        } catch (const IsolationError& e) {
            EXPECT_EQ(e.code(), EINVAL);
            EXPECT_NE(std::string(e.what()).find("signal " + std::to_string(bad)),
                      std::string::npos)
                << e.what();
        }
    }
    // enter() validates before anything else, also on a stock kernel.
    KernelBackend backend;
    BreakMailbox mailbox;
    IsolationRequest r;
    r.signal = SIGKILL;
    try {
        backend.enter(r, mailbox);
        FAIL();
    } catch (const IsolationError& e) {
        EXPECT_EQ(e.code(), EINVAL);
    }
}

TEST(DecodeBreak, EveryCauseCopiesItsOwnFields) {
    struct Case {
        std::uint32_t raw;
        BreakCause cause;
    };
    const Case cases[] = {
        {abi::kCauseNone, BreakCause::none},
        {abi::kCauseSyscall, BreakCause::syscall},
        {abi::kCausePageFault, BreakCause::page_fault},
        {abi::kCauseException, BreakCause::exception},
        {abi::kCauseIrq, BreakCause::irq},
        {abi::kCauseIpi, BreakCause::ipi},
        {abi::kCauseSignal, BreakCause::signal},
        {abi::kCausePreemption, BreakCause::preemption},
        {abi::kCauseMigration, BreakCause::migration},
        {abi::kCauseAffinity, BreakCause::affinity_change},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(std::string(to_string(c.cause)));
        const BreakRecord r = decode_break(full_record(c.raw));
        EXPECT_EQ(r.cause, c.cause);
        EXPECT_EQ(r.cpu, 3);
        EXPECT_EQ(r.timestamp_ns, 123456789u);
        EXPECT_EQ(r.syscall_nr, c.cause == BreakCause::syscall ? 39 : -1);
        EXPECT_EQ(r.address, c.cause == BreakCause::page_fault ? 0x7f0012345000u : 0u);
        EXPECT_EQ(r.irq, c.cause == BreakCause::irq ? 17u : 0u);
        const bool has_vector = c.cause == BreakCause::irq || c.cause == BreakCause::exception;
        EXPECT_EQ(r.vector, has_vector ? 0xecu : 0u);
        EXPECT_EQ(r.source_cpu, c.cause == BreakCause::ipi ? 0 : -1);
        EXPECT_EQ(r.signal, c.cause == BreakCause::signal ? SIGUSR2 : 0);
        for (auto arg : r.args) {
            EXPECT_EQ(arg, 0u) << "the kernel record carries no arguments";
        }
    }
}

TEST(DecodeBreak, UnknownCauseIsUnknown) {
    for (std::uint32_t cause : {10u, 99u, 0xffffffffu}) {
        const BreakRecord r = decode_break(full_record(cause));
        EXPECT_EQ(r.cause, BreakCause::unknown) << cause;
        EXPECT_EQ(r.cpu, 3) << "common fields still decode";
    }
}

TEST(DecodeBreak, FieldsBeyondSizeStayUnknown) {
    abi::TaskIsolationBreak raw = full_record(abi::kCauseSignal);
    raw.size = offsetof(abi::TaskIsolationBreak, signal);  // signal itself not filled
    BreakRecord r = decode_break(raw);
    EXPECT_EQ(r.cause, BreakCause::signal);
    EXPECT_EQ(r.cpu, 3);
    EXPECT_EQ(r.signal, 0);
    EXPECT_EQ(r.timestamp_ns, 0u);

    raw = full_record(abi::kCauseSyscall);
    raw.size = offsetof(abi::TaskIsolationBreak, cpu) + sizeof raw.cpu;
    r = decode_break(raw);
    EXPECT_EQ(r.cause, BreakCause::syscall);
    EXPECT_EQ(r.cpu, 3);
    EXPECT_EQ(r.syscall_nr, -1);

    raw.size = offsetof(abi::TaskIsolationBreak, cause) + sizeof raw.cause;
    r = decode_break(raw);
    EXPECT_EQ(r.cause, BreakCause::syscall);
    EXPECT_EQ(r.cpu, -1);
}

TEST(DecodeBreak, TooShortForTheCauseIsUnknown) {
    for (std::uint32_t size : {0u, 4u, 7u}) {
        abi::TaskIsolationBreak raw = full_record(abi::kCauseSyscall);
        raw.size = size;
        const BreakRecord r = decode_break(raw);
        EXPECT_EQ(r.cause, BreakCause::unknown) << size;
        EXPECT_EQ(r.cpu, -1) << size;
    }
}

TEST(DecodeBreak, ALargerRecordFromANewerKernelDecodes) {
    abi::TaskIsolationBreak raw = full_record(abi::kCausePageFault);
    raw.size = sizeof raw + 64;
    const BreakRecord r = decode_break(raw);
    EXPECT_EQ(r.cause, BreakCause::page_fault);
    EXPECT_EQ(r.address, 0x7f0012345000u);
}

}  // namespace
}  // namespace qc::isolation
