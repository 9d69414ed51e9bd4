// A kernel build configuration (/boot/config-<release>, the text of
// `make savedefconfig`'s bigger sibling .config). Pure: tested on text.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qc::monitor::boot {

struct KernelConfig {
    // "CONFIG_NO_HZ_FULL" -> "y"; "# CONFIG_X is not set" -> "n"; strings
    // keep their quotes.
    std::map<std::string, std::string, std::less<>> values;
    // Lines that are neither blank, a comment nor SYMBOL=value (trimmed).
    std::vector<std::string> malformed;

    // The symbol's value; nullopt when the config does not mention it.
    std::optional<std::string> value(std::string_view symbol) const;
    // A malformed line that names the symbol, so a check can say its line
    // is broken instead of calling the symbol unset.
    std::optional<std::string> malformed_line_for(std::string_view symbol) const;
};

// Never throws: malformed lines are kept in `malformed`.
KernelConfig parse_kernel_config(std::string_view text);

}  // namespace qc::monitor::boot
