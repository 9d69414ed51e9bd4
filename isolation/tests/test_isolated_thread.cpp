#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "quietcore/core/error.hpp"
#include "quietcore/core/event_ring.hpp"
#include "quietcore/core/signals.hpp"
#include "quietcore/isolation/isolated_thread.hpp"
#include "quietcore/isolation/strict_signal.hpp"

namespace qc::isolation {
namespace {

const sigset_t g_mask_before_tests = core::block_async_signals();

using S = IsolationState;

// A Backend test double: refuses the first `refusals` enters with `code`,
// then routes the STRICT signal to the mailbox as a soft back end would.
class ScriptedBackend : public Backend {
  public:
    explicit ScriptedBackend(int refusals = 0, int code = EAGAIN)
        : refusals_(refusals), code_(code) {}
    std::string_view name() const noexcept override { return "scripted"; }
    void enter(const IsolationRequest& request, BreakMailbox& mailbox) override {
        ++enters;
        if (refusals_ > 0) {
            --refusals_;
            throw IsolationError(code_, "scripted refusal " + std::to_string(enters));
        }
        if (request.strict == StrictMode::signal) {
            attach_strict_signal(request.signal, mailbox);
        }
        isolated = true;
    }
    void leave() noexcept override {
        ++leaves;
        isolated = false;
        detach_strict_signal();
    }
    int enters = 0;
    int leaves = 0;
    bool isolated = false;

