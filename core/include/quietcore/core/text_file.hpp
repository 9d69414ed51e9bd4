// Reading the small text files of /proc and /sys, and walking their lines.
// Housekeeping only: these allocate and make syscalls.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace qc::core {

// The whole file. Throws Error naming the path and the reason.
std::string read_text_file(const std::string& path);

// The whole file, or nullopt when it does not exist (ENOENT); other failures
// throw Error naming the path.
std::optional<std::string> read_text_file_if_exists(const std::string& path);

// Calls fn(line) for each line of text, without its '\n'; a last line with no
// newline counts too. fn may return void, or bool: false stops the walk.
template <typename Fn>
void for_each_line(std::string_view text, Fn&& fn) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        const std::size_t eol = text.find('\n', pos);
        const std::size_t end = eol == std::string_view::npos ? text.size() : eol;
        const std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        if constexpr (std::is_same_v<decltype(fn(line)), bool>) {
            if (!fn(line)) {
                return;
            }
        } else {
            fn(line);
        }
    }
}

}  // namespace qc::core
