#include "check/check_context.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "quietcore/core/error.hpp"
#include "quietcore/core/text_file.hpp"

namespace qc::monitor {

namespace {

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
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

// The snapshot's interval, or nullopt when it has no meta file.
std::optional<double> snapshot_interval(const SystemRoot& sys) {
    const auto meta =
        core::read_text_file_if_exists(sys.host_path(kSnapshotMetaDir) + "/snapshot.json");
    if (!meta) {
        return std::nullopt;
    }
    const auto doc = nlohmann::json::parse(*meta, nullptr, false);
    if (doc.is_discarded() || !doc.contains("interval_seconds") ||
        !doc["interval_seconds"].is_number()) {
        throw core::Error(std::string(kSnapshotMetaDir) +
                          "/snapshot.json: not JSON with a number \"interval_seconds\"");
    }
    return doc["interval_seconds"].get<double>();
}

void sample_counters(const SystemRoot& sys, const ContextOptions& options, CheckContext& ctx) {
    if (sys.is_live()) {
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
                ctx.samples.emplace(path, CounterSample{std::move(text), std::move(*after),
                                                        options.interval_seconds});
            }
        }
        return;
    }
    const auto interval = snapshot_interval(sys);
    if (!interval || *interval <= 0) {
        return;
    }
    const SystemRoot after_root(sys.host_path(kSnapshotMetaDir) + "/after");
    for (std::string_view path : kSampledFiles) {
        auto before = sys.read(path);
        auto after = after_root.read(path);
        if (before && after) {
            ctx.samples.emplace(path,
                                CounterSample{std::move(*before), std::move(*after), *interval});
        }
    }
}

}  // namespace

CheckContext make_check_context(const SystemRoot& sys, const ContextOptions& options) {
    CheckContext ctx;
    ctx.sys = &sys;
    const auto online = read_cpu_list(sys, "/sys/devices/system/cpu/online");
    if (!online) {
        throw core::Error("/sys/devices/system/cpu/online is missing under " + sys.root());
    }
    ctx.online = *online;
    if (options.isolated) {
        ctx.isolated = *options.isolated;
        ctx.isolated_source = "--isolated";
    } else {
        const auto isolcpus = read_cpu_list(sys, "/sys/devices/system/cpu/isolated");
        const auto nohz_full = read_cpu_list(sys, "/sys/devices/system/cpu/nohz_full");
        ctx.isolated = isolcpus.value_or(core::CpuSet{}) | nohz_full.value_or(core::CpuSet{});
        ctx.isolated_source = "/sys/devices/system/cpu/isolated, /sys/devices/system/cpu/nohz_full";
    }
    ctx.isolated_known = !ctx.isolated.empty();
    ctx.housekeeping = ctx.online - ctx.isolated;
    ctx.arch = trimmed(sys.read("/proc/sys/kernel/arch").value_or(""));
    ctx.kernel_release = trimmed(sys.read("/proc/sys/kernel/osrelease").value_or(""));
    sample_counters(sys, options, ctx);
    return ctx;
}

}  // namespace qc::monitor
