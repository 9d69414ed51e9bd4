#include "quietcore/core/text_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "quietcore/core/error.hpp"

namespace qc::core {

namespace {

struct FileCloser {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

}  // namespace

std::optional<std::string> read_text_file_if_exists(const std::string& path) {
    std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "re"));
    if (!file) {
        const int err = errno;
        if (err == ENOENT) {
            return std::nullopt;
        }
        throw Error("cannot read " + path + ": " + std::strerror(err));
    }
    std::string text;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, file.get())) > 0) {
        text.append(buf, n);
    }
    if (std::ferror(file.get()) != 0) {
        throw Error("cannot read " + path + ": " + std::strerror(errno));
    }
    return text;
}

std::string read_text_file(const std::string& path) {
    std::optional<std::string> text = read_text_file_if_exists(path);
    if (!text) {
        throw Error("cannot read " + path + ": " + std::strerror(ENOENT));
    }
    return *std::move(text);
}

namespace {

bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

}  // namespace

std::string_view trim_space(std::string_view text) noexcept {
    while (!text.empty() && is_space(text.front())) {
        text.remove_prefix(1);
    }
    while (!text.empty() && is_space(text.back())) {
        text.remove_suffix(1);
    }
    return text;
}

std::vector<std::string_view> split_words(std::string_view text) {
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_space(text[i])) {
            ++i;
        }
        const std::size_t start = i;
        while (i < text.size() && !is_space(text[i])) {
            ++i;
        }
        if (i > start) {
            words.push_back(text.substr(start, i - start));
        }
    }
    return words;
}

}  // namespace qc::core
