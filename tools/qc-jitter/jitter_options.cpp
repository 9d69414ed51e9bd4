#include "jitter_options.hpp"

#include <cmath>
#include <sstream>

#include "quietcore/core/error.hpp"
#include "quietcore/core/text_file.hpp"
#include "quietcore/core/thread.hpp"

namespace qc::jitter {

void add_options(CLI::App& app, Options& options) {
    app.add_option("--cpu-list", options.cpu_list, "CPUs to measure, cpulist syntax (e.g. 1,3-5)")
        ->required();
    app.add_option("--main-cpu", options.main_cpu,
                   "housekeeping CPU for the main thread (default: first online CPU not "
                   "measured)");
    app.add_option("--duration", options.duration_s, "seconds to measure, decimal (default 5)");
    app.add_option("--rtprio", options.rtprio, "SCHED_FIFO priority of the measuring threads")
        ->check(CLI::Range(core::fifo_priority_min(), core::fifo_priority_max()));
    app.add_flag("--isolate", options.isolate,
                 "enter soft isolation (log mode) and report kernel entries by cause");
    app.add_option("--bucket-width", options.jitter.bucket_width_ns,
                   "linear histogram bucket width in ns (default 1000)");
    app.add_option("--bucket-count", options.jitter.bucket_count,
                   "linear histogram bucket count (default 64)");
    // At least 1 ns: with a coarse counter (arm64's cntvct_el0 ticks every
    // 16-40 ns) the measured loop cost can be 0, which would let 0 through.
    app.add_option("--threshold", options.jitter.threshold_ns,
                   "record gaps at or above this many ns (default 20000)")
        ->check(CLI::PositiveNumber);
    app.add_option("--max-records", options.jitter.max_records,
                   "records kept per CPU; later gaps are counted as dropped (default 1000)");
    app.add_option("--json", options.json_path, "write the results as JSON to this file");
    app.add_flag("--quiet", options.quiet, "no table on stdout");
}

std::string check_options(Options& options) {
    core::CpuSet possible;
    try {
        possible =
            core::CpuSet::parse_list(core::read_text_file("/sys/devices/system/cpu/possible"));
        options.cpus = core::CpuSet::parse_list(options.cpu_list);
    } catch (const core::Error& e) {
        return std::string("--cpu-list: ") + e.what();
    }
    if (options.cpus.empty()) {
        return "--cpu-list: \"" + options.cpu_list + "\" names no CPU";
    }
    const core::CpuSet online = core::online_cpus();
    for (unsigned cpu : options.cpus.cpus()) {
        if (!possible.contains(cpu)) {
            return "--cpu-list: CPU " + std::to_string(cpu) +
                   " does not exist (possible: " + possible.to_list() + ")";
        }
        if (!online.contains(cpu)) {
            return "--cpu-list: CPU " + std::to_string(cpu) +
                   " is offline (online: " + online.to_list() + ")";
        }
    }
    if (options.main_cpu) {
        if (!online.contains(*options.main_cpu)) {
            return "--main-cpu: CPU " + std::to_string(*options.main_cpu) +
                   " is not online (online: " + online.to_list() + ")";
        }
        if (options.cpus.contains(*options.main_cpu)) {
            return "--main-cpu: CPU " + std::to_string(*options.main_cpu) +
                   " is also in --cpu-list " + options.cpu_list;
        }
    } else {
        const core::CpuSet spare = online - options.cpus;
        if (!spare.empty()) {
            options.main_cpu = static_cast<unsigned>(spare.first());
        }
    }
    if (options.isolate && options.rtprio && !options.main_cpu) {
        // Isolated SCHED_FIFO workers spin while waiting: the main thread
        // needs a CPU of its own.
        return "--isolate: with --rtprio needs a housekeeping CPU outside --cpu-list " +
               options.cpu_list;
    }
    if (!std::isfinite(options.duration_s) || options.duration_s <= 0 ||
        options.duration_s > 86400) {
        return "--duration: " + std::to_string(options.duration_s) + " s is not in (0, 86400]";
    }
    if (options.jitter.bucket_width_ns == 0) {
        return "--bucket-width: must be at least 1 ns, got 0";
    }
    if (options.jitter.bucket_count == 0 || options.jitter.bucket_count > 1'000'000) {
        return "--bucket-count: " + std::to_string(options.jitter.bucket_count) +
               " is not in [1, 1000000]";
    }
    if (options.jitter.max_records > 10'000'000) {
        return "--max-records: " + std::to_string(options.jitter.max_records) +
               " is above 10000000";
    }
    return {};
}

}  // namespace qc::jitter
