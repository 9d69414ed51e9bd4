#include "checks_tunables/tunables_parse.hpp"

#include <charconv>
#include <cstdio>
#include <set>

#include "quietcore/core/text_file.hpp"

namespace qc::monitor::tunables {

namespace {

const isolation::InterruptRow* find_row(const isolation::InterruptTable& table,
                                        std::string_view name) {
    for (const auto& row : table.rows) {
        if (row.name == name) {
            return &row;
        }
    }
    return nullptr;
}

bool has_per_cpu_counts(const isolation::InterruptTable& table,
                        const isolation::InterruptRow& row) {
    return !table.cpus.empty() && row.counts.size() == table.cpus.size();
}

}  // namespace

std::string_view trim(std::string_view text) noexcept {
    return core::trim_space(text);
}

std::optional<std::int64_t> parse_integer(std::string_view text) noexcept {
    text = trim(text);
    if (text.empty()) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        return std::nullopt;
    }
    return value;
}

std::optional<std::string> bracketed_choice(std::string_view text) {
    std::optional<std::string> choice;
    for (const std::string_view word : core::split_words(text)) {
        if (word.size() > 2 && word.front() == '[' && word.back() == ']') {
            if (choice) {
                return std::nullopt;
            }
            choice = std::string(word.substr(1, word.size() - 2));
        }
    }
    return choice;
}

std::string cpu_path(unsigned cpu, std::string_view rest) {
    return "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/" + std::string(rest);
}

std::optional<std::uint64_t> counter_increase(std::uint64_t before, std::uint64_t after) noexcept {
    if (after >= before) {
        return after - before;
    }
    constexpr std::uint64_t kWrap = std::uint64_t{1} << 32;
    if (before < kWrap && after < kWrap && before >= kWrap / 2) {
        return kWrap - before + after;
    }
    return std::nullopt;
}

TableIncreases interrupt_increases(const isolation::InterruptTable& before,
                                   const isolation::InterruptTable& after,
                                   const core::CpuSet& cpus) {
    struct Columns {
        unsigned cpu;
        std::size_t before;
        std::size_t after;
    };
    std::vector<Columns> columns;
    for (const unsigned cpu : cpus.cpus()) {
        const auto b = before.column_of(cpu);
        const auto a = after.column_of(cpu);
        if (!b || !a) {
            throw CounterError("CPU " + std::to_string(cpu) + " is missing from the " +
                                   (!b ? "first" : "second") +
                                   " reading (went offline between the two?)",
                               true);
        }
        columns.push_back({cpu, *b, *a});
    }
    TableIncreases result;
    const auto unreadable = [&](const std::string& line, const char* which) {
        const std::size_t colon = line.find(':');
        const std::string name(trim(std::string_view(line).substr(0, colon)));
        result.problems.push_back(
            {name, line, "unreadable line \"" + line + "\" in the " + which + " reading"});
    };
    for (const std::string& line : before.malformed) {
        unreadable(line, "first");
    }
    for (const std::string& line : after.malformed) {
        unreadable(line, "second");
    }
    std::set<std::string, std::less<>> seen;
    for (const auto& row : after.rows) {
        if (!seen.insert(row.name).second) {
            result.problems.push_back(
                {row.name, row.description,
                 "row \"" + row.name + "\" appears twice in the second reading"});
            continue;
        }
        const auto* old = find_row(before, row.name);
        const bool now_per_cpu = has_per_cpu_counts(after, row);
        const bool then_per_cpu = old != nullptr && has_per_cpu_counts(before, *old);
        if (!now_per_cpu && !then_per_cpu) {
            continue;  // ERR, MIS: one global count
        }
        if (old != nullptr && now_per_cpu != then_per_cpu) {
            result.problems.push_back({row.name, row.description,
                                       "row \"" + row.name + "\" has " +
                                           std::to_string(old->counts.size()) +
                                           " counts in the first reading and " +
                                           std::to_string(row.counts.size()) + " in the second"});
            continue;
        }
        if (!now_per_cpu) {
            continue;  // a new row without per-CPU counts
        }
        for (const Columns& c : columns) {
            const std::uint64_t then = old != nullptr ? old->counts[c.before] : 0;
            const std::uint64_t now = row.counts[c.after];
            const auto increase = counter_increase(then, now);
            if (!increase) {
                result.problems.push_back({row.name, row.description,
                                           "row \"" + row.name + "\" on CPU " +
                                               std::to_string(c.cpu) + " went backwards from " +
                                               std::to_string(then) + " to " +
                                               std::to_string(now)});
                continue;
            }
            result.increases.push_back({row.name, row.description, c.cpu, *increase});
        }
    }
    return result;
}

