// What happened between two counter snapshots: per CPU and kind the count
// and rate of interrupts and softirqs, context switches per CPU, and the
// breaks of isolation on the isolated CPUs. Pure: tested on crafted text.
//
// What counts as a break on an isolated CPU in an interval of T seconds:
// - the timer interrupt (x86 "LOC", the arm64 per-CPU "arch_timer" row), and
//   the softirqs a tick raises (TIMER, HRTIMER, RCU, SCHED): a break when
//   more than max(1, round(T * 1/s)) arrived, i.e. more than 1 per second.
//   A nohz_full CPU running one task still takes an occasional tick on a
//   stock kernel (DESIGN.md: 4 in 20 s on 6.1); a ticking CPU takes
//   CONFIG_HZ (100-1000) per second.
// - any other interrupt (device IRQs, IPIs: RES, CAL, TLB, IWI, NMI, ...,
//   arm64 IPIn) and any other softirq (NET_RX, BLOCK, TASKLET, ...): one is
//   a break. "RTR" (x86 APIC ICR read retries) is not an interrupt and is
//   only counted.
// - a thread of the kernel patch whose break counters grew, by cause,
//   wherever it ran.
// One break is reported per (CPU, kind) and interval, with the count.
//
// Counters going backwards: the kernel's per-CPU interrupt counts are 32-bit
// and wrap; a fall from the upper half of the 32-bit range to a value that
// makes the difference plausible (< 2^31) counts as a wrap, anything else as
// a reset (an IRQ freed and requested again), counted from zero. Both are
// reported as notices. CPUs that left the table (offline) or joined it get
// a notice and no rates in that interval.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "quietcore/core/cpu_set.hpp"
#include "watch/cpu_counters.hpp"

namespace qc::monitor {

// The difference of a kernel counter between two readings.
struct CounterDelta {
    enum class Kind { normal, wrap32, reset };
    std::uint64_t count = 0;
    Kind kind = Kind::normal;
};
CounterDelta counter_delta(std::uint64_t before, std::uint64_t after) noexcept;

struct BreakPolicy {
    // Timer interrupts and tick softirqs a tick-free CPU may take per second.
    double tick_per_second = 1.0;
};

// Timer / tick softirq rows (held to the tick allowance), rows that are not
// interrupts (only counted), everything else (one is a break).
enum class KindClass { tick, not_interrupt, other };
KindClass classify_interrupt(const isolation::InterruptRow& row) noexcept;
KindClass classify_softirq(std::string_view name) noexcept;

// Ticks allowed in an interval of `seconds`.
std::uint64_t tick_allowance(double seconds, const BreakPolicy& policy) noexcept;

struct KindCount {
    std::string kind;  // "LOC", "24", "TIMER"
    std::string
        description;  // "Local timer interrupts", "IO-APIC 5-edge ACPI:Ged"; "" for softirqs
    std::uint64_t count = 0;
    double rate = 0;  // per second
};

struct CpuInterval {
    unsigned cpu = 0;
    bool isolated = false;
    std::vector<KindCount> interrupts;  // kinds that moved, table order
    std::vector<KindCount> softirqs;    // kinds that moved, table order
    std::uint64_t interrupts_total = 0;
    std::uint64_t softirqs_total = 0;
    std::optional<std::uint64_t> context_switches;  // nullopt: no source for this CPU
    double context_switch_rate = 0;
};

enum class BreakSource { interrupt, softirq, kernel };
std::string_view to_string(BreakSource source) noexcept;

struct IsolationBreak {
    double wall_seconds = 0;  // end of the interval (kernel: when it was seen)
    int cpu = -1;             // kernel: the thread's last CPU
    BreakSource source = BreakSource::interrupt;
    std::string kind;  // row name, softirq name, or the kernel's cause ("syscall")
    std::string description;
    std::uint64_t count = 0;
    std::uint64_t allowed = 0;  // ticks allowed; 0 for the rest
    // Kernel-reported only.
    int pid = 0;
    int tid = 0;
    std::string comm;
};

// A thread with the kernel patch's state that is isolated or has broken.
struct ThreadIsolation {
    int pid = 0;
    int tid = 0;
    std::string comm;
    int cpu = -1;
    bool isolated = false;
    std::uint64_t breaks = 0;  // the kernel's total
    // Breaks by cause name in this interval (causes that grew only).
    std::vector<std::pair<std::string, std::uint64_t>> new_breaks;
};

struct IntervalReport {
    double seconds = 0;       // between the two readings
    double wall_seconds = 0;  // the second reading
    SwitchSource switch_source = SwitchSource::threads;
    std::vector<CpuInterval> cpus;  // every CPU in both readings, ascending
    std::vector<IsolationBreak> breaks;
    std::vector<ThreadIsolation> threads;  // kernel patch only
    // Counters that went backwards, CPUs and rows that came or went, isolated
    // CPUs missing from the counters.
    std::vector<std::string> notices;

    const CpuInterval* cpu(unsigned n) const;
};

IntervalReport compute_interval(const CounterSnapshot& before, const CounterSnapshot& after,
                                const core::CpuSet& isolated, const BreakPolicy& policy = {});

}  // namespace qc::monitor
