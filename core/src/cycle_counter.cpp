#include "quietcore/core/cycle_counter.hpp"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <sstream>
#include <system_error>
#include <thread>

#include "quietcore/core/error.hpp"
#include "quietcore/core/text_file.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace qc::core {

namespace {

#if defined(__x86_64__)
bool cpuid_bit(unsigned leaf, unsigned reg_index, unsigned bit) {
    unsigned regs[4] = {0, 0, 0, 0};
    if (__get_cpuid(leaf, &regs[0], &regs[1], &regs[2], &regs[3]) == 0) {
        return false;  // leaf not supported
    }
    return ((regs[reg_index] >> bit) & 1U) != 0;
}

constexpr unsigned kEdx = 3;
#endif

bool detect_rdtscp() {
#if defined(__x86_64__)
    return cpuid_bit(0x80000001U, kEdx, 27);
#else
    return false;
#endif
}

std::uint64_t stated_counter_hz() {
#if defined(__x86_64__)
    // Leaf 0x15: TSC = crystal (ECX Hz) * EBX / EAX; any zero means "not stated".
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid_max(0, nullptr) < 0x15U || __get_cpuid(0x15U, &eax, &ebx, &ecx, &edx) == 0 ||
        eax == 0 || ebx == 0 || ecx == 0) {
        return 0;
    }
    return std::uint64_t{ecx} * ebx / eax;
#elif defined(__aarch64__)
    std::uint64_t hz;
    asm volatile("mrs %0, cntfrq_el0" : "=r"(hz));
    return hz;
#endif
}

std::int64_t monotonic_raw_ns() {
    timespec ts{};
    if (::clock_gettime(CLOCK_MONOTONIC_RAW, &ts) != 0) {
        throw std::system_error(errno, std::generic_category(), "clock_gettime(MONOTONIC_RAW)");
    }
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// A counter read placed between two clock reads. The narrowest of a few
// tries wins, so a preemption inside one try does not widen the result.
struct Bracket {
    double clock_ns;  // midpoint of the two clock reads
    double half_width_ns;
    std::uint64_t ticks;
};

Bracket bracket_counter() {
    Bracket best{0, 0, 0};
    std::int64_t best_width = INT64_MAX;
    for (int i = 0; i < 16; ++i) {
        std::int64_t before = monotonic_raw_ns();
        std::uint64_t ticks = CycleCounter::read_start();
        std::int64_t after = monotonic_raw_ns();
        if (after - before < best_width) {
            best_width = after - before;
            best = {static_cast<double>(before) + static_cast<double>(best_width) / 2,
                    static_cast<double>(best_width) / 2, ticks};
        }
    }
    return best;
}

template <CounterRead kKind>
std::uint64_t read_as() noexcept {
    if constexpr (kKind == CounterRead::plain) {
        return CycleCounter::read();
    } else if constexpr (kKind == CounterRead::start) {
        return CycleCounter::read_start();
    } else {
        return CycleCounter::read_end();
    }
}

// The deltas and the run are measured with the read itself inlined, so the
// figure is the read's cost and not a call's.
template <CounterRead kKind>
ReadCost measure_read_cost_of(unsigned samples) {
    std::vector<std::uint64_t> deltas(samples);
    for (auto& d : deltas) {
        std::uint64_t a = read_as<kKind>();
        std::uint64_t b = read_as<kKind>();
        d = b - a;
    }
    std::uint64_t run_start = read_as<kKind>();
    for (unsigned i = 0; i < samples; ++i) {
        (void)read_as<kKind>();
    }
    std::uint64_t run_end = read_as<kKind>();

    ReadCost cost;
    cost.min_ticks = *std::min_element(deltas.begin(), deltas.end());
    std::nth_element(deltas.begin(), deltas.begin() + samples / 2, deltas.end());
    cost.median_ticks = deltas[samples / 2];
    // samples + 1 reads separate run_start from run_end.
    cost.mean_ticks = static_cast<double>(run_end - run_start) / (samples + 1.0);
    return cost;
}

// The smallest shift that leaves mult in [2^62, 2^63): as many significant
// bits as a double carries, and x * mult always fits in 128 bits.
void choose_mult_shift(double ratio, std::uint64_t& mult, unsigned& shift) {
    int exponent = std::ilogb(ratio);  // ratio in [2^e, 2^(e+1))
    shift = static_cast<unsigned>(62 - exponent);
    mult = static_cast<std::uint64_t>(std::llround(std::ldexp(ratio, static_cast<int>(shift))));
}

}  // namespace

namespace detail {
bool end_read_uses_rdtscp = detect_rdtscp();
}  // namespace detail

