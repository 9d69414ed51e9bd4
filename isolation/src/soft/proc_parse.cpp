#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

#include "quietcore/core/error.hpp"
#include "quietcore/core/text_file.hpp"
#include "quietcore/isolation/soft_proc_parse.hpp"

namespace qc::isolation {

namespace {

// The line of `text` that starts with "field:", without the prefix.
std::optional<std::string_view> status_value(std::string_view text, std::string_view field) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const std::string_view line = text.substr(pos, end - pos);
        if (line.size() > field.size() && line.substr(0, field.size()) == field &&
            line[field.size()] == ':') {
            return core::trim_space(line.substr(field.size() + 1));
        }
        pos = end + 1;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::size_t> InterruptTable::column_of(unsigned cpu) const {
    for (std::size_t i = 0; i < cpus.size(); ++i) {
        if (cpus[i] == cpu) {
            return i;
        }
    }
    return std::nullopt;
}

std::optional<std::uint64_t> InterruptTable::count(std::string_view name, unsigned cpu) const {
    const auto column = column_of(cpu);
    if (!column) {
        return std::nullopt;
    }
    for (const auto& row : rows) {
        if (row.name == name) {
            if (*column < row.counts.size() && row.counts.size() == cpus.size()) {
                return row.counts[*column];
            }
            return std::nullopt;
        }
    }
    return std::nullopt;
}

InterruptTable parse_interrupts(std::string_view text) {
    InterruptTable table;
    bool have_header = false;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const std::string_view line = core::trim_space(text.substr(pos, end - pos));
        pos = end + 1;
        if (line.empty()) {
            continue;
        }
        if (!have_header) {
            for (const auto word : core::split_words(line)) {
                const auto cpu = word.size() > 3 && word.substr(0, 3) == "CPU"
                                     ? core::parse_number<unsigned>(word.substr(3))
                                     : std::nullopt;
                if (!cpu) {
                    throw core::ParseError("interrupt table header", line, word,
                                           "expected CPU columns like \"CPU0\"");
                }
                table.cpus.push_back(*cpu);
            }
            have_header = true;
            continue;
        }
        const std::size_t colon = line.find(':');
        const std::string_view name =
            colon == std::string_view::npos ? "" : core::trim_space(line.substr(0, colon));
        if (name.empty() || name.find(' ') != std::string_view::npos) {
            table.malformed.emplace_back(line);
            continue;
        }
        InterruptRow row;
        row.name = std::string(name);
        const auto words = core::split_words(line.substr(colon + 1));
        std::size_t i = 0;
        for (; i < words.size() && row.counts.size() < table.cpus.size(); ++i) {
            const auto n = core::parse_number<std::uint64_t>(words[i]);
            if (!n) {
                break;
            }
            row.counts.push_back(*n);
        }
        if (row.counts.empty()) {
            table.malformed.emplace_back(line);
            continue;
        }
        for (; i < words.size(); ++i) {
            if (!row.description.empty()) {
                row.description += ' ';
            }
            row.description += words[i];
        }
        table.rows.push_back(std::move(row));
    }
    if (!have_header) {
        throw core::ParseError("interrupt table", text.substr(0, 40), "",
                               "no header line of CPU columns");
    }
    return table;
}

std::uint64_t parse_status_number(std::string_view status_text, std::string_view field) {
    const auto value = status_value(status_text, field);
    if (!value) {
        throw core::ParseError("/proc status field", field, field, "field is missing");
    }
    const auto n = core::parse_number<std::uint64_t>(*value);
    if (!n) {
        throw core::ParseError(std::string("/proc status field ") + std::string(field), *value,
                               *value, "not a number");
    }
    return *n;
}

core::CpuSet parse_status_cpus_allowed(std::string_view status_text) {
    const auto value = status_value(status_text, "Cpus_allowed_list");
    if (!value) {
        throw core::ParseError("/proc status field", "Cpus_allowed_list", "Cpus_allowed_list",
                               "field is missing");
    }
    return core::CpuSet::parse_list(*value);
}

int parse_stat_processor(std::string_view stat_text) {
    const std::size_t paren = stat_text.rfind(')');
    if (paren == std::string_view::npos) {
        throw core::ParseError("/proc stat", stat_text.substr(0, 40), "",
                               "no \")\" after the command name");
    }
    // Fields after the command: 3 (state) is index 0, so 39 (processor) is 36.
    const auto words = core::split_words(core::trim_space(stat_text.substr(paren + 1)));
    constexpr std::size_t kProcessorIndex = 39 - 3;
    if (words.size() <= kProcessorIndex) {
        throw core::ParseError("/proc stat", stat_text.substr(0, 40), "",
                               "fewer than 39 fields: no processor field");
    }
    std::string_view word = words[kProcessorIndex];
    if (!word.empty() && word.back() == '\n') {
        word.remove_suffix(1);
    }
    const auto cpu = core::parse_number<int>(word);
    if (!cpu || *cpu < 0) {
        throw core::ParseError("/proc stat processor field", word, word, "not a CPU number");
    }
    return *cpu;
}

}  // namespace qc::isolation
