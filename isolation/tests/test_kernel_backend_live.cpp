// The kernel back end against the real task-isolation patch. These tests run
// inside the kernel-x86_64 guest (kernel/vm/run-selftests), where the patch
// is booted with CPUs 1-3 isolated; on any other kernel they skip, saying why.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>
#include <thread>

#include "quietcore/core/event_ring.hpp"
#include "quietcore/core/isolation_plan.hpp"
#include "quietcore/core/thread.hpp"
#include "quietcore/isolation/isolated_thread.hpp"
#include "quietcore/isolation/kernel_backend.hpp"

namespace qc::isolation {
namespace {

constexpr unsigned kIsolatedCpu = 1;

// Empty when the patched kernel is running with kIsolatedCpu isolated.
std::string why_not_live() {
    if (!kernel_task_isolation_present()) {
        return "this kernel has no task-isolation prctl";
    }
    const auto sets = core::KernelCpuSets::read("/sys");
    if (!sets.nohz_full.contains(kIsolatedCpu) || !sets.isolated.contains(kIsolatedCpu)) {
        return "CPU " + std::to_string(kIsolatedCpu) + " is not nohz_full and isolated";
    }
    return {};
}

#define SKIP_UNLESS_LIVE()                                          \
    do {                                                            \
        if (const std::string why = why_not_live(); !why.empty()) { \
            GTEST_SKIP() << why;                                    \
        }                                                           \
    } while (false)

// The cause of the first "broke" transition on the ring, or none.
BreakRecord first_break(core::SpscRing<IsolationEvent>& events) {
    IsolationEvent e;
    while (events.try_pop(e)) {
        if (e.trigger == Trigger::broke) {
            return e.cause;
        }
    }
    return {};
}

// Runs `body` on a thread pinned to `cpu` and waits for it.
template <typename Body>
void on_cpu(unsigned cpu, Body body) {
    std::thread t([&] {
        core::pin_current_thread(cpu);
        body();
    });
    t.join();
}

// On the isolated CPU: isolate through IsolatedThread (STRICT, SIGUSR1, stop
// policy), run `kernel_entry`, poll until the break stops the worker. The
// first break's record; `stopped` says whether the policy stopped it.
template <typename Entry>
BreakRecord break_of(Entry kernel_entry, bool& stopped) {
    BreakRecord got;
    on_cpu(kIsolatedCpu, [&] {
        auto backend = make_kernel_backend();
        core::SpscRing<IsolationEvent> events(64);
        IsolationPolicy policy;
        policy.after_break = BreakPolicy::stop;
        IsolatedThread iso(*backend, IsolationRequest{}, policy, events);
        ASSERT_TRUE(iso.start()) << iso.last_error();
        ASSERT_EQ(iso.state(), IsolationState::isolated);
        kernel_entry();
        for (int i = 0; i < 100'000'000 && iso.poll(); ++i) {
        }
        stopped = iso.state() == IsolationState::stopped;
        got = first_break(events);
        iso.leave();
    });
    return got;
}

TEST(KernelBackendLive, StrictSyscallPostsTheSyscallAndEndsIsolation) {
    SKIP_UNLESS_LIVE();
    bool stopped = false;
    const BreakRecord got = break_of([] { ::syscall(SYS_getppid); }, stopped);
    ASSERT_TRUE(stopped);
    EXPECT_EQ(got.cause, BreakCause::syscall);
    EXPECT_EQ(got.syscall_nr, SYS_getppid);
    EXPECT_EQ(got.cpu, static_cast<std::int32_t>(kIsolatedCpu));
    EXPECT_GT(got.timestamp_ns, 0u);
}

TEST(KernelBackendLive, PageFaultIsPostedWithItsAddress) {
    SKIP_UNLESS_LIVE();
    void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(page, MAP_FAILED);
    bool stopped = false;
    // First touch: a page fault.
    const BreakRecord got = break_of([&] { *static_cast<volatile char*>(page) = 1; }, stopped);
    ::munmap(page, 4096);
    EXPECT_TRUE(stopped);
    EXPECT_EQ(got.cause, BreakCause::page_fault);
    EXPECT_EQ(got.address, reinterpret_cast<std::uint64_t>(page));
}

TEST(KernelBackendLive, HousekeepingCpuIsRefusedWithEinvalAndASentence) {
    SKIP_UNLESS_LIVE();
    on_cpu(0, [] {
        auto backend = make_kernel_backend();
        BreakMailbox mailbox;
        try {
            backend->enter(IsolationRequest{}, mailbox);
            backend->leave();
            FAIL() << "isolation on housekeeping CPU 0 was accepted";
        } catch (const IsolationError& e) {
            EXPECT_EQ(e.code(), EINVAL);
            EXPECT_NE(std::string(e.what()).find("isolation set"), std::string::npos) << e.what();
        }
    });
}

TEST(KernelBackendLive, LogModeStaysIsolatedAndKeepsTheBreakRecord) {
    SKIP_UNLESS_LIVE();
    BreakRecord record;
    bool read = false;
    on_cpu(kIsolatedCpu, [&] {
        auto backend = make_kernel_backend();
        BreakMailbox mailbox;
        IsolationRequest request;
        request.strict = StrictMode::log;
        backend->enter(request, mailbox);
        ::syscall(SYS_getppid);
        read = read_kernel_break(record);
        backend->leave();
    });
    ASSERT_TRUE(read);
    EXPECT_EQ(record.cause, BreakCause::syscall);
    EXPECT_EQ(record.syscall_nr, SYS_getppid);
}

}  // namespace
}  // namespace qc::isolation
