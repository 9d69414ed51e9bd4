// jitter_injector: a known disturbance for checking jitter tools (issue 4).
//
// Pinned to --cpu at SCHED_FIFO --prio, it wakes every --period-us on an
// absolute CLOCK_MONOTONIC timeline and spins --spin-us reading the clock,
// preempting any normal-priority thread on that CPU. At exit it prints the
// truth a measuring tool must find, as one JSON object on stdout:
//   {"period_us","spin_us","wakeups","spun_ns_total","late_wakeups",
//    "max_wake_latency_ns","duration_s",
//    "spins": [[woke_ns, end_ns], ...] (CLOCK_MONOTONIC, one per wake-up)}
// The spins let a checker match a tool's timestamped gaps to the injector's
// and leave out gaps the machine made on its own.
// Exit codes: 0 ok, 2 bad flag/value, 3 SCHED_FIFO refused (not root / no
// RLIMIT_RTPRIO), so tests can tell "skip" from "broken".
#include <time.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "quietcore/core/error.hpp"
#include "quietcore/core/numa_memory.hpp"
#include "quietcore/core/thread.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitNoRealtime = 3;

// A wake-up this far past its target is "late": the spin then no longer sits
// where the period says, which a checker may want to know.
constexpr std::int64_t kLateWakeNs = 100'000;

struct Options {
    unsigned cpu = 0;
    int prio = 90;
    std::uint64_t period_us = 10'000;
    std::uint64_t spin_us = 200;
    double duration_s = 0;
};

struct Truth {
    std::uint64_t wakeups = 0;
    std::uint64_t spun_ns_total = 0;
    std::uint64_t late_wakeups = 0;
    std::int64_t max_wake_latency_ns = 0;
    std::vector<std::pair<std::int64_t, std::int64_t>> spins;  // [woke, end] ns
};

std::int64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void sleep_until(std::int64_t deadline_ns) {
    const timespec ts{static_cast<time_t>(deadline_ns / 1'000'000'000),
                      static_cast<long>(deadline_ns % 1'000'000'000)};
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
}

// Returns the empty string when valid, else a message naming the flag.
std::string validate(const Options& o) {
    const qc::core::CpuSet online = qc::core::online_cpus();
    if (!online.contains(o.cpu)) {
        return "--cpu " + std::to_string(o.cpu) +
               ": CPU is not online (online: " + online.to_list() + ")";
    }
    if (o.prio < qc::core::fifo_priority_min() || o.prio > qc::core::fifo_priority_max()) {
        return "--prio " + std::to_string(o.prio) + ": must be " +
               std::to_string(qc::core::fifo_priority_min()) + ".." +
               std::to_string(qc::core::fifo_priority_max());
    }
    if (o.period_us == 0) {
        return "--period-us 0: must be positive";
    }
    if (o.spin_us == 0 || o.spin_us >= o.period_us) {
        return "--spin-us " + std::to_string(o.spin_us) + ": must be positive and below " +
               "--period-us " + std::to_string(o.period_us);
    }
    if (!(o.duration_s > 0)) {
        return "--duration " + std::to_string(o.duration_s) + ": must be positive";
    }
    return {};
}

// The disturbance itself: wake at each period boundary, spin, repeat. A
// missed boundary is skipped rather than caught up, so spins never merge.
Truth inject(const Options& o) {
    Truth t;
    const std::int64_t period_ns = static_cast<std::int64_t>(o.period_us) * 1000;
    const std::int64_t spin_ns = static_cast<std::int64_t>(o.spin_us) * 1000;
    const std::int64_t start = now_ns();
    const std::int64_t end = start + static_cast<std::int64_t>(o.duration_s * 1e9);
    // Reserved up front: no allocation between wake-ups.
    t.spins.reserve(static_cast<std::size_t>((end - start) / period_ns) + 1);
    for (std::int64_t target = start + period_ns; target + spin_ns <= end;) {
        sleep_until(target);
        const std::int64_t woke = now_ns();
        std::int64_t now = woke;
        while (now - woke < spin_ns) {
            now = now_ns();
        }
        ++t.wakeups;
        t.spins.emplace_back(woke, now);
        t.spun_ns_total += static_cast<std::uint64_t>(now - woke);
        const std::int64_t latency = woke - target;
        t.max_wake_latency_ns = std::max(t.max_wake_latency_ns, latency);
        if (latency > kLateWakeNs) {
            ++t.late_wakeups;
        }
        do {
            target += period_ns;
        } while (target <= now);
    }
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"jitter_injector: SCHED_FIFO spins of known length at a known period"};
    app.add_option("--cpu", o.cpu, "CPU to pin to")->required();
    app.add_option("--prio", o.prio, "SCHED_FIFO priority")->capture_default_str();
    app.add_option("--period-us", o.period_us, "wake-up period (us)")->capture_default_str();
    app.add_option("--spin-us", o.spin_us, "spin per wake-up (us)")->capture_default_str();
    app.add_option("--duration", o.duration_s, "seconds (decimal)")->required();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? kExitOk : kExitUsage;
    }

    try {
        if (const std::string err = validate(o); !err.empty()) {
            std::fprintf(stderr, "jitter_injector: %s\n", err.c_str());
            return kExitUsage;
        }
        qc::core::pin_current_thread(o.cpu);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "jitter_injector: --cpu %u: %s\n", o.cpu, e.what());
        return kExitUsage;
    }
    try {
        qc::core::set_current_thread_fifo(o.prio);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "jitter_injector: --prio %d: %s\n", o.prio, e.what());
        return kExitNoRealtime;
    }
    try {
        // Page faults during a spin would lengthen it unpredictably.
        qc::core::lock_all_memory();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "jitter_injector: warning: memory not locked: %s\n", e.what());
    }

    const Truth t = inject(o);
    std::printf(
        "{\"period_us\": %llu, \"spin_us\": %llu, \"wakeups\": %llu, \"spun_ns_total\": %llu, "
        "\"late_wakeups\": %llu, \"max_wake_latency_ns\": %lld, \"duration_s\": %.6f, "
        "\"spins\": [",
        static_cast<unsigned long long>(o.period_us), static_cast<unsigned long long>(o.spin_us),
        static_cast<unsigned long long>(t.wakeups),
        static_cast<unsigned long long>(t.spun_ns_total),
        static_cast<unsigned long long>(t.late_wakeups),
        static_cast<long long>(t.max_wake_latency_ns), o.duration_s);
    for (std::size_t i = 0; i < t.spins.size(); ++i) {
        std::printf("%s[%lld, %lld]", i == 0 ? "" : ", ", static_cast<long long>(t.spins[i].first),
                    static_cast<long long>(t.spins[i].second));
    }
    std::printf("]}\n");
    return kExitOk;
}
