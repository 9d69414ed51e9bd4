// A temporary directory for the tests, optionally a copy of a fixture tree,
// removed at the end of the test.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace qc::monitor::testing {

// tools/qc-monitor/tests/fixtures, from the environment meson sets.
inline std::string fixtures_dir() {
    const char* dir = std::getenv("QC_MONITOR_FIXTURES");
    if (dir == nullptr) {
        throw std::runtime_error("QC_MONITOR_FIXTURES is not set");
    }
    return dir;
}

class TempTree {
  public:
    TempTree() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "qc-monitor-test-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        path_ = pattern;
    }
    // A copy of some parts of fixture `name` ("tuned"): the files or
    // directories, relative to its root, a test needs (copying all of a
    // big fixture for every test is slow).
    TempTree(std::string_view fixture, const std::vector<std::string>& parts) : TempTree() {
        for (const std::string& part : parts) {
            const std::filesystem::path to = *this / part;
            std::filesystem::create_directories(to.parent_path());
            std::filesystem::copy(fixtures_dir() + "/" + std::string(fixture) + "/" + part, to,
                                  std::filesystem::copy_options::recursive);
        }
    }
    ~TempTree() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempTree(const TempTree&) = delete;
    TempTree& operator=(const TempTree&) = delete;

    const std::string& path() const { return path_; }
    std::string operator/(std::string_view rel) const { return path_ + "/" + std::string(rel); }

    void write(std::string_view rel, std::string_view text) const {
        const std::filesystem::path file = *this / rel;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
    }
    void remove(std::string_view rel) const { std::filesystem::remove_all(*this / rel); }

  private:
    std::string path_;
};

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot open " + path);
    }
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace qc::monitor::testing
