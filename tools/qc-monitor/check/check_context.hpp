// What every check is given: the root to read, the CPUs that are meant to be
// isolated (from --isolated or derived from the kernel), and counter files
// sampled twice an interval apart for the rate checks.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "check/system_root.hpp"
#include "quietcore/core/cpu_set.hpp"

namespace qc::monitor {

// Counter files read before and after the sampling interval.
inline constexpr std::string_view kSampledFiles[] = {"/proc/interrupts", "/proc/softirqs",
                                                     "/proc/stat", "/proc/schedstat"};

// A snapshot keeps the second reading of each sampled file under this
// directory ("<snapshot>/qc-monitor/after/proc/interrupts") and the interval
// in "<snapshot>/qc-monitor/snapshot.json" ({"interval_seconds": 1.0, ...}),
// with the --isolated it was taken with, if any ("isolated": "2-3").
inline constexpr std::string_view kSnapshotMetaDir = "/qc-monitor";

struct CounterSample {
    std::string before;
    std::string after;
    double seconds = 0;
};

struct CheckContext {
    const SystemRoot* sys = nullptr;

    // The expectation: the CPUs meant to be isolated, never empty when a
    // check runs with isolated_known true.
    core::CpuSet isolated;
    bool isolated_known = false;  // false: none given and none found
    // "--isolated", "--isolated of the snapshot (qc-monitor/snapshot.json)",
    // or the kernel files it came from ("/sys/devices/system/cpu/isolated,
    // /sys/devices/system/cpu/nohz_full": the non-empty ones, or both when
    // both are empty and nothing is isolated).
    std::string isolated_source;
    core::CpuSet online;         // /sys/devices/system/cpu/online
    core::CpuSet housekeeping;   // online - isolated
    std::string arch;            // /proc/sys/kernel/arch: "x86_64", "aarch64"
    std::string kernel_release;  // /proc/sys/kernel/osrelease

    // Sampled counter files by system path; a path is absent when it could
    // not be read twice (missing file, interval 0, snapshot without it).
    std::map<std::string, CounterSample, std::less<>> samples;
    // The interval the samples are apart: --interval on the live system, the
    // snapshot's own from a snapshot; 0 when nothing was sampled.
    double interval_seconds = 0;

    const CounterSample* sample(std::string_view system_path) const {
        const auto it = samples.find(system_path);
        return it == samples.end() ? nullptr : &it->second;
    }
};

struct ContextOptions {
    std::optional<core::CpuSet> isolated;  // --isolated
    double interval_seconds = 1.0;         // live sampling; 0 skips the rate checks
};

// Reads the CPU sets, arch and release, then the sampled files: on the live
// system by reading, sleeping the interval and reading again; from a
// snapshot by reading both copies (options.interval_seconds is then unused).
// Throws core::Error naming the file when /sys/devices/system/cpu/online is
// missing or malformed (nothing can be checked without it), when the
// isolated CPUs must be derived and isolated or nohz_full is malformed, or
// when a snapshot's snapshot.json is malformed.
CheckContext make_check_context(const SystemRoot& sys, const ContextOptions& options);

}  // namespace qc::monitor