  private:
    int refusals_;
    int code_;
};

IsolationPolicy small_policy(BreakPolicy after_break) {
    IsolationPolicy p;
    p.after_break = after_break;
    p.initial_backoff_iterations = 4;
    p.max_backoff_iterations = 16;
    p.max_enter_attempts = 4;
    p.stable_cycles = UINT64_MAX;  // every break is "in a row"
    return p;
}

std::vector<IsolationEvent> drain(core::SpscRing<IsolationEvent>& ring) {
    std::vector<IsolationEvent> out;
    IsolationEvent e;
    while (ring.try_pop(e)) {
        out.push_back(e);
    }
    return out;
}

struct Step {
    S from, to;
    Trigger trigger;
    int error;
    std::uint32_t attempt;
};

void expect_events(const std::vector<IsolationEvent>& got, const std::vector<Step>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        SCOPED_TRACE("event " + std::to_string(i) + ": " + describe(got[i]));
        EXPECT_EQ(got[i].from, want[i].from);
        EXPECT_EQ(got[i].to, want[i].to);
        EXPECT_EQ(got[i].trigger, want[i].trigger);
        EXPECT_EQ(got[i].error, want[i].error);
        EXPECT_EQ(got[i].attempt, want[i].attempt);
        if (i > 0) {
            EXPECT_GE(got[i].cycles, got[i - 1].cycles) << "events are in order";
        }
    }
}

// Polls n times; all must return true.
void poll_n(IsolatedThread& iso, std::uint64_t n) {
    for (std::uint64_t i = 0; i < n; ++i) {
        ASSERT_TRUE(iso.poll()) << "poll " << i;
    }
}

template <typename F>
void on_worker(F body) {
    std::thread t(body);
    t.join();
}

TEST(IsolatedThread, StartEntersAndPollStaysQuiet) {
    ScriptedBackend backend;
    core::SpscRing<IsolationEvent> events(64);
    IsolatedThread iso(backend, IsolationRequest{}, small_policy(BreakPolicy::reenter), events);
    EXPECT_EQ(iso.state(), S::idle);
    on_worker([&] {
        EXPECT_TRUE(iso.start());
        poll_n(iso, 100);
        iso.leave();
        EXPECT_FALSE(iso.poll());
    });
    EXPECT_EQ(iso.state(), S::stopped);
    EXPECT_EQ(backend.enters, 1);
    EXPECT_EQ(iso.counters().total(), 0u);
    expect_events(drain(events), {
                                     {S::idle, S::quiescing, Trigger::prepare, 0, 1},
                                     {S::quiescing, S::isolated, Trigger::entered, 0, 1},
                                     {S::isolated, S::stopped, Trigger::leave, 0, 1},
                                 });
}

TEST(IsolatedThread, EagainIsRetriedWithAGrowingBackoff) {
    ScriptedBackend backend(2, EAGAIN);
    core::SpscRing<IsolationEvent> events(64);
    IsolatedThread iso(backend, IsolationRequest{}, small_policy(BreakPolicy::reenter), events);
    on_worker([&] {
        EXPECT_FALSE(iso.start());
        EXPECT_EQ(iso.state(), S::idle);
        EXPECT_EQ(iso.last_error(), "scripted refusal 1");
        EXPECT_EQ(iso.backoff_remaining(), 4u);
        poll_n(iso, 3);
        EXPECT_EQ(backend.enters, 1) << "no attempt before the back-off ends";
        poll_n(iso, 1);
        EXPECT_EQ(backend.enters, 2);
        EXPECT_EQ(iso.backoff_remaining(), 8u) << "the second back-off doubles";
        poll_n(iso, 8);
        EXPECT_EQ(backend.enters, 3);
        EXPECT_EQ(iso.state(), S::isolated);
        EXPECT_EQ(iso.last_error(), "");
        iso.leave();
    });
    expect_events(drain(events), {
                                     {S::idle, S::quiescing, Trigger::prepare, 0, 1},
                                     {S::quiescing, S::idle, Trigger::enter_retry, EAGAIN, 1},
                                     {S::idle, S::quiescing, Trigger::prepare, 0, 2},
                                     {S::quiescing, S::idle, Trigger::enter_retry, EAGAIN, 2},
                                     {S::idle, S::quiescing, Trigger::prepare, 0, 3},
                                     {S::quiescing, S::isolated, Trigger::entered, 0, 3},
                                     {S::isolated, S::stopped, Trigger::leave, 0, 3},
                                 });
}

TEST(IsolatedThread, EagainBeyondTheAttemptLimitDegradesOrStops) {
    for (BreakPolicy policy : {BreakPolicy::degrade, BreakPolicy::stop}) {
        SCOPED_TRACE(std::string(to_string(policy)));
        ScriptedBackend backend(100, EAGAIN);
        core::SpscRing<IsolationEvent> events(64);
        IsolationPolicy p = small_policy(policy);
        p.max_enter_attempts = 2;
        IsolatedThread iso(backend, IsolationRequest{}, p, events);
        on_worker([&] {
            EXPECT_FALSE(iso.start());
            poll_n(iso, 3);
            EXPECT_EQ(iso.poll(), policy != BreakPolicy::stop);
            poll_n(iso, policy == BreakPolicy::stop ? 0 : 1000);
        });
        EXPECT_EQ(backend.enters, 2);
        const S end = policy == BreakPolicy::stop ? S::stopped : S::idle;
        EXPECT_EQ(iso.state(), end);
        auto got = drain(events);
        ASSERT_EQ(got.size(), 4u);
        EXPECT_EQ(got[3].trigger, Trigger::enter_refused);
        EXPECT_EQ(got[3].to, end);
        EXPECT_EQ(got[3].error, EAGAIN);
        EXPECT_EQ(got[3].attempt, 2u);
    }
}

TEST(IsolatedThread, EinvalIsNotRetried) {
    ScriptedBackend backend(1, EINVAL);
    core::SpscRing<IsolationEvent> events(64);
    IsolatedThread iso(backend, IsolationRequest{}, small_policy(BreakPolicy::reenter), events);
    on_worker([&] {
        EXPECT_FALSE(iso.start());
        poll_n(iso, 100);
    });
    EXPECT_EQ(backend.enters, 1);
    EXPECT_EQ(iso.state(), S::idle) << "keeps working un-isolated";
    EXPECT_EQ(iso.last_error(), "scripted refusal 1");
    expect_events(drain(events), {
                                     {S::idle, S::quiescing, Trigger::prepare, 0, 1},
                                     {S::quiescing, S::idle, Trigger::enter_refused, EINVAL, 1},
                                 });
}

TEST(IsolatedThread, ABreakBySignalReentersAfterTheBackoff) {
    ScriptedBackend backend;
    core::SpscRing<IsolationEvent> events(64);
    IsolatedThread iso(backend, IsolationRequest{}, small_policy(BreakPolicy::reenter), events);
    on_worker([&] {
        ASSERT_TRUE(iso.start());
        ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR1), 0);
        EXPECT_EQ(iso.state(), S::isolated) << "the handler only posts";
        EXPECT_TRUE(iso.poll());
        EXPECT_EQ(iso.state(), S::broken);
        EXPECT_FALSE(backend.isolated) << "the back end was told to leave";
        EXPECT_EQ(iso.backoff_remaining(), 3u) << "this poll was the first of 4";
        poll_n(iso, 3);
        EXPECT_EQ(iso.state(), S::isolated);
        EXPECT_EQ(backend.enters, 2);
        iso.leave();
    });
    EXPECT_EQ(iso.counters()[BreakCause::signal], 1u);
    EXPECT_EQ(iso.counters().total(), 1u);
    auto got = drain(events);
    expect_events(got, {
                           {S::idle, S::quiescing, Trigger::prepare, 0, 1},
                           {S::quiescing, S::isolated, Trigger::entered, 0, 1},
                           {S::isolated, S::broken, Trigger::broke, 0, 1},
                           {S::broken, S::quiescing, Trigger::prepare, 0, 1},
                           {S::quiescing, S::isolated, Trigger::entered, 0, 1},
                           {S::isolated, S::stopped, Trigger::leave, 0, 1},
                       });
    EXPECT_EQ(got[2].cause.cause, BreakCause::signal);
    EXPECT_EQ(got[2].cause.signal, SIGUSR1);
}

