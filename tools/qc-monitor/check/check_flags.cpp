#include "check/check_flags.hpp"

#include <charconv>
#include <system_error>

#include "quietcore/core/error.hpp"

namespace qc::monitor {

namespace {

// "" when text is a usable expectation, else why not (naming the bad token).
std::string check_isolated_list(const std::string& text) {
    try {
        if (core::CpuSet::parse_list(text).empty()) {
            return "empty cpulist: give the CPUs meant to be isolated, e.g. 2-3";
        }
        return {};
    } catch (const core::ParseError& e) {
        return e.what();
    }
}

// "" when text is a usable interval, else why not (CLI11's own range check
// prints its bounds with six decimals).
std::string check_interval(const std::string& text) {
    double seconds = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, seconds);
    if (ec != std::errc() || ptr != end || text.empty()) {
        return "\"" + text + "\" is not a number of seconds";
    }
    if (!(seconds >= 0 && seconds <= kMaxIntervalSeconds)) {  // NaN too
        return "\"" + text + "\": give 0 to " + std::to_string(int(kMaxIntervalSeconds)) +
               " seconds";
    }
    return {};
}

}  // namespace

CLI::Option* add_isolated_option(CLI::App& cmd, std::optional<std::string>& isolated) {
    return cmd
        .add_option("--isolated", isolated,
                    "The CPUs meant to be isolated, as a cpulist (e.g. 2-3,6-7); default: "
                    "the kernel's isolated and nohz_full CPUs")
        ->check(CLI::Validator(check_isolated_list, "CPULIST"));
}

CLI::Option* add_interval_option(CLI::App& cmd, double& interval_seconds) {
    return cmd
        .add_option("--interval", interval_seconds,
                    "Seconds between the two readings of the counter files the rate checks "
                    "use; 0 skips the rate checks (a snapshot keeps its own)")
        ->check(CLI::Validator(check_interval, "SECONDS"))
        ->capture_default_str();
}

std::optional<core::CpuSet> isolated_cpus(const std::optional<std::string>& isolated) {
    if (!isolated) {
        return std::nullopt;
    }
    return core::CpuSet::parse_list(*isolated);
}

}  // namespace qc::monitor
