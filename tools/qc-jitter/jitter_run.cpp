#include "jitter_run.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <system_error>
#include <thread>

#include "isolation_session.hpp"
#include "proc_deltas.hpp"
#include "quietcore/core/monotonic_clock.hpp"
#include "quietcore/core/numa_memory.hpp"
#include "quietcore/core/thread.hpp"

namespace qc::jitter {

namespace {

using Clock = std::chrono::steady_clock;
using core::CycleCounter;

// Long enough to warm caches and branch predictors and see the loop's cost.
constexpr std::chrono::milliseconds kWarmUp{20};
// Lead time between publishing the start cycle and reaching it, so every
// worker is spinning on the counter when it arrives.
constexpr std::chrono::milliseconds kStartLead{5};

struct Shared {
    std::atomic<std::uint64_t> start_tick{0};  // 0 until published
    std::uint64_t end_tick = 0;                // written before start_tick
    std::atomic<bool> abort{false};
    std::atomic<bool> release{false};
};

struct Worker {
    Worker(unsigned c, const JitterConfig& config, core::CycleConverter converter)
        : cpu(c), analysis(config, converter) {}
    unsigned cpu;
    JitterAnalysis analysis;
    std::uint64_t warm_cost_ns = 0;
    std::atomic<bool> ready{false};
    std::atomic<bool> done{false};
};

// The hot loop: a plain counter read, the delta fed to pre-allocated memory.
// Returns the last read.
std::uint64_t gap_loop(JitterAnalysis& analysis, std::uint64_t first, std::uint64_t end) noexcept {
    std::uint64_t prev = first;
    std::uint64_t now;
    do {
        now = CycleCounter::read();
        analysis.feed(now - prev);
        prev = now;
    } while (now < end);
    return now;
}

void nap() {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
}

void measure(Worker& w, Shared& shared, std::uint64_t warm_ticks, IsolationSession* isolation) {
    // Isolated workers must not sleep (a syscall is a break): they spin.
    const bool spin = isolation != nullptr;
    if (isolation) {
        isolation->enter();
    }
    const std::uint64_t warm_start = CycleCounter::read();
    gap_loop(w.analysis, warm_start, warm_start + warm_ticks);
    w.warm_cost_ns = w.analysis.min_ns();
    w.analysis.reset();
    w.ready.store(true, std::memory_order_release);

    // Until the start a plain worker naps (the run has not begun); an
    // isolated one spins, since a syscall would count as a break.
    std::uint64_t start;
    while ((start = shared.start_tick.load(std::memory_order_acquire)) == 0) {
        if (shared.abort.load(std::memory_order_relaxed)) {
            break;
        }
        if (!spin) {
            nap();
        }
    }
    if (start == 0) {
        if (isolation) {
            isolation->leave();
        }
        return;
    }
    std::uint64_t first;
    while ((first = CycleCounter::read()) < start) {
    }
    gap_loop(w.analysis, first, shared.end_tick);
    w.done.store(true, std::memory_order_release);
    // Stay alive so the main thread can read this task's status.
    while (!shared.release.load(std::memory_order_acquire)) {
        if (!spin) {
            nap();
        }
    }
    if (isolation) {
        isolation->leave();
    }
}

template <typename Pred>
void wait_for(Pred pred) {
    while (!pred()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

}  // namespace

RunResult run_jitter(const Options& options) {
    RunResult result;
    result.calibration = core::calibrate_cycle_counter();
    const core::CycleConverter converter = result.calibration.converter();
    if (options.main_cpu) {
        core::pin_current_thread(*options.main_cpu);
    }
    try {
        core::lock_all_memory();
    } catch (const std::system_error& e) {
        std::cerr << "qc-jitter: warning: memory not locked, page faults may show up as "
                     "gaps: "
                  << e.what() << "\n";
    }

    std::optional<isolation::Supervision> supervision;
    if (options.isolate) {
        supervision.emplace();
        result.isolation_backend = supervision->backend_name();
    }
    Shared shared;
    std::vector<std::unique_ptr<Worker>> workers;
    std::vector<std::unique_ptr<IsolationSession>> sessions;
    for (unsigned cpu : options.cpus.cpus()) {
        workers.push_back(std::make_unique<Worker>(cpu, options.jitter, converter));
        sessions.push_back(supervision ? std::make_unique<IsolationSession>(*supervision, cpu)
                                       : nullptr);
    }
    const std::uint64_t warm_ticks =
        converter.to_cycles(std::chrono::duration_cast<std::chrono::nanoseconds>(kWarmUp).count());
    std::vector<core::PinnedThread> threads;
    // Declared after `threads`, so destroyed first: on any exit, workers
    // stop waiting and the joins in ~PinnedThread return.
    struct LetGo {
        Shared& shared;
        ~LetGo() {
            shared.abort.store(true);
            shared.release.store(true);
        }
    } let_go{shared};
    {
        for (std::size_t i = 0; i < workers.size(); ++i) {
            auto& w = workers[i];
            Worker* worker = w.get();
            IsolationSession* session = sessions[i].get();
            threads.emplace_back(
                core::ThreadConfig{"qc-jitter-" + std::to_string(w->cpu), w->cpu, options.rtprio},
                [worker, &shared, warm_ticks, session] {
                    measure(*worker, shared, warm_ticks, session);
                });
        }
    }
    wait_for([&] {
        return std::all_of(workers.begin(), workers.end(),
                           [](const auto& w) { return w->ready.load(std::memory_order_acquire); });
    });
    for (const auto& w : workers) {
        if (options.jitter.threshold_ns < w->warm_cost_ns) {
            shared.abort.store(true);
            threads.clear();
            throw ThresholdBelowLoopCost{
                "--threshold: " + std::to_string(options.jitter.threshold_ns) +
                " ns is below the measured loop cost " + std::to_string(w->warm_cost_ns) +
                " ns on CPU " + std::to_string(w->cpu)};
        }
    }

    for (const auto& session : sessions) {
        if (session && !session->entered()) {
            throw core::Error("--isolate: " + session->error());
        }
    }
    std::vector<BreakCounts> breaks_before;
    for (std::size_t i = 0; i < threads.size(); ++i) {
        if (supervision) {
            breaks_before.push_back(supervision->breaks(threads[i].tid()));
        }
    }
    const ProcSnapshot before = take_proc_snapshot();
    std::vector<std::uint64_t> switches_before;
    for (const auto& t : threads) {
        switches_before.push_back(involuntary_switches(t.tid()));
    }
    const auto duration = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(options.duration_s));
    const auto lead_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(kStartLead).count();
    const std::uint64_t start = CycleCounter::read() + converter.to_cycles(lead_ns);
    // Read right after the counter, so records can be placed on the system's
    // clock (beside traces, other tools, the kernel's break records).
    result.start_monotonic_ns = core::monotonic_ns() + static_cast<std::uint64_t>(lead_ns);
    shared.end_tick = start + converter.to_cycles(static_cast<std::uint64_t>(duration.count()));
    shared.start_tick.store(start, std::memory_order_release);
    std::this_thread::sleep_for(kStartLead + duration);
    wait_for([&] {
        return std::all_of(workers.begin(), workers.end(),
                           [](const auto& w) { return w->done.load(std::memory_order_acquire); });
    });
    const ProcSnapshot after = take_proc_snapshot();
    if (supervision) {
        supervision->poll_once();
    }
    for (std::size_t i = 0; i < workers.size(); ++i) {
        CpuResult r;
        r.cpu = workers[i]->cpu;
        r.attribution.involuntary_ctxt_switches =
            involuntary_switches(threads[i].tid()) - switches_before[i];
        r.attribution.interrupts = cpu_deltas(before.interrupts, after.interrupts, r.cpu);
        r.attribution.softirqs = cpu_deltas(before.softirqs, after.softirqs, r.cpu);
        if (supervision) {
            r.attribution.isolation_breaks =
                subtract(supervision->breaks(threads[i].tid()), breaks_before[i]);
        }
        result.cpus.push_back(std::move(r));
    }
    shared.release.store(true, std::memory_order_release);
    threads.clear();  // joins
    for (std::size_t i = 0; i < workers.size(); ++i) {
        result.cpus[i].summary = workers[i]->analysis.summarize();
    }
    return result;
}

}  // namespace qc::jitter