TEST(IsolatedThread, BreaksInARowBackOffExponentiallyUpToTheBound) {
    ScriptedBackend backend;
    core::SpscRing<IsolationEvent> events(256);
    IsolatedThread iso(backend, IsolationRequest{}, small_policy(BreakPolicy::reenter), events);
    std::vector<std::uint64_t> backoffs;
    on_worker([&] {
        ASSERT_TRUE(iso.start());
        for (int i = 0; i < 5; ++i) {
            ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR1), 0);
            ASSERT_TRUE(iso.poll());
            backoffs.push_back(iso.backoff_remaining() + 1);
            while (iso.state() != S::isolated) {
                ASSERT_TRUE(iso.poll());
            }
        }
        iso.leave();
    });
    EXPECT_EQ(backoffs, (std::vector<std::uint64_t>{4, 8, 16, 16, 16}));
    EXPECT_EQ(iso.counters()[BreakCause::signal], 5u);
}

TEST(IsolatedThread, ABreakAfterAStableStretchBacksOffFromTheStart) {
    ScriptedBackend backend;
    core::SpscRing<IsolationEvent> events(256);
    IsolationPolicy p = small_policy(BreakPolicy::reenter);
    p.stable_cycles = 0;  // every stretch counts as stable
    IsolatedThread iso(backend, IsolationRequest{}, p, events);
    on_worker([&] {
        ASSERT_TRUE(iso.start());
        for (int i = 0; i < 3; ++i) {
            ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR1), 0);
            ASSERT_TRUE(iso.poll());
            EXPECT_EQ(iso.backoff_remaining() + 1, 4u);
            poll_n(iso, iso.backoff_remaining());
            ASSERT_EQ(iso.state(), S::isolated);
        }
        iso.leave();
    });
}

TEST(IsolatedThread, DegradeKeepsWorkingUnisolated) {
    ScriptedBackend backend;
    core::SpscRing<IsolationEvent> events(64);
    IsolatedThread iso(backend, IsolationRequest{}, small_policy(BreakPolicy::degrade), events);
    on_worker([&] {
        ASSERT_TRUE(iso.start());
        ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR1), 0);
        poll_n(iso, 1000);
        EXPECT_EQ(iso.state(), S::idle);
    });
    EXPECT_EQ(backend.enters, 1) << "no re-entry";
    EXPECT_EQ(backend.leaves, 1);
    auto got = drain(events);
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[2].trigger, Trigger::broke);
    expect_events({got[3]}, {{S::broken, S::idle, Trigger::degrade, 0, 1}});
}

