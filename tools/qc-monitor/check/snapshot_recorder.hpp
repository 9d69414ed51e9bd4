// Remembers what the checks read, so `qc-monitor snapshot` can copy exactly
// that into a directory which `check --root` then reads the same way.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include "check/system_root.hpp"

namespace qc::monitor {

class SnapshotRecorder : public ReadRecorder {
  public:
    // source: the root being read, to find the subdirectories of a listed directory.
    explicit SnapshotRecorder(const SystemRoot& source) : source_(&source) {}

    // The first read of a path wins: the sampled counter files are read
    // again after the interval, and that second reading is the "after".
    void file_read(std::string_view system_path, std::string_view text) override;
    // Keeps the directory and its subdirectories (as empty directories), so
    // listing it in the snapshot names at least the directories it named
    // live, even those whose files nobody read.
    void directory_listed(std::string_view system_path) override;

    const std::map<std::string, std::string, std::less<>>& files() const { return files_; }
    const std::set<std::string, std::less<>>& directories() const { return directories_; }

    // Creates every recorded directory and file under dir. Throws
    // core::Error naming the path that could not be written.
    void write_to(const std::string& dir) const;

  private:
    const SystemRoot* source_;
    std::map<std::string, std::string, std::less<>> files_;
    std::set<std::string, std::less<>> directories_;
};

// Writes text to dir + system_path, creating the parents. Throws
// core::Error naming the file; rejects paths that are not absolute or that
// climb out with "..".
void write_under(const std::string& dir, std::string_view system_path, std::string_view text);

}  // namespace qc::monitor
