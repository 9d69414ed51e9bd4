// Flags `check` and `snapshot` share, validated while CLI11 parses so a bad
// value is a parse error naming the flag (exit kExitCouldNotRun).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "quietcore/core/cpu_set.hpp"

namespace qc::monitor {

// Longest --interval accepted: sampling is a sleep, not a monitoring loop.
inline constexpr double kMaxIntervalSeconds = 3600;

// --isolated CPUS: a non-empty cpulist ("2-3,6-7").
CLI::Option* add_isolated_option(CLI::App& cmd, std::optional<std::string>& isolated);
// --interval SECONDS: 0 .. kMaxIntervalSeconds, default as given.
CLI::Option* add_interval_option(CLI::App& cmd, double& interval_seconds);

// The CPU set of a validated --isolated, nullopt when not given.
std::optional<core::CpuSet> isolated_cpus(const std::optional<std::string>& isolated);

}  // namespace qc::monitor