TEST(IsolatedThread, StopTellsTheWorkerToExit) {
    ScriptedBackend backend;
    core::SpscRing<IsolationEvent> events(64);
    IsolatedThread iso(backend, IsolationRequest{}, small_policy(BreakPolicy::stop), events);
    int iterations = 0;
    on_worker([&] {
        ASSERT_TRUE(iso.start());
        while (iso.poll()) {
            if (++iterations == 10) {
                ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR1), 0);
            }
        }
    });
    EXPECT_EQ(iterations, 10) << "the loop ends at the iteration after the break";
    EXPECT_EQ(iso.state(), S::stopped);
    auto got = drain(events);
    ASSERT_EQ(got.size(), 4u);
    expect_events({got[3]}, {{S::broken, S::stopped, Trigger::stop, 0, 1}});
}

TEST(IsolatedThread, ASignalFromHousekeepingStopsASpinningWorker) {
    ScriptedBackend backend;
    core::SpscRing<IsolationEvent> events(64);
    IsolatedThread iso(backend, IsolationRequest{}, small_policy(BreakPolicy::stop), events);
    std::thread worker([&] {
        if (iso.start()) {
            while (iso.poll()) {
            }
        }
    });
    while (iso.state() != S::isolated && iso.state() != S::stopped) {
        std::this_thread::yield();
    }
    ASSERT_EQ(iso.state(), S::isolated);
    ASSERT_EQ(pthread_kill(worker.native_handle(), SIGUSR1), 0);
    worker.join();
    EXPECT_EQ(iso.state(), S::stopped);
    EXPECT_EQ(iso.counters()[BreakCause::signal], 1u);
}

TEST(IsolatedThread, CountersAreByCause) {
    ScriptedBackend backend;
    core::SpscRing<IsolationEvent> events(256);
    IsolationPolicy p = small_policy(BreakPolicy::reenter);
    IsolatedThread iso(backend, IsolationRequest{}, p, events);
    const BreakCause causes[] = {BreakCause::syscall, BreakCause::page_fault, BreakCause::syscall,
                                 BreakCause::irq, BreakCause::syscall};
    on_worker([&] {
        ASSERT_TRUE(iso.start());
        for (BreakCause c : causes) {
            BreakRecord r;
            r.cause = c;
            iso.mailbox().post(r);  // as a soft supervisor posts
            while (true) {
                ASSERT_TRUE(iso.poll());
                if (iso.state() == S::isolated) {
                    break;
                }
            }
        }
        iso.leave();
    });
    EXPECT_EQ(iso.counters()[BreakCause::syscall], 3u);
    EXPECT_EQ(iso.counters()[BreakCause::page_fault], 1u);
    EXPECT_EQ(iso.counters()[BreakCause::irq], 1u);
    EXPECT_EQ(iso.counters()[BreakCause::signal], 0u);
    EXPECT_EQ(iso.counters().total(), 5u);
    std::vector<BreakCause> seen;
    for (const auto& e : drain(events)) {
        if (e.trigger == Trigger::broke) {
            seen.push_back(e.cause.cause);
        }
    }
    EXPECT_EQ(seen, std::vector<BreakCause>(std::begin(causes), std::end(causes)));
}

TEST(IsolatedThread, LogModeCountsEntriesAndStaysIsolated) {
    ScriptedBackend backend;
    core::SpscRing<IsolationEvent> events(64);
    IsolationRequest request;
    request.strict = StrictMode::log;
    IsolatedThread iso(backend, request, small_policy(BreakPolicy::stop), events);
    on_worker([&] {
        ASSERT_TRUE(iso.start());
        BreakRecord r;
        r.cause = BreakCause::syscall;
        r.syscall_nr = 1;
        iso.mailbox().post(r);
        EXPECT_TRUE(iso.poll());
        EXPECT_EQ(iso.state(), S::isolated);
        iso.leave();
    });
    EXPECT_EQ(iso.counters()[BreakCause::syscall], 1u);
    EXPECT_EQ(backend.enters, 1);
    auto got = drain(events);
    ASSERT_EQ(got.size(), 4u);
    expect_events({got[2]}, {{S::isolated, S::isolated, Trigger::broke, 0, 1}});
    EXPECT_EQ(got[2].cause.syscall_nr, 1);
}

