#include "check/snapshot.hpp"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "check/check_report.hpp"
#include "check/snapshot_recorder.hpp"
#include "quietcore/core/error.hpp"
#include "quietcore/core/text_file.hpp"

namespace qc::monitor {

namespace {

namespace fs = std::filesystem;

std::string utc_now() {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&now, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

// Read past the recorder: the host name goes into snapshot.json, not the tree.
std::string hostname_of(const SystemRoot& source) {
    std::string name =
        core::read_text_file_if_exists(source.host_path("/proc/sys/kernel/hostname")).value_or("");
    while (!name.empty() && name.back() == '\n') {
        name.pop_back();
    }
    return name;
}

// Clears the recorder even when the checks' context throws.
struct RecorderScope {
    SystemRoot& root;
    RecorderScope(SystemRoot& r, ReadRecorder& recorder) : root(r) { root.set_recorder(&recorder); }
    ~RecorderScope() { root.set_recorder(nullptr); }
    RecorderScope(const RecorderScope&) = delete;
    RecorderScope& operator=(const RecorderScope&) = delete;
};

}  // namespace

void check_snapshot_target(const std::string& dir) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        return;
    }
    if (!fs::is_directory(dir, ec)) {
        throw core::Error(dir + ": exists and is not a directory");
    }
    if (!fs::is_empty(dir, ec) || ec) {
        throw core::Error(dir + ": not empty; give a new or empty directory");
    }
}

SnapshotSummary take_snapshot(SystemRoot& source, const ContextOptions& options,
                              const std::vector<CheckDef>& checks, const std::string& dir) {
    check_snapshot_target(dir);
    SnapshotRecorder recorder(source);
    SnapshotSummary summary;
    CheckContext ctx;
    {
        const RecorderScope scope(source, recorder);
        ctx = make_check_context(source, options);
        summary.run = run_checks(checks, ctx);
    }
    recorder.write_to(dir);
    const std::string meta_dir = std::string(kSnapshotMetaDir);
    for (const auto& [path, sample] : ctx.samples) {
        write_under(dir, meta_dir + "/after" + path, sample.after);
    }
    const nlohmann::ordered_json meta = {
        {"interval_seconds", ctx.interval_seconds},
        {"captured_at", utc_now()},
        {"kernel_release", ctx.kernel_release},
        {"hostname", hostname_of(source)},
        {"isolated", options.isolated ? nlohmann::ordered_json(options.isolated->to_list())
                                      : nlohmann::ordered_json(nullptr)},
        {"qc_monitor_checks", check_outcomes_json(summary.run)},
    };
    write_under(dir, meta_dir + "/snapshot.json",
                meta.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
    summary.files = recorder.files().size();
    summary.directories = recorder.directories().size();
    summary.interval_seconds = ctx.interval_seconds;
    return summary;
}

}  // namespace qc::monitor
