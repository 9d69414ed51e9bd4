// The worker's per-iteration break check, IsolatedThread::poll(), while
// isolated and unbroken (the steady state), against what any worker loop pays
// anyway: a plain relaxed atomic load, and core's cancellation check. The
// slow path (a posted break taken, counted, recorded and re-entered with a
// back end that does nothing) is measured too, for scale.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

#include "peer_ratio.hpp"
#include "quietcore/core/cancellation.hpp"
#include "quietcore/core/event_ring.hpp"
#include "quietcore/isolation/isolated_thread.hpp"

namespace {

using namespace qc::isolation;

// Enters and leaves without a syscall: only the state machine is measured.
class NoOpBackend : public Backend {
  public:
    std::string_view name() const noexcept override { return "no-op"; }
    void enter(const IsolationRequest&, BreakMailbox&) override {}
    void leave() noexcept override {}
};

void BM_IsolatedThreadPoll(benchmark::State& state) {
    NoOpBackend backend;
    qc::core::SpscRing<IsolationEvent> events(64);
    IsolatedThread iso(backend, IsolationRequest{}, IsolationPolicy{}, events);
    if (!iso.start()) {
        state.SkipWithError("start() failed");
        return;
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(iso.poll());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IsolatedThreadPoll);

void BM_RelaxedAtomicLoad(benchmark::State& state) {
    std::atomic<std::uint32_t> flag{0};
    for (auto _ : state) {
        benchmark::DoNotOptimize(flag.load(std::memory_order_relaxed) == 0);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RelaxedAtomicLoad);

void BM_CancellationTokenCheck(benchmark::State& state) {
    qc::core::CancellationSource source;
    qc::core::CancellationToken token = source.token();
    for (auto _ : state) {
        benchmark::DoNotOptimize(token.stop_requested());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CancellationTokenCheck);

// One break per iteration: take, count, event, leave, back-off of one poll,
// enter again. What a break costs the worker apart from the kernel's part.
void BM_IsolatedThreadBreakAndReenter(benchmark::State& state) {
    NoOpBackend backend;
    qc::core::SpscRing<IsolationEvent> events(1024);
    IsolationPolicy policy;
    policy.initial_backoff_iterations = 1;
    policy.max_backoff_iterations = 1;
    IsolatedThread iso(backend, IsolationRequest{}, policy, events);
    iso.start();
    BreakRecord record;
    record.cause = BreakCause::syscall;
    IsolationEvent drained;
    for (auto _ : state) {
        iso.mailbox().post(record);
        benchmark::DoNotOptimize(iso.poll());
        while (events.try_pop(drained)) {
        }
    }
    if (iso.state() != IsolationState::isolated) {
        state.SkipWithError("did not re-enter");
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IsolatedThreadBreakAndReenter);

}  // namespace

int main(int argc, char** argv) {
    return qc::bench::run_with_ratios(argc, argv,
                                      {{"BM_IsolatedThreadPoll", "BM_RelaxedAtomicLoad"},
                                       {"BM_IsolatedThreadPoll", "BM_CancellationTokenCheck"}});
}
