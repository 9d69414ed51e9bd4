// SpscRing push + pop against a std::mutex-guarded std::deque, the obvious
// thread-safe queue. Both run on one thread: this is the cost each side pays
// per event, not a cross-core transfer.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <deque>
#include <mutex>

#include "peer_ratio.hpp"
#include "quietcore/core/event_ring.hpp"

namespace {

// The size of a typical worker report: a timestamp and a few small fields.
struct Event {
    std::uint64_t timestamp;
    std::uint32_t cpu;
    std::uint32_t kind;
};

constexpr std::size_t kCapacity = 1024;
constexpr int kBurst = 32;

void BM_SpscRingPushPop(benchmark::State& state) {
    qc::core::SpscRing<Event> ring(kCapacity);
    Event in{0, 1, 2}, out{};
    for (auto _ : state) {
        ring.try_push(in);
        ring.try_pop(out);
        benchmark::DoNotOptimize(out);
        ++in.timestamp;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpscRingPushPop);

class MutexDeque {
  public:
    void push(const Event& e) {
        std::lock_guard lock(mutex_);
        queue_.push_back(e);
    }
    bool pop(Event& e) {
        std::lock_guard lock(mutex_);
        if (queue_.empty()) {
            return false;
        }
        e = queue_.front();
        queue_.pop_front();
        return true;
    }

  private:
    std::mutex mutex_;
    std::deque<Event> queue_;
};

void BM_MutexDequePushPop(benchmark::State& state) {
    MutexDeque queue;
    Event in{0, 1, 2}, out{};
    for (auto _ : state) {
        queue.push(in);
        queue.pop(out);
        benchmark::DoNotOptimize(out);
        ++in.timestamp;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MutexDequePushPop);

// A worker emits a few events, housekeeping drains them in one go.
void BM_SpscRingBurst32(benchmark::State& state) {
    qc::core::SpscRing<Event> ring(kCapacity);
    Event in{0, 1, 2}, out{};
    for (auto _ : state) {
        for (int i = 0; i < kBurst; ++i) {
            ring.try_push(in);
            ++in.timestamp;
        }
        while (ring.try_pop(out)) {
            benchmark::DoNotOptimize(out);
        }
    }
    state.SetItemsProcessed(state.iterations() * kBurst);
}
BENCHMARK(BM_SpscRingBurst32);

void BM_MutexDequeBurst32(benchmark::State& state) {
    MutexDeque queue;
    Event in{0, 1, 2}, out{};
    for (auto _ : state) {
        for (int i = 0; i < kBurst; ++i) {
            queue.push(in);
            ++in.timestamp;
        }
        while (queue.pop(out)) {
            benchmark::DoNotOptimize(out);
        }
    }
    state.SetItemsProcessed(state.iterations() * kBurst);
}
BENCHMARK(BM_MutexDequeBurst32);

}  // namespace

int main(int argc, char** argv) {
    return qc::bench::run_with_ratios(argc, argv,
                                      {{"BM_SpscRingPushPop", "BM_MutexDequePushPop"},
                                       {"BM_SpscRingBurst32", "BM_MutexDequeBurst32"}});
}
