// Reading the small text files of /proc and /sys, and walking their lines.
// Housekeeping only: these allocate and make syscalls.
#pragma once

#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

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

// The text without leading and trailing spaces, tabs, '\r' and '\n'.
std::string_view trim_space(std::string_view text) noexcept;

// The words of text, split on runs of spaces, tabs, '\r' and '\n', as the
// kernel's /proc tables are laid out.
std::vector<std::string_view> split_words(std::string_view text);

// The whole word as a number in `base`; nullopt when it is empty, has
// anything besides digits (a sign only where T allows one) or overflows T.
template <typename T>
std::optional<T> parse_number(std::string_view word, int base = 10) noexcept {
    T value{};
    const char* const end = word.data() + word.size();
    const auto [stop, ec] = std::from_chars(word.data(), end, value, base);
    if (word.empty() || ec != std::errc{} || stop != end) {
        return std::nullopt;
    }
    return value;
}

}  // namespace qc::core
