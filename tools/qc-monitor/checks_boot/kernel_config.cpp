#include "checks_boot/kernel_config.hpp"

#include "quietcore/core/text_file.hpp"

namespace qc::monitor::boot {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

bool is_symbol(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    for (const char c : s) {
        const bool ok =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) {
            return false;
        }
    }
    return true;
}

// "# CONFIG_X is not set" -> "CONFIG_X", or nullopt for any other comment.
std::optional<std::string_view> not_set_symbol(std::string_view line) {
    constexpr std::string_view kPrefix = "# ";
    constexpr std::string_view kSuffix = " is not set";
    if (line.size() <= kPrefix.size() + kSuffix.size() || line.substr(0, 2) != kPrefix ||
        line.substr(line.size() - kSuffix.size()) != kSuffix) {
        return std::nullopt;
    }
    const std::string_view symbol =
        line.substr(kPrefix.size(), line.size() - kPrefix.size() - kSuffix.size());
    if (!is_symbol(symbol)) {
        return std::nullopt;
    }
    return symbol;
}

}  // namespace

std::optional<std::string> KernelConfig::value(std::string_view symbol) const {
    const auto it = values.find(symbol);
    if (it == values.end()) {
        return std::nullopt;
    }
    return it->second;
}

std::optional<std::string> KernelConfig::malformed_line_for(std::string_view symbol) const {
    for (const std::string& line : malformed) {
        const std::size_t at = line.find(symbol);
        if (at == std::string::npos) {
            continue;
        }
        // The whole symbol, not the prefix of a longer one.
        const std::size_t after = at + symbol.size();
        const bool whole = after == line.size() || !is_symbol(line.substr(after, 1));
        if (whole) {
            return line;
        }
    }
    return std::nullopt;
}

KernelConfig parse_kernel_config(std::string_view text) {
    KernelConfig config;
    core::for_each_line(text, [&config](std::string_view raw) {
        const std::string_view line = trim(raw);
        if (line.empty()) {
            return;
        }
        if (line.front() == '#') {
            if (const auto symbol = not_set_symbol(line)) {
                config.values.insert_or_assign(std::string(*symbol), std::string(1, 'n'));
            }
            return;
        }
        const std::size_t eq = line.find('=');
        if (eq == std::string_view::npos || !is_symbol(line.substr(0, eq)) ||
            eq + 1 == line.size()) {
            config.malformed.emplace_back(line);
            return;
        }
        config.values.insert_or_assign(std::string(line.substr(0, eq)),
                                       std::string(line.substr(eq + 1)));
    });
    return config;
}

}  // namespace qc::monitor::boot
