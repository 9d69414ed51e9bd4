// One health check's verdict, with the evidence it rests on and the fix.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace qc::monitor {

enum class CheckStatus { ok, warn, fail, skip };

std::string_view to_string(CheckStatus status) noexcept;

// A file the check read and the value it found there (trimmed, or the
// relevant excerpt: "isolcpus=domain,2-3" of /proc/cmdline).
struct Evidence {
    std::string path;
    std::string value;
};

struct CheckResult {
    CheckStatus status = CheckStatus::skip;
    // One sentence saying what was found; for skip, why the check could not run.
    std::string summary;
    std::vector<Evidence> evidence;
    // One line telling the operator what to change; empty for ok and skip.
    std::string fix;
};

inline CheckResult check_ok(std::string summary, std::vector<Evidence> evidence = {}) {
    return {CheckStatus::ok, std::move(summary), std::move(evidence), {}};
}
inline CheckResult check_warn(std::string summary, std::vector<Evidence> evidence,
                              std::string fix) {
    return {CheckStatus::warn, std::move(summary), std::move(evidence), std::move(fix)};
}
inline CheckResult check_fail(std::string summary, std::vector<Evidence> evidence,
                              std::string fix) {
    return {CheckStatus::fail, std::move(summary), std::move(evidence), std::move(fix)};
}
inline CheckResult check_skip(std::string reason, std::vector<Evidence> evidence = {}) {
    return {CheckStatus::skip, std::move(reason), std::move(evidence), {}};
}

}  // namespace qc::monitor
