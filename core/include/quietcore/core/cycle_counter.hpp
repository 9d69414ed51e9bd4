// The CPU's free-running cycle counter: `rdtsc` on x86_64, `cntvct_el0` on
// arm64. Reads are one or two instructions, never a syscall, so isolated
// workers may take them in their loop (DESIGN.md "Two kinds of thread",
// "Measuring"). Calibration against CLOCK_MONOTONIC_RAW, the read-cost
// measurement and the counter facts run on housekeeping threads at start.
//
// Three reads, for three uses:
//   read()        no fence: the cheapest; the CPU may execute it a little
//                 before or after its neighbours. For tight gap loops.
//   read_start()  ordered start of a timed region: nothing earlier is still
//                 executing when the counter is read (x86: lfence; rdtsc,
//                 arm64: isb; mrs).
//   read_end()    ordered end of a timed region: everything earlier has
//                 executed, nothing later has started (x86: rdtscp; lfence,
//                 or lfence; rdtsc; lfence when the CPU does not advertise
//                 RDTSCP; arm64: isb; mrs; isb).
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "quietcore's cycle counter supports x86_64 and aarch64 only"
#endif

namespace qc::core {

namespace detail {
// True when CPUID advertises RDTSCP; set during static initialisation. Until
// then it is false, which selects the end read that every x86_64 CPU has.
extern bool end_read_uses_rdtscp;
}  // namespace detail

struct CycleCounter {
    static std::uint64_t read() noexcept {
#if defined(__x86_64__)
        std::uint32_t lo, hi;
        asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
        return (std::uint64_t{hi} << 32) | lo;
#elif defined(__aarch64__)
        std::uint64_t v;
        asm volatile("mrs %0, cntvct_el0" : "=r"(v));
        return v;
#endif
    }

    static std::uint64_t read_start() noexcept {
#if defined(__x86_64__)
        std::uint32_t lo, hi;
        asm volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi)::"memory");
        return (std::uint64_t{hi} << 32) | lo;
#elif defined(__aarch64__)
        std::uint64_t v;
        asm volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v)::"memory");
        return v;
#endif
    }

    static std::uint64_t read_end() noexcept {
#if defined(__x86_64__)
        std::uint32_t lo, hi;
        if (detail::end_read_uses_rdtscp) {
            asm volatile("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi)::"rcx", "memory");
        } else {
            asm volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi)::"memory");
        }
        return (std::uint64_t{hi} << 32) | lo;
#elif defined(__aarch64__)
        std::uint64_t v;
        asm volatile("isb\n\tmrs %0, cntvct_el0\n\tisb" : "=r"(v)::"memory");
        return v;
#endif
    }

    // "tsc" or "cntvct_el0".
    static constexpr std::string_view name() noexcept {
#if defined(__x86_64__)
        return "tsc";
#elif defined(__aarch64__)
        return "cntvct_el0";
#endif
    }
};

// Cycles <-> nanoseconds with integers only: x * mult >> shift in 128 bits,
// saturating at UINT64_MAX. Both directions truncate, so a round trip
// cycles -> ns -> cycles loses at most ceil(cycles_per_ns) + 1 cycles.
class CycleConverter {
  public:
    // Accepts 1e-4 .. 1e3 cycles per ns (100 kHz .. 1 THz); throws Error
    // naming the value otherwise (including NaN and infinities).
    explicit CycleConverter(double cycles_per_ns);

    std::uint64_t to_ns(std::uint64_t cycles) const noexcept {
        return scale(cycles, ns_mult_, ns_shift_);
    }
    std::uint64_t to_cycles(std::uint64_t ns) const noexcept {
        return scale(ns, cycles_mult_, cycles_shift_);
    }
    double cycles_per_ns() const noexcept { return cycles_per_ns_; }

  private:
    __extension__ typedef unsigned __int128 u128;

    static std::uint64_t scale(std::uint64_t x, std::uint64_t mult, unsigned shift) noexcept {
        u128 r = (u128{x} * mult) >> shift;
        return (r >> 64) != 0 ? UINT64_MAX : static_cast<std::uint64_t>(r);
    }

    double cycles_per_ns_;
    std::uint64_t ns_mult_;
    unsigned ns_shift_;
    std::uint64_t cycles_mult_;
    unsigned cycles_shift_;
};

struct CalibrationOptions {
    // How long each repetition lets the counter run between two brackets.
    std::chrono::nanoseconds window = std::chrono::milliseconds(10);
    unsigned repetitions = 5;
};

// The counter's rate measured against CLOCK_MONOTONIC_RAW. Each repetition
// brackets a counter read between two clock reads at both ends of a window;
// the bracket width is the uncertainty of that end.
struct CycleCalibration {
    double cycles_per_ns = 0;  // median of the repetitions
    // relative_spread + relative_bracket_uncertainty: how far the true rate
    // may be from cycles_per_ns, as a fraction of it.
    double relative_error = 0;
    double relative_spread = 0;               // (max - min) / (2 * median)
    double relative_bracket_uncertainty = 0;  // worst repetition
    std::vector<double> samples;              // cycles per ns, one per repetition
    // The rate the hardware states: cntfrq_el0 on arm64, CPUID leaf 0x15 on
    // x86_64 when it fills it in; 0 when there is none.
    std::uint64_t stated_hz = 0;
    std::chrono::nanoseconds window{0};

    double hz() const noexcept { return cycles_per_ns * 1e9; }
    CycleConverter converter() const { return CycleConverter(cycles_per_ns); }
};

// Housekeeping only (sleeps, allocates). Throws Error for a window outside
// 1 us .. 10 s or repetitions outside 1 .. 1000, naming the value, and
// std::system_error if the clock cannot be read.
CycleCalibration calibrate_cycle_counter(const CalibrationOptions& options = {});

enum class CounterRead { plain, start, end };
std::string_view to_string(CounterRead read) noexcept;

// The cost of one read, from `samples` back-to-back pairs: the minimum and
// median of their deltas in counter ticks, and the mean over one run of
// `samples` consecutive reads (fractional, for counters that tick slower
// than a read takes). Housekeeping only; throws Error if samples < 3 or
// > 10^8.
struct ReadCost {
    std::uint64_t min_ticks = 0;
    std::uint64_t median_ticks = 0;
    double mean_ticks = 0;
};
ReadCost measure_read_cost(CounterRead read, unsigned samples = 10000);

// The `flags` line of /proc/cpuinfo, as far as the counter is concerned.
struct CpuinfoTscFlags {
    bool flags_line_found = false;
    bool constant_tsc = false;  // rate independent of P-states
    bool nonstop_tsc = false;   // keeps counting in deep C-states
};
CpuinfoTscFlags parse_cpuinfo_tsc_flags(std::string_view cpuinfo_text);

// Facts about this machine's counter, reported rather than enforced: a
// counter that is not invariant still works, but its gaps may lie.
struct CycleCounterFacts {
    std::string_view counter;
    bool invariant = false;  // constant rate, counts through idle states
    // Where `invariant` comes from: "cpuid", "cpuinfo", "architectural"
    // (arm64's generic timer) or "none".
    std::string_view invariant_source;
    bool cpuid_invariant_tsc = false;  // CPUID 0x80000007 EDX bit 8
    CpuinfoTscFlags cpuinfo;           // from /proc/cpuinfo, if readable
    bool end_read_uses_rdtscp = false;
    std::uint64_t stated_hz = 0;  // as in CycleCalibration
};
CycleCounterFacts cycle_counter_facts();

}  // namespace qc::core
