#include "check/check_context.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "quietcore/core/error.hpp"
#include "quietcore/core/text_file.hpp"

namespace qc::monitor {

namespace {

constexpr std::string_view kOnlinePath = "/sys/devices/system/cpu/online";
constexpr std::string_view kIsolatedPath = "/sys/devices/system/cpu/isolated";
constexpr std::string_view kNohzFullPath = "/sys/devices/system/cpu/nohz_full";

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t' ||
                             text.back() == '\r')) {
        text.pop_back();
    }
    return text;
}

std::optional<core::CpuSet> read_cpu_list(const SystemRoot& sys, std::string_view path) {
    const auto text = sys.read(path);
    if (!text) {
        return std::nullopt;
    }
    const std::string value = trimmed(*text);
    if (value == "(null)") {
        return core::CpuSet{};  // nohz_full without nohz_full= at boot
    }
    try {
        return core::CpuSet::parse_list(value);
    } catch (const core::ParseError& e) {
        throw core::Error(std::string(path) + ": " + e.what());
    }
}

// What a snapshot says about itself; nullopt when it has no meta file (a
// hand-made tree, or the live system).
struct SnapshotMeta {
    double interval_seconds = 0;
    std::optional<core::CpuSet> isolated;  // the snapshot's --isolated
};

std::optional<SnapshotMeta> read_snapshot_meta(const SystemRoot& sys) {
    if (sys.is_live()) {
        return std::nullopt;
    }
    const std::string name = std::string(kSnapshotMetaDir).substr(1) + "/snapshot.json";
    // Read directly, not through sys: the meta file is no system file, and a
    // snapshot of a snapshot writes its own.
    const auto meta =
        core::read_text_file_if_exists(sys.host_path(kSnapshotMetaDir) + "/snapshot.json");
    if (!meta) {
        return std::nullopt;
    }
    const auto doc = nlohmann::json::parse(*meta, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("interval_seconds") ||
        !doc["interval_seconds"].is_number()) {
        throw core::Error(name + ": not JSON with a number \"interval_seconds\"");
    }
    SnapshotMeta result;
    result.interval_seconds = doc["interval_seconds"].get<double>();
    if (doc.contains("isolated") && !doc["isolated"].is_null()) {
        if (!doc["isolated"].is_string()) {
            throw core::Error(name + ": \"isolated\" is not a cpulist string");
        }
        try {
            result.isolated = core::CpuSet::parse_list(doc["isolated"].get<std::string>());
        } catch (const core::ParseError& e) {
            throw core::Error(name + ": \"isolated\": " + e.what());
        }
    }
    return result;
}

// The kernel's own isolation: isolcpus= and nohz_full= CPUs.
void derive_isolated(const SystemRoot& sys, CheckContext& ctx) {
    try {
        const auto isolcpus = read_cpu_list(sys, kIsolatedPath).value_or(core::CpuSet{});
        const auto nohz_full = read_cpu_list(sys, kNohzFullPath).value_or(core::CpuSet{});
        ctx.isolated = isolcpus | nohz_full;
        if (!isolcpus.empty() && nohz_full.empty()) {
            ctx.isolated_source = kIsolatedPath;
        } else if (isolcpus.empty() && !nohz_full.empty()) {
            ctx.isolated_source = kNohzFullPath;
        } else {
            ctx.isolated_source = std::string(kIsolatedPath) + ", " + std::string(kNohzFullPath);
        }
    } catch (const core::Error& e) {
        // Without the expectation nothing can be judged; the operator can still give it.
        throw core::Error(std::string(e.what()) +
                          "; give the isolated CPUs with --isolated to check anyway");
    }
}

void sample_live(const SystemRoot& sys, const ContextOptions& options, CheckContext& ctx) {
    if (options.interval_seconds <= 0) {
        return;
    }
    std::map<std::string, std::string, std::less<>> before;
    for (std::string_view path : kSampledFiles) {
        if (auto text = sys.read(path)) {
            before.emplace(path, std::move(*text));
        }
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(options.interval_seconds));
    for (auto& [path, text] : before) {
        if (auto after = sys.read(path)) {
            ctx.samples.emplace(
                path, CounterSample{std::move(text), std::move(*after), options.interval_seconds});
        }
    }
    ctx.interval_seconds = options.interval_seconds;
}

void sample_snapshot(const SystemRoot& sys, double interval, CheckContext& ctx) {
    if (interval <= 0) {
        return;
    }
    const SystemRoot after_root(sys.host_path(kSnapshotMetaDir) + "/after");
    for (std::string_view path : kSampledFiles) {
        auto before = sys.read(path);
        auto after = after_root.read(path);
        if (before && after) {
            ctx.samples.emplace(path,
                                CounterSample{std::move(*before), std::move(*after), interval});
        }
    }
    ctx.interval_seconds = interval;
}

}  // namespace

CheckContext make_check_context(const SystemRoot& sys, const ContextOptions& options) {
    CheckContext ctx;
    ctx.sys = &sys;
    const auto online = read_cpu_list(sys, kOnlinePath);
    if (!online) {
        throw core::Error(std::string(kOnlinePath) + " is missing under " + sys.root());
    }
    ctx.online = *online;
    const auto meta = read_snapshot_meta(sys);
    if (options.isolated) {
        ctx.isolated = *options.isolated;
        ctx.isolated_source = "--isolated";
    } else if (meta && meta->isolated) {
        ctx.isolated = *meta->isolated;
        ctx.isolated_source = "--isolated of the snapshot (qc-monitor/snapshot.json)";
    } else {
        derive_isolated(sys, ctx);
    }
    ctx.isolated_known = !ctx.isolated.empty();
    ctx.housekeeping = ctx.online - ctx.isolated;
    ctx.arch = trimmed(sys.read("/proc/sys/kernel/arch").value_or(""));
    ctx.kernel_release = trimmed(sys.read("/proc/sys/kernel/osrelease").value_or(""));
    if (sys.is_live()) {
        sample_live(sys, options, ctx);
    } else if (meta) {
        sample_snapshot(sys, meta->interval_seconds, ctx);
    }
    return ctx;
}

}  // namespace qc::monitor
