#include "check/check_runner.hpp"

#include <exception>

#include "exit_codes.hpp"

namespace qc::monitor {

namespace {

// The fix for a check that threw: almost always a file it could not read.
constexpr std::string_view kCouldNotCheckFix =
    "run qc-monitor as root; if the file is readable, report this with a `qc-monitor "
    "snapshot` attached";

CheckResult could_not_check(std::string what) {
    return check_fail("could not check: " + what, {}, std::string(kCouldNotCheckFix));
}

void count(CheckCounts& counts, CheckStatus status) noexcept {
    switch (status) {
        case CheckStatus::ok:
            ++counts.ok;
            break;
        case CheckStatus::warn:
            ++counts.warn;
            break;
        case CheckStatus::fail:
            ++counts.fail;
            break;
        case CheckStatus::skip:
            ++counts.skip;
            break;
    }
}

}  // namespace

std::vector<CheckDef> select_checks(const std::vector<CheckDef>& checks,
                                    std::string_view id_prefix) {
    std::vector<CheckDef> selected;
    for (const CheckDef& check : checks) {
        if (check.id.starts_with(id_prefix)) {
            selected.push_back(check);
        }
    }
    return selected;
}

CheckOutcome run_one_check(const CheckDef& check, const CheckContext& ctx) {
    CheckOutcome outcome{std::string(check.id), std::string(check.title), {}};
    if (check.run == nullptr) {
        outcome.result = could_not_check("the check has no code");
        return outcome;
    }
    try {
        outcome.result = check.run(ctx);
    } catch (const std::exception& e) {
        outcome.result = could_not_check(e.what());
    } catch (...) {
        outcome.result = could_not_check("unknown exception");
    }
    return outcome;
}

CheckRun run_checks(const std::vector<CheckDef>& checks, const CheckContext& ctx) {
    CheckRun run;
    run.outcomes.reserve(checks.size());
    for (const CheckDef& check : checks) {
        run.outcomes.push_back(run_one_check(check, ctx));
        count(run.counts, run.outcomes.back().result.status);
    }
    return run;
}

int check_exit_status(const CheckCounts& counts) noexcept {
    if (counts.fail > 0) {
        return kExitChecksFail;
    }
    if (counts.warn > 0) {
        return kExitChecksWarn;
    }
    return kExitChecksOk;
}

}  // namespace qc::monitor
