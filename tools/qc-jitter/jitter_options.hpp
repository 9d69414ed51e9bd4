// qc-jitter's command line (the interface agreed with bench/compare-jitter).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "jitter_analysis.hpp"
#include "quietcore/core/cpu_set.hpp"

namespace qc::jitter {

inline constexpr int kExitUsage = 2;  // bad flag or flag value
inline constexpr int kExitFailed = 1;

struct Options {
    std::string cpu_list;
    core::CpuSet cpus;                 // parsed from cpu_list by check_options
    std::optional<unsigned> main_cpu;  // resolved by check_options
    double duration_s = 5.0;
    std::optional<int> rtprio;
    bool isolate = false;
    JitterConfig jitter;
    std::optional<std::string> json_path;
    bool quiet = false;
};

void add_options(CLI::App& app, Options& options);

// Checks that need the machine: parses --cpu-list against the possible and
// online CPUs, resolves the default --main-cpu. Returns "" or a message
// naming the flag and the value.
std::string check_options(Options& options);

}  // namespace qc::jitter
