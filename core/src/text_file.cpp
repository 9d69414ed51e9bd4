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

}  // namespace qc::core
