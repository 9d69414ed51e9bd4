// The whole soft path on this stock kernel, as a worker uses it: IsolatedThread
// over the soft back end, a real seccomp supervisor, the real STRICT handler.
// A syscall breaks isolation; the handler runs; poll() applies the policy.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <vector>

#include "emulated.hpp"
#include "quietcore/core/event_ring.hpp"
#include "quietcore/core/thread.hpp"
#include "quietcore/isolation/isolated_thread.hpp"
#include "quietcore/isolation/soft_backend.hpp"
#include "quietcore/isolation/strict_signal.hpp"
#include "soft_test_support.hpp"

namespace qc::isolation {
namespace {

// Every test here supervises real seccomp user notifications; qemu-user does
// not implement the seccomp syscall (ENOSYS), so under it there is nothing to test.
constexpr const char* kNoSeccomp = "qemu-user has no seccomp syscall (ENOSYS)";

unsigned worker_cpu() {
    return core::online_cpus().cpus().back();
}

struct Outcome {
    IsolationState after_break = IsolationState::idle;
    IsolationState after_backoff = IsolationState::idle;
    bool keeps_running = false;
    BreakRecord first_break{};
    std::uint64_t syscall_breaks = 0;
    std::uint64_t coalesced = 0;
    std::vector<IsolationEvent> events;
};

// A worker that enters signal-mode soft isolation, makes one getppid(), and
// polls until the break has been handled, then polls through the back-off.
Outcome run_worker(BreakPolicy after_break) {
    SoftSupervisor supervisor;
    auto backend = make_soft_backend(supervisor);
    core::SpscRing<IsolationEvent> events(64);
    IsolationPolicy policy;
    policy.after_break = after_break;
    policy.initial_backoff_iterations = 16;
    Outcome out;
    std::atomic<bool> done{false}, release{false};
    core::PinnedThread worker({"qc-soft-policy", worker_cpu(), {}}, [&] {
        IsolatedThread iso(*backend, IsolationRequest{false, StrictMode::signal, SIGUSR2}, policy,
                           events);
        if (!iso.start()) {
            done = true;
            return;
        }
        ::getppid();  // the break: the supervisor posts it and signals
        // The loop of DESIGN.md: poll once per iteration until the break is seen.
        while (iso.poll() && iso.state() == IsolationState::isolated) {
        }
        out.after_break = iso.state();
        for (int i = 0; i < 64 && iso.poll(); ++i) {  // through the back-off
        }
        out.after_backoff = iso.state();
        out.keeps_running = iso.poll();
        out.syscall_breaks = iso.counters()[BreakCause::syscall];
        out.coalesced = iso.coalesced_breaks();
        iso.leave();
        done = true;
        test::spin_until(release);
    });
    EXPECT_TRUE(test::wait_until([&] { return done.load(); }));
    release = true;
    worker.join();
    IsolationEvent e;
    while (events.try_pop(e)) {
        out.events.push_back(e);
        if (e.trigger == Trigger::broke && out.first_break.cause == BreakCause::none) {
            out.first_break = e.cause;
        }
    }
    return out;
}

void expect_getppid_break(const Outcome& out) {
    EXPECT_EQ(out.first_break.cause, BreakCause::syscall);
    EXPECT_EQ(out.first_break.syscall_nr, SYS_getppid);
    EXPECT_EQ(out.first_break.cpu, static_cast<int>(worker_cpu()));
    EXPECT_EQ(out.syscall_breaks, 1u);
    // The supervisor posted the cause; the handler, seeing its marker, did not
    // post a second (coalesced) one.
    EXPECT_EQ(out.coalesced, 0u);
}

std::vector<Trigger> triggers(const Outcome& out) {
    std::vector<Trigger> t;
    for (const IsolationEvent& e : out.events) {
        t.push_back(e.trigger);
    }
    return t;
}

TEST(SoftIsolatedThread, ReenterPolicyIsolatesAgainAfterTheBackoff) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    const Outcome out = run_worker(BreakPolicy::reenter);
    expect_getppid_break(out);
    EXPECT_EQ(out.after_break, IsolationState::broken);
    EXPECT_EQ(out.after_backoff, IsolationState::isolated);
    EXPECT_TRUE(out.keeps_running);
    EXPECT_EQ(triggers(out),
              (std::vector<Trigger>{Trigger::prepare, Trigger::entered, Trigger::broke,
                                    Trigger::prepare, Trigger::entered, Trigger::leave}));
}

TEST(SoftIsolatedThread, DegradePolicyKeepsWorkingUnisolated) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    const Outcome out = run_worker(BreakPolicy::degrade);
    expect_getppid_break(out);
    EXPECT_EQ(out.after_break, IsolationState::idle);
    EXPECT_EQ(out.after_backoff, IsolationState::idle);
    EXPECT_TRUE(out.keeps_running);
    EXPECT_EQ(triggers(out),
              (std::vector<Trigger>{Trigger::prepare, Trigger::entered, Trigger::broke,
                                    Trigger::degrade, Trigger::leave}));
}

TEST(SoftIsolatedThread, StopPolicyEndsTheWorkerLoop) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    const Outcome out = run_worker(BreakPolicy::stop);
    expect_getppid_break(out);
    EXPECT_EQ(out.after_break, IsolationState::stopped);
    EXPECT_FALSE(out.keeps_running);
    const std::vector<Trigger> t = triggers(out);
    ASSERT_GE(t.size(), 4u);
    EXPECT_EQ(t[2], Trigger::broke);
    EXPECT_EQ(t[3], Trigger::stop);
}

}  // namespace
}  // namespace qc::isolation
