// Where qc-monitor reads /proc, /sys and /boot: the live system ("/") or a
// snapshot directory mirroring those paths (`qc-monitor snapshot`). Checks
// name files by their system path ("/proc/cmdline"), so evidence reads the
// same whichever root they came from.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qc::monitor {

// Told about every file read and directory listed, so `snapshot` copies
// exactly what the checks looked at.
class ReadRecorder {
  public:
    virtual ~ReadRecorder() = default;
    virtual void file_read(std::string_view system_path, std::string_view text) = 0;
    virtual void directory_listed(std::string_view system_path) = 0;
};

class SystemRoot {
  public:
    explicit SystemRoot(std::string root = "/");

    const std::string& root() const noexcept { return root_; }
    bool is_live() const noexcept { return root_ == "/"; }
    // "<root>/proc/cmdline" for "/proc/cmdline".
    std::string host_path(std::string_view system_path) const;

    // The file's text, or nullopt when it does not exist. Other failures
    // (EACCES, EIO, a directory) throw core::Error naming the system path.
    std::optional<std::string> read(std::string_view system_path) const;
    // Entry names of a directory, sorted, without "." and ".."; empty when
    // the directory does not exist.
    std::vector<std::string> list(std::string_view system_path) const;
    // Whether the path exists; with a recorder set, an existing directory is
    // recorded as listed and an existing file as read.
    bool exists(std::string_view system_path) const;

    void set_recorder(ReadRecorder* recorder) noexcept { recorder_ = recorder; }

  private:
    std::string root_;
    ReadRecorder* recorder_ = nullptr;
};

}  // namespace qc::monitor
