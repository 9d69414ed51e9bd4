#include "quietcore/isolation/kernel_task_status.hpp"

#include <charconv>
#include <utility>

#include "quietcore/core/error.hpp"
#include "quietcore/core/text_file.hpp"

namespace qc::isolation {
namespace {

constexpr std::pair<std::string_view, BreakCause> kCauseKeys[] = {
    {"breaks_syscall", BreakCause::syscall},
    {"breaks_page_fault", BreakCause::page_fault},
    {"breaks_exception", BreakCause::exception},
    {"breaks_irq", BreakCause::irq},
    {"breaks_ipi", BreakCause::ipi},
    {"breaks_signal", BreakCause::signal},
    {"breaks_preemption", BreakCause::preemption},
    {"breaks_migration", BreakCause::migration},
    {"breaks_affinity", BreakCause::affinity_change},
};
// The other keys; with kCauseKeys, every key the file has, each once.
constexpr std::string_view kPlainKeys[] = {"state", "flags", "signal", "breaks", "quiesce_eagain"};
constexpr std::size_t kKeyCount = std::size(kPlainKeys) + std::size(kCauseKeys);

// Index of `key` among all keys, or kKeyCount when unknown.
std::size_t key_index(std::string_view key) {
    for (std::size_t i = 0; i < std::size(kPlainKeys); ++i) {
        if (kPlainKeys[i] == key) {
            return i;
        }
    }
    for (std::size_t i = 0; i < std::size(kCauseKeys); ++i) {
        if (kCauseKeys[i].first == key) {
            return std::size(kPlainKeys) + i;
        }
    }
    return kKeyCount;
}

std::uint64_t number(std::string_view value, int base, const std::string& source,
                     std::string_view line) {
    std::uint64_t out = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out, base);
    if (ec != std::errc{} || end != value.data() + value.size() || value.empty()) {
        throw core::ParseError(source, line, value, "not a number");
    }
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace

KernelTaskStatus parse_kernel_task_status(std::string_view text, const std::string& source) {
    KernelTaskStatus st;
    bool seen[kKeyCount] = {};
    core::for_each_line(text, [&](std::string_view line) {
        if (trim(line).empty()) {
            return;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            throw core::ParseError(source, line, line, "expected \"key: value\"");
        }
        const std::string_view key = trim(line.substr(0, colon));
        const std::string_view value = trim(line.substr(colon + 1));
        const std::size_t index = key_index(key);
        if (index == kKeyCount) {
            throw core::ParseError(source, line, key, "unknown key");
        }
        if (seen[index]) {
            throw core::ParseError(source, line, key, "key repeated");
        }
        seen[index] = true;
        if (key == "state") {
            if (value != "isolated" && value != "off") {
                throw core::ParseError(source, line, value, "state is \"isolated\" or \"off\"");
            }
            st.isolated = value == "isolated";
        } else if (key == "flags") {
            if (!value.starts_with("0x")) {
                throw core::ParseError(source, line, value, "flags are hexadecimal (0x...)");
            }
            st.flags = static_cast<unsigned>(number(value.substr(2), 16, source, line));
        } else if (key == "signal") {
            st.signal = static_cast<int>(number(value, 10, source, line));
        } else if (key == "breaks") {
            st.breaks = number(value, 10, source, line);
        } else if (key == "quiesce_eagain") {
            st.quiesce_eagain = number(value, 10, source, line);
        } else {
            const BreakCause cause = kCauseKeys[index - std::size(kPlainKeys)].second;
            st.breaks_by_cause[static_cast<std::size_t>(cause)] = number(value, 10, source, line);
        }
    });
    for (std::size_t i = 0; i < kKeyCount; ++i) {
        if (!seen[i]) {
            const std::string_view missing = i < std::size(kPlainKeys)
                                                 ? kPlainKeys[i]
                                                 : kCauseKeys[i - std::size(kPlainKeys)].first;
            throw core::ParseError(source, "", missing, "key missing");
        }
    }
    return st;
}

std::optional<KernelTaskStatus> read_kernel_task_status(pid_t pid, pid_t tid,
                                                        const std::string& proc_root) {
    const std::string path =
        proc_root + "/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/task_isolation";
    const auto text = core::read_text_file_if_exists(path);
    if (!text) {
        return std::nullopt;
    }
    return parse_kernel_task_status(*text, path);
}

}  // namespace qc::isolation
