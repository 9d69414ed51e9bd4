#include "checks_boot/proc_task.hpp"

#include <charconv>
#include <vector>

#include "quietcore/core/error.hpp"
#include "quietcore/core/text_file.hpp"

namespace qc::monitor::boot {

ProcStat parse_proc_stat(std::string_view text) {
    const std::string_view line = core::trim_space(text);
    const std::size_t open = line.find('(');
    const std::size_t close = line.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
        throw core::ParseError("/proc stat", line, line.substr(0, 40),
                               "no \"(command)\" after the pid");
    }
    ProcStat stat;
    const std::string_view pid = core::trim_space(line.substr(0, open));
    const auto pid_value = core::parse_number<std::uint64_t>(pid);
    if (!pid_value) {
        throw core::ParseError("/proc stat", line, pid, "pid is not a number");
    }
    stat.pid = *pid_value;
    stat.comm = std::string(line.substr(open + 1, close - open - 1));
    // Fields from 3 (state) on, separated by single spaces.
    std::vector<std::string_view> words;
    std::string_view rest = line.substr(close + 1);
    while (!rest.empty()) {
        rest = core::trim_space(rest);
        const std::size_t end = rest.find(' ');
        words.push_back(rest.substr(0, end));
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    }
    constexpr std::size_t kFlagsIndex = 9 - 3;
    if (words.size() <= kFlagsIndex) {
        throw core::ParseError("/proc stat", line, core::trim_space(line.substr(close + 1)),
                               "fewer than 9 fields: no flags field");
    }
    if (words[0].size() != 1) {
        throw core::ParseError("/proc stat", line, words[0], "state is not one letter");
    }
    stat.state = words[0][0];
    const auto flags = core::parse_number<std::uint64_t>(words[kFlagsIndex]);
    if (!flags) {
        throw core::ParseError("/proc stat", line, words[kFlagsIndex],
                               "flags (field 9) is not a number");
    }
    stat.flags = *flags;
    return stat;
}

std::optional<std::string> status_field(std::string_view status_text, std::string_view field) {
    std::optional<std::string> found;
    core::for_each_line(status_text, [&](std::string_view line) {
        if (line.size() > field.size() && line.substr(0, field.size()) == field &&
            line[field.size()] == ':') {
            found = std::string(core::trim_space(line.substr(field.size() + 1)));
            return false;
        }
        return true;
    });
    return found;
}

}  // namespace qc::monitor::boot
