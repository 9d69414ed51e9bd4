// Runs checks on a context: one check's exception becomes its own failure,
// never the run's, and the verdicts are counted into the exit status.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "check/check_context.hpp"
#include "check/check_registry.hpp"
#include "check/check_result.hpp"

namespace qc::monitor {

// One check's verdict with the id and title it was registered under.
struct CheckOutcome {
    std::string id;
    std::string title;
    CheckResult result;
};

struct CheckCounts {
    int ok = 0;
    int warn = 0;
    int fail = 0;
    int skip = 0;

    int total() const noexcept { return ok + warn + fail + skip; }
};

struct CheckRun {
    std::vector<CheckOutcome> outcomes;  // in the order the checks were given
    CheckCounts counts;
};

// The checks whose id starts with id_prefix ("cmdline", "rates.softirqs"), in
// their order; all of them for an empty prefix.
std::vector<CheckDef> select_checks(const std::vector<CheckDef>& checks,
                                    std::string_view id_prefix);

// Runs one check. A std::exception it throws (a file it could not read)
// turns into a fail "could not check: <what>".
CheckOutcome run_one_check(const CheckDef& check, const CheckContext& ctx);

CheckRun run_checks(const std::vector<CheckDef>& checks, const CheckContext& ctx);

// kExitChecksFail when some check failed, else kExitChecksWarn when some
// warned, else kExitChecksOk (skips count as ok).
int check_exit_status(const CheckCounts& counts) noexcept;

}  // namespace qc::monitor
