#include "check/snapshot_recorder.hpp"

#include <filesystem>
#include <fstream>
#include <system_error>

#include "quietcore/core/error.hpp"

namespace qc::monitor {

namespace {

namespace fs = std::filesystem;

// dir + system_path, refusing anything that would land outside dir.
fs::path target_path(const std::string& dir, std::string_view system_path) {
    const fs::path path(system_path);
    if (!path.is_absolute()) {
        throw core::Error("snapshot: not an absolute path: " + std::string(system_path));
    }
    for (const fs::path& part : path) {
        if (part == "..") {
            throw core::Error("snapshot: path climbs with \"..\": " + std::string(system_path));
        }
    }
    return fs::path(dir) / path.relative_path();
}

std::string child_of(std::string_view dir, std::string_view name) {
    std::string path(dir);
    if (path.empty() || path.back() != '/') {
        path += '/';
    }
    return path + std::string(name);
}

}  // namespace

void SnapshotRecorder::file_read(std::string_view system_path, std::string_view text) {
    files_.emplace(std::string(system_path), std::string(text));  // keeps an earlier read
}

void SnapshotRecorder::directory_listed(std::string_view system_path) {
    if (!directories_.emplace(system_path).second) {
        return;
    }
    // Straight from the file system: source_->list() would report to us again.
    std::error_code ec;
    for (fs::directory_iterator it(source_->host_path(system_path), ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
        std::error_code type_ec;
        if (it->is_directory(type_ec)) {  // follows symlinks: /sys/class/net/eth0
            directories_.insert(child_of(system_path, it->path().filename().string()));
        }
    }
}

void SnapshotRecorder::write_to(const std::string& dir) const {
    for (const std::string& path : directories_) {
        std::error_code ec;
        fs::create_directories(target_path(dir, path), ec);
        if (ec) {
            throw core::Error("snapshot: cannot create " + target_path(dir, path).string() + ": " +
                              ec.message());
        }
    }
    for (const auto& [path, text] : files_) {
        write_under(dir, path, text);
    }
}

void write_under(const std::string& dir, std::string_view system_path, std::string_view text) {
    const fs::path target = target_path(dir, system_path);
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) {
        throw core::Error("snapshot: cannot create " + target.parent_path().string() + ": " +
                          ec.message());
    }
    std::ofstream file(target, std::ios::binary | std::ios::trunc);
    file.write(text.data(), static_cast<std::streamsize>(text.size()));
    file.close();
    if (!file) {
        throw core::Error("snapshot: cannot write " + target.string());
    }
}

}  // namespace qc::monitor
