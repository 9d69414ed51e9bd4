// Pure parsers of the /proc text the entry poller reads, so they can be tested
// on captured text from x86_64 and arm64 machines. Each throws
// qc::core::ParseError naming the file and the bad field or line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quietcore/core/cpu_set.hpp"

namespace qc::isolation {

// One line of /proc/interrupts or /proc/softirqs.
struct InterruptRow {
    std::string name;                   // "24", "LOC", "IPI0", "TIMER"
    std::vector<std::uint64_t> counts;  // one per header column; fewer for totals like ERR/MIS
    std::string description;            // the rest of the line, spaces collapsed
};

struct InterruptTable {
    std::vector<unsigned> cpus;  // the header's CPU numbers, column by column
    std::vector<InterruptRow> rows;
    // Lines that are neither a header nor "name: counts [description]",
    // skipped and kept (trimmed) so callers can say what they ignored.
    std::vector<std::string> malformed;

    // Column of `cpu`, or nullopt when the header has no such CPU.
    std::optional<std::size_t> column_of(unsigned cpu) const;
    // Count of row `name` on `cpu`; nullopt when the row or the CPU is missing
    // or the row has no per-CPU column for it (ERR, MIS).
    std::optional<std::uint64_t> count(std::string_view name, unsigned cpu) const;
};

// /proc/interrupts or /proc/softirqs text. The header line of "CPUn" columns
// is required (ParseError otherwise); malformed rows go to `malformed`.
InterruptTable parse_interrupts(std::string_view text);

// The number of a "Field:\t<n>" line of /proc/<pid>/status, e.g.
// "nonvoluntary_ctxt_switches" or "Tgid".
std::uint64_t parse_status_number(std::string_view status_text, std::string_view field);
// The "Cpus_allowed_list:" line of /proc/<pid>/status.
core::CpuSet parse_status_cpus_allowed(std::string_view status_text);
// Field 39 (processor: the CPU it last ran on) of /proc/<pid>/stat; the
// command name in field 2 may contain spaces and ')'.
int parse_stat_processor(std::string_view stat_text);

}  // namespace qc::isolation
