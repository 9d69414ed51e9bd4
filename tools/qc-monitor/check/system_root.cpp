#include "check/system_root.hpp"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "quietcore/core/error.hpp"
#include "quietcore/core/text_file.hpp"

namespace qc::monitor {

namespace fs = std::filesystem;

SystemRoot::SystemRoot(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') {
        root_.pop_back();
    }
    if (root_.empty()) {
        root_ = "/";
    }
}

std::string SystemRoot::host_path(std::string_view system_path) const {
    if (is_live()) {
        return std::string(system_path);
    }
    return root_ + std::string(system_path);
}

std::optional<std::string> SystemRoot::read(std::string_view system_path) const {
    std::optional<std::string> text;
    const std::string host = host_path(system_path);
    try {
        text = core::read_text_file_if_exists(host);
    } catch (const std::exception& e) {
        // Name the system path once, whatever the root: "cannot read
        // /proc/irq/5/smp_affinity: Permission denied".
        std::string reason = e.what();
        if (const std::string prefix = "cannot read " + host + ": "; reason.starts_with(prefix)) {
            reason.erase(0, prefix.size());
        }
        throw core::Error("cannot read " + std::string(system_path) + ": " + reason);
    }
    if (text && recorder_ != nullptr) {
        recorder_->file_read(system_path, *text);
    }
    return text;
}

std::vector<std::string> SystemRoot::list(std::string_view system_path) const {
    std::vector<std::string> names;
    std::error_code ec;
    fs::directory_iterator it(host_path(system_path), ec);
    if (ec) {
        if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
            return names;
        }
        throw core::Error("cannot list " + std::string(system_path) + ": " + ec.message());
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) {
        if (ec) {
            break;  // an entry vanished under us (a /proc/<pid> that exited)
        }
        names.push_back(it->path().filename().string());
    }
    std::sort(names.begin(), names.end());
    if (recorder_ != nullptr) {
        recorder_->directory_listed(system_path);
    }
    return names;
}

bool SystemRoot::exists(std::string_view system_path) const {
    std::error_code ec;
    const fs::file_status status = fs::status(host_path(system_path), ec);
    const bool found = !ec && fs::exists(status);
    if (found && recorder_ != nullptr) {
        // A snapshot must answer exists() as the live system did: keep the
        // directory, or the file with its text.
        if (fs::is_directory(status)) {
            recorder_->directory_listed(system_path);
        } else {
            try {
                (void)read(system_path);
            } catch (const core::Error&) {
                // unreadable: the check that reads it reports that itself
            }
        }
    }
    return found;
}

}  // namespace qc::monitor