CycleConverter::CycleConverter(double cycles_per_ns) : cycles_per_ns_(cycles_per_ns) {
    if (!(cycles_per_ns >= 1e-4 && cycles_per_ns <= 1e3)) {
        std::ostringstream msg;
        msg << "cycle converter: cycles per ns " << cycles_per_ns
            << " is outside 1e-4 .. 1e3 (100 kHz .. 1 THz)";
        throw Error(msg.str());
    }
    choose_mult_shift(1.0 / cycles_per_ns, ns_mult_, ns_shift_);
    choose_mult_shift(cycles_per_ns, cycles_mult_, cycles_shift_);
}

CycleCalibration calibrate_cycle_counter(const CalibrationOptions& options) {
    if (options.window < std::chrono::microseconds(1) ||
        options.window > std::chrono::seconds(10)) {
        throw Error("cycle counter calibration: window " + std::to_string(options.window.count()) +
                    " ns is outside 1 us .. 10 s");
    }
    if (options.repetitions < 1 || options.repetitions > 1000) {
        throw Error("cycle counter calibration: repetitions " +
                    std::to_string(options.repetitions) + " is outside 1 .. 1000");
    }

    CycleCalibration cal;
    cal.window = options.window;
    cal.stated_hz = stated_counter_hz();
    for (unsigned r = 0; r < options.repetitions; ++r) {
        Bracket begin = bracket_counter();
        std::this_thread::sleep_for(options.window);
        Bracket end = bracket_counter();
        double elapsed_ns = end.clock_ns - begin.clock_ns;
        double ticks = static_cast<double>(end.ticks - begin.ticks);
        cal.samples.push_back(ticks / elapsed_ns);
        cal.relative_bracket_uncertainty =
            std::max(cal.relative_bracket_uncertainty,
                     (begin.half_width_ns + end.half_width_ns) / elapsed_ns);
    }

    std::vector<double> sorted = cal.samples;
    std::sort(sorted.begin(), sorted.end());
    std::size_t n = sorted.size();
    cal.cycles_per_ns = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    cal.relative_spread = (sorted.back() - sorted.front()) / (2 * cal.cycles_per_ns);
    cal.relative_error = cal.relative_spread + cal.relative_bracket_uncertainty;
    return cal;
}

std::string_view to_string(CounterRead read) noexcept {
    switch (read) {
        case CounterRead::plain:
            return "plain";
        case CounterRead::start:
            return "start";
        case CounterRead::end:
            return "end";
    }
    return "unknown";
}

ReadCost measure_read_cost(CounterRead read, unsigned samples) {
    if (samples < 3 || samples > 100'000'000) {
        throw Error("cycle counter read cost: samples " + std::to_string(samples) +
                    " is outside 3 .. 100000000");
    }
    switch (read) {
        case CounterRead::plain:
            return measure_read_cost_of<CounterRead::plain>(samples);
        case CounterRead::start:
            return measure_read_cost_of<CounterRead::start>(samples);
        case CounterRead::end:
            return measure_read_cost_of<CounterRead::end>(samples);
    }
    throw Error("cycle counter read cost: unknown read kind " +
                std::to_string(static_cast<int>(read)));
}

CpuinfoTscFlags parse_cpuinfo_tsc_flags(std::string_view text) {
    CpuinfoTscFlags flags;
    // The first "flags\t\t: ..." line; every CPU repeats the same one.
    for_each_line(text, [&](std::string_view line) {
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            return true;
        }
        std::string_view key = line.substr(0, colon);
        key = key.substr(0, key.find_last_not_of(" \t") + 1);
        if (key != "flags") {
            return true;
        }
        flags.flags_line_found = true;
        std::istringstream words{std::string(line.substr(colon + 1))};
        std::string word;
        while (words >> word) {
            flags.constant_tsc = flags.constant_tsc || word == "constant_tsc";
            flags.nonstop_tsc = flags.nonstop_tsc || word == "nonstop_tsc";
        }
        return false;
    });
    return flags;
}

CycleCounterFacts cycle_counter_facts() {
    CycleCounterFacts facts;
    facts.counter = CycleCounter::name();
    facts.end_read_uses_rdtscp = detail::end_read_uses_rdtscp;
    facts.stated_hz = stated_counter_hz();

    if (std::optional<std::string> text = read_text_file_if_exists("/proc/cpuinfo")) {
        facts.cpuinfo = parse_cpuinfo_tsc_flags(*text);
    }
#if defined(__x86_64__)
    facts.cpuid_invariant_tsc = cpuid_bit(0x80000007U, kEdx, 8);
    if (facts.cpuid_invariant_tsc) {
        facts.invariant = true;
        facts.invariant_source = "cpuid";
    } else if (facts.cpuinfo.constant_tsc && facts.cpuinfo.nonstop_tsc) {
        facts.invariant = true;
        facts.invariant_source = "cpuinfo";
    } else {
        facts.invariant_source = "none";
    }
#elif defined(__aarch64__)
    // The generic timer's virtual count runs at a fixed rate by definition.
    facts.invariant = true;
    facts.invariant_source = "architectural";
#endif
    return facts;
}

}  // namespace qc::core
