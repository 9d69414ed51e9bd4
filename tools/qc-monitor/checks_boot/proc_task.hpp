// The parts of /proc/<pid>/stat and /proc/<pid>/status the affinity checks
// need. Pure: tested on captured text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qc::monitor::boot {

// PF_KTHREAD in the flags field (include/linux/sched.h).
inline constexpr std::uint64_t kPfKthread = 0x00200000;

struct ProcStat {
    std::uint64_t pid = 0;
    std::string comm;  // field 2 without its parentheses; may hold spaces and ')'
    char state = '?';
    std::uint64_t flags = 0;  // field 9

    bool kthread() const noexcept { return (flags & kPfKthread) != 0; }
};

// Throws core::ParseError naming the bad token (a missing ')', a short line,
// a flags field that is not a number).
ProcStat parse_proc_stat(std::string_view text);

// The value of a "Field:\t<value>" line of /proc/<pid>/status, trimmed;
// nullopt when there is no such line.
std::optional<std::string> status_field(std::string_view status_text, std::string_view field);

}  // namespace qc::monitor::boot
