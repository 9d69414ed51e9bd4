// qc-isolate's command line: what to run, where, and how strictly.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "quietcore/isolation/backend.hpp"

namespace qc::isolate {

inline constexpr int kExitUsage = 2;        // bad flag or flag value
inline constexpr int kExitSetupFailed = 1;  // the isolation could not be set up
inline constexpr int kExitNotFound = 127;   // the command does not exist (as sh does)

struct Options {
    unsigned cpu = 0;
    isolation::StrictMode strict = isolation::StrictMode::log;
    bool oneshot = false;
    std::optional<std::string> report_path;
    unsigned settle_ms = 0;
    std::vector<std::string> command;
};

// Defines the flags on `app`, writing into `options`.
void add_options(CLI::App& app, Options& options);

// Checks that need the machine (the CPU is online); returns "" or a message
// naming the flag.
std::string check_options(const Options& options);

const char* to_string(isolation::StrictMode mode);

}  // namespace qc::isolate
