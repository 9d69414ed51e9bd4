// Pure helpers of the tunable and rate checks: the value syntaxes of /proc
// and /sys files, counter deltas between two readings of /proc/interrupts,
// /proc/softirqs and /proc/stat, and how a rate is judged. No I/O, so each
// is tested on text alone.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quietcore/core/cpu_set.hpp"
#include "quietcore/core/error.hpp"
#include "quietcore/isolation/soft_proc_parse.hpp"

namespace qc::monitor::tunables {

// Leading and trailing blanks and newlines removed.
std::string_view trim(std::string_view text) noexcept;

// A whole decimal integer with an optional '-' ("10", "-1"); surrounding
// blanks allowed; nullopt for anything else ("10s", "", "0x10").
std::optional<std::int64_t> parse_integer(std::string_view text) noexcept;

// The bracketed word of a sysfs choice list: "madvise" for
// "always [madvise] never"; nullopt when there is not exactly one.
std::optional<std::string> bracketed_choice(std::string_view text);

// "/sys/devices/system/cpu/cpu3/cpufreq/scaling_governor" for (3, "cpufreq/scaling_governor").
std::string cpu_path(unsigned cpu, std::string_view rest);

// A counter's increase. Per-CPU interrupt and softirq counters are 32-bit
// and wrap: a smaller second reading counts as a wrap when the first one is
// in the upper half of the 32-bit range; otherwise nullopt (went backwards).
std::optional<std::uint64_t> counter_increase(std::uint64_t before, std::uint64_t after) noexcept;

// Thrown when two readings of a counter file cannot be compared: a counter
// went backwards, a CPU column vanished, a row lost its per-CPU counts.
class CounterError : public core::Error {
  public:
    explicit CounterError(const std::string& what, bool cpu_missing = false)
        : core::Error(what), cpu_missing_(cpu_missing) {}

    // A CPU column is in one reading only: it went offline or online between them.
    bool cpu_missing() const noexcept { return cpu_missing_; }

  private:
    bool cpu_missing_;
};

// The increase of one row of an interrupt table on one CPU.
struct RowIncrease {
    std::string row;          // "LOC", "36", "TIMER"
    std::string description;  // "Local timer interrupts", "PCI-MSIX-0000:00:04.0 1-edge nvme0q3"
    unsigned cpu = 0;
    std::uint64_t increase = 0;
};

// A row of the second reading that cannot be compared with the first: a
// counter went backwards, its per-CPU counts appeared or vanished, or the
// line is unreadable. Only the checks that use the row fail on it.
struct RowProblem {
    std::string row;          // "RES"; for an unreadable line, the text before ':'
    std::string description;  // the row's description, or the unreadable line
    std::string message;      // "row \"RES\" on CPU 3 went backwards from 118 to 100"
};

struct TableIncreases {
    std::vector<RowIncrease> increases;
    std::vector<RowProblem> problems;
};

// Increases of every row with per-CPU counts on each CPU of `cpus` between
// two readings of /proc/interrupts or /proc/softirqs. Rows without per-CPU
// columns (ERR, MIS) are ignored; a row only in `after` counts from 0; a row
// only in `before` is ignored (its IRQ was freed). Row-level trouble goes to
// `problems`; throws CounterError when a CPU of `cpus` is missing from
// either header (offlined between the readings?), which spoils every row.
TableIncreases interrupt_increases(const isolation::InterruptTable& before,
                                   const isolation::InterruptTable& after,
                                   const core::CpuSet& cpus);

// The local timer row: "LOC" on x86, the "arch_timer" IRQ on arm64.
bool is_local_timer_row(std::string_view name, std::string_view description) noexcept;

// How a person names a row: "LOC (Local timer interrupts)", "IRQ 36 (nvme0q3)", "TIMER".
std::string row_label(const RowIncrease& row);

// One "cpuN" line of /proc/stat, in USER_HZ ticks.
struct CpuTimes {
    std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                  steal = 0;

    // Every state the CPU's time is split into (guest time is already in user and nice).
    std::uint64_t total() const noexcept {
        return user + nice + system + idle + iowait + irq + softirq + steal;
    }
    // Time the kernel ran on the CPU: system calls and faults, hard and soft IRQs.
    std::uint64_t kernel() const noexcept { return system + irq + softirq; }
};

// The per-CPU lines of /proc/stat ("cpu0 ...", not the "cpu " total line).
// Throws core::ParseError naming the line for a non-number or fewer than 4 fields.
std::map<unsigned, CpuTimes> parse_proc_stat_cpus(std::string_view text);

// Field-wise increase between two readings; throws CounterError naming the
// field when one went backwards.
CpuTimes cpu_times_increase(unsigned cpu, const CpuTimes& before, const CpuTimes& after);

enum class Verdict { ok, warn, fail };

// Per-second limits of a rate: above warn_above is a warn, above fail_above a fail.
struct RateLimits {
    double warn_above = 0;
    double fail_above = 0;
};

// A count seen over `seconds`. A count of 0 or 1 is always ok: one event in
// a window cannot be told from the residual 1 Hz tick, whatever the window.
Verdict judge_count(std::uint64_t count, double seconds, RateLimits limits) noexcept;

// A share in percent of `total` (ticks): ok when `part` is at most one tick
// (the USER_HZ resolution of /proc/stat) or at most warn_above percent.
Verdict judge_share(std::uint64_t part, std::uint64_t total, double warn_above,
                    double fail_above) noexcept;

// "250/s", "1.5/s", "0.2/s".
std::string format_rate(double per_second);

}  // namespace qc::monitor::tunables