TEST(IsolatedThread, CoalescedSignalsAreCountedNotLost) {
    ScriptedBackend backend;
    core::SpscRing<IsolationEvent> events(64);
    IsolatedThread iso(backend, IsolationRequest{}, small_policy(BreakPolicy::degrade), events);
    on_worker([&] {
        ASSERT_TRUE(iso.start());
        ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR1), 0);
        ASSERT_EQ(pthread_kill(pthread_self(), SIGUSR1), 0);
        EXPECT_TRUE(iso.poll());
    });
    EXPECT_EQ(iso.coalesced_breaks(), 1u);
    EXPECT_EQ(iso.counters().total(), 1u);
}

TEST(IsolatedThread, AFullEventRingDropsAndCountsButNeverBlocks) {
    ScriptedBackend backend(3, EAGAIN);
    core::SpscRing<IsolationEvent> events(2);
    IsolatedThread iso(backend, IsolationRequest{}, small_policy(BreakPolicy::reenter), events);
    on_worker([&] {
        iso.start();
        while (iso.state() != S::isolated) {
            ASSERT_TRUE(iso.poll());
        }
        iso.leave();
    });
    EXPECT_EQ(events.size(), 2u);
    EXPECT_EQ(events.dropped(), 7u);  // 9 transitions, 2 kept
}

TEST(IsolatedThread, AnInconsistentPolicyIsRefusedByName) {
    ScriptedBackend backend;
    core::SpscRing<IsolationEvent> events(2);
    IsolationPolicy p;
    p.initial_backoff_iterations = 0;
    EXPECT_THROW(IsolatedThread(backend, {}, p, events), core::Error);
    p = IsolationPolicy{};
    p.max_backoff_iterations = p.initial_backoff_iterations - 1;
    try {
        IsolatedThread iso(backend, {}, p, events);
        FAIL();
    } catch (const core::Error& e) {
        EXPECT_NE(std::string(e.what()).find("max_backoff_iterations"), std::string::npos);
    }
    p = IsolationPolicy{};
    p.max_enter_attempts = 0;
    EXPECT_THROW(IsolatedThread(backend, {}, p, events), core::Error);
}

TEST(IsolationState, NamesAndDescriptions) {
    EXPECT_EQ(to_string(IsolationState::quiescing), "quiescing");
    EXPECT_EQ(to_string(Trigger::enter_retry), "enter-retry");
    EXPECT_EQ(to_string(BreakPolicy::degrade), "degrade");
    EXPECT_EQ(to_string(BreakCause::page_fault), "page-fault");
    EXPECT_EQ(to_string(BreakCause::affinity_change), "affinity-change");
    EXPECT_EQ(to_string(static_cast<BreakCause>(200)), "unknown");
    IsolationEvent e;
    e.from = IsolationState::isolated;
    e.to = IsolationState::broken;
    e.trigger = Trigger::broke;
    e.attempt = 2;
    e.cause.cause = BreakCause::syscall;
    e.cause.syscall_nr = 39;
    e.cause.cpu = 1;
    EXPECT_EQ(describe(e), "isolated -> broken (broke, attempt 2): syscall 39 on CPU 1");
    e = IsolationEvent{};
    e.from = IsolationState::quiescing;
    e.to = IsolationState::idle;
    e.trigger = Trigger::enter_retry;
    e.error = EAGAIN;
    e.attempt = 1;
    EXPECT_EQ(describe(e), "quiescing -> idle (enter-retry, attempt 1): EAGAIN");
}

}  // namespace
}  // namespace qc::isolation