bool is_local_timer_row(std::string_view name, std::string_view description) noexcept {
    return name == "LOC" || description.find("arch_timer") != std::string_view::npos;
}

std::string row_label(const RowIncrease& row) {
    const bool numeric = !row.row.empty() && core::parse_number<std::uint64_t>(row.row).has_value();
    if (numeric) {
        // "PCI-MSIX-0000:00:04.0 1-edge nvme0q3": the action names come last.
        const auto words = core::split_words(row.description);
        std::string label = "IRQ " + row.row;
        if (!words.empty()) {
            label += " (" + std::string(words.back()) + ")";
        }
        return label;
    }
    if (row.description.empty()) {
        return row.row;
    }
    return row.row + " (" + row.description + ")";
}

std::map<unsigned, CpuTimes> parse_proc_stat_cpus(std::string_view text) {
    std::map<unsigned, CpuTimes> cpus;
    core::for_each_line(text, [&](std::string_view line) {
        const auto words = core::split_words(line);
        if (words.empty() || words[0].size() <= 3 || words[0].substr(0, 3) != "cpu") {
            return;  // "cpu " total, intr, ctxt, ...
        }
        const auto cpu = core::parse_number<std::uint64_t>(words[0].substr(3));
        if (!cpu || *cpu >= core::CpuSet::kMaxCpus) {
            throw core::ParseError("/proc/stat line", trim(line), words[0], "not \"cpu<N>\"");
        }
        if (words.size() < 5) {
            throw core::ParseError("/proc/stat line", trim(line), words[0],
                                   "fewer than 4 time fields");
        }
        std::uint64_t fields[8] = {};
        for (std::size_t i = 1; i < words.size() && i <= 8; ++i) {
            const auto value = core::parse_number<std::uint64_t>(words[i]);
            if (!value) {
                throw core::ParseError("/proc/stat line", trim(line), words[i], "not a number");
            }
            fields[i - 1] = *value;
        }
        cpus[static_cast<unsigned>(*cpu)] = CpuTimes{fields[0], fields[1], fields[2], fields[3],
                                                     fields[4], fields[5], fields[6], fields[7]};
    });
    return cpus;
}

CpuTimes cpu_times_increase(unsigned cpu, const CpuTimes& before, const CpuTimes& after) {
    CpuTimes d;
    const auto field = [&](std::uint64_t CpuTimes::*member, const char* name) {
        if (after.*member < before.*member) {
            throw CounterError("CPU " + std::to_string(cpu) + " " + name +
                               " time went backwards from " + std::to_string(before.*member) +
                               " to " + std::to_string(after.*member));
        }
        d.*member = after.*member - before.*member;
    };
    field(&CpuTimes::user, "user");
    field(&CpuTimes::nice, "nice");
    field(&CpuTimes::system, "system");
    field(&CpuTimes::idle, "idle");
    field(&CpuTimes::iowait, "iowait");
    field(&CpuTimes::irq, "irq");
    field(&CpuTimes::softirq, "softirq");
    field(&CpuTimes::steal, "steal");
    return d;
}

Verdict judge_count(std::uint64_t count, double seconds, RateLimits limits) noexcept {
    if (count <= 1 || seconds <= 0) {
        return Verdict::ok;
    }
    const double rate = static_cast<double>(count) / seconds;
    if (rate > limits.fail_above) {
        return Verdict::fail;
    }
    if (rate > limits.warn_above) {
        return Verdict::warn;
    }
    return Verdict::ok;
}

Verdict judge_share(std::uint64_t part, std::uint64_t total, double warn_above,
                    double fail_above) noexcept {
    if (part <= 1 || total == 0) {
        return Verdict::ok;
    }
    const double percent = 100.0 * static_cast<double>(part) / static_cast<double>(total);
    if (percent > fail_above) {
        return Verdict::fail;
    }
    if (percent > warn_above) {
        return Verdict::warn;
    }
    return Verdict::ok;
}

std::string format_rate(double per_second) {
    char buf[32];
    if (per_second >= 100) {
        std::snprintf(buf, sizeof buf, "%.0f/s", per_second);
    } else {
        std::snprintf(buf, sizeof buf, "%.1f/s", per_second);
    }
    return buf;
}

}  // namespace qc::monitor::tunables
