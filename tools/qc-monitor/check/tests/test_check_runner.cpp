// The runner with a test-only list of checks: order, counts, exit status,
// exceptions turned into failures, the --only prefix; and the registry's
// promises (unique, well-formed ids) for whatever checks it holds.
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

#include "check/check_registry.hpp"
#include "check/check_runner.hpp"
#include "exit_codes.hpp"
#include "quietcore/core/error.hpp"

namespace qc::monitor {
namespace {

CheckResult ok_check(const CheckContext&) {
    return check_ok("all fine", {{"/proc/cmdline", "nohz_full=2-3"}});
}
CheckResult warn_check(const CheckContext&) {
    return check_warn("a little off", {{"/proc/sys/vm/stat_interval", "1"}}, "raise it");
}
CheckResult fail_check(const CheckContext&) {
    return check_fail("broken", {{"/proc/cmdline", "quiet"}}, "add nohz_full=2-3");
}
CheckResult skip_check(const CheckContext&) {
    return check_skip("no isolated CPUs given");
}
CheckResult throwing_check(const CheckContext&) {
    throw core::Error("cannot read /proc/irq/5/smp_affinity_list: Permission denied");
}
CheckResult throwing_other(const CheckContext&) {
    throw std::out_of_range("vector index 9");
}
CheckResult throwing_int(const CheckContext&) {
    throw 42;
}
// Reads the context, so the runner is shown to pass it through.
CheckResult isolated_echo(const CheckContext& ctx) {
    return check_ok("isolated " + ctx.isolated.to_list());
}

CheckContext test_context() {
    CheckContext ctx;
    ctx.isolated = core::CpuSet::parse_list("2-3");
    ctx.isolated_known = true;
    return ctx;
}

TEST(CheckRunner, KeepsOrderIdsTitlesAndCounts) {
    const std::vector<CheckDef> checks = {{"a.ok", "A ok", ok_check},
                                          {"b.warn", "B warns", warn_check},
                                          {"a.skip", "A skips", skip_check},
                                          {"c.echo", "C echoes", isolated_echo}};
    const CheckRun run = run_checks(checks, test_context());
    ASSERT_EQ(run.outcomes.size(), 4u);
    EXPECT_EQ(run.outcomes[0].id, "a.ok");
    EXPECT_EQ(run.outcomes[1].title, "B warns");
    EXPECT_EQ(run.outcomes[1].result.fix, "raise it");
    EXPECT_EQ(run.outcomes[2].result.status, CheckStatus::skip);
    EXPECT_EQ(run.outcomes[3].result.summary, "isolated 2-3");
    EXPECT_EQ(run.counts.ok, 2);
    EXPECT_EQ(run.counts.warn, 1);
    EXPECT_EQ(run.counts.fail, 0);
    EXPECT_EQ(run.counts.skip, 1);
    EXPECT_EQ(run.counts.total(), 4);
}

TEST(CheckRunner, ExceptionBecomesThatChecksFailureOnly) {
    const std::vector<CheckDef> checks = {{"x.throws", "throws", throwing_check},
                                          {"x.ok", "fine", ok_check},
                                          {"x.range", "std exception", throwing_other},
                                          {"x.int", "not std", throwing_int},
                                          {"x.null", "no code", nullptr}};
    const CheckRun run = run_checks(checks, test_context());
    ASSERT_EQ(run.outcomes.size(), 5u);
    const CheckResult& thrown = run.outcomes[0].result;
    EXPECT_EQ(thrown.status, CheckStatus::fail);
    EXPECT_EQ(thrown.summary,
              "could not check: cannot read /proc/irq/5/smp_affinity_list: Permission denied");
    EXPECT_FALSE(thrown.fix.empty());
    EXPECT_EQ(run.outcomes[1].result.status, CheckStatus::ok);
    EXPECT_EQ(run.outcomes[2].result.summary, "could not check: vector index 9");
    EXPECT_EQ(run.outcomes[3].result.status, CheckStatus::fail);
    EXPECT_EQ(run.outcomes[4].result.status, CheckStatus::fail);
    EXPECT_EQ(run.counts.fail, 4);
    EXPECT_EQ(run.counts.ok, 1);
}

TEST(CheckRunner, ExitStatusIsTheWorstVerdict) {
    EXPECT_EQ(check_exit_status({}), kExitChecksOk);
    EXPECT_EQ(check_exit_status({.ok = 3, .skip = 2}), kExitChecksOk);
    EXPECT_EQ(check_exit_status({.ok = 3, .warn = 1, .skip = 2}), kExitChecksWarn);
    EXPECT_EQ(check_exit_status({.ok = 3, .warn = 1, .fail = 1}), kExitChecksFail);
    EXPECT_EQ(check_exit_status({.fail = 1}), kExitChecksFail);
    EXPECT_EQ(kExitChecksOk, 0);
    EXPECT_EQ(kExitChecksWarn, 1);
    EXPECT_EQ(kExitChecksFail, 2);
    EXPECT_EQ(kExitCouldNotRun, 3);
}

TEST(CheckRunner, ExitStatusOfARun) {
    const CheckRun warned =
        run_checks({{"a", "", ok_check}, {"b", "", warn_check}, {"c", "", skip_check}}, {});
    EXPECT_EQ(check_exit_status(warned.counts), kExitChecksWarn);
    const CheckRun failed = run_checks({{"a", "", warn_check}, {"b", "", fail_check}}, {});
    EXPECT_EQ(check_exit_status(failed.counts), kExitChecksFail);
    const CheckRun thrown = run_checks({{"a", "", ok_check}, {"b", "", throwing_check}}, {});
    EXPECT_EQ(check_exit_status(thrown.counts), kExitChecksFail);
}

TEST(CheckRunner, OnlyKeepsTheIdPrefixInOrder) {
    const std::vector<CheckDef> checks = {{"cmdline.nohz_full", "", ok_check},
                                          {"rates.irq", "", ok_check},
                                          {"cmdline.isolcpus", "", ok_check},
                                          {"cmdlinex", "", ok_check}};
    const auto cmdline = select_checks(checks, "cmdline.");
    ASSERT_EQ(cmdline.size(), 2u);
    EXPECT_EQ(cmdline[0].id, "cmdline.nohz_full");
    EXPECT_EQ(cmdline[1].id, "cmdline.isolcpus");
    EXPECT_EQ(select_checks(checks, "cmdline").size(), 3u);
    EXPECT_EQ(select_checks(checks, "rates.irq").size(), 1u);
    EXPECT_TRUE(select_checks(checks, "nope").empty());
    EXPECT_EQ(select_checks(checks, "").size(), 4u);
}

// Whatever the groups register: ids unique, dotted lowercase, titled, with code.
TEST(CheckRegistry, IdsAreUniqueAndWellFormed) {
    std::set<std::string_view> seen;
    for (const CheckDef& check : all_checks()) {
        SCOPED_TRACE(std::string(check.id));
        EXPECT_TRUE(seen.insert(check.id).second) << "duplicate id";
        EXPECT_NE(check.id.find('.'), std::string_view::npos) << "id needs an area prefix";
        for (char c : check.id) {
            EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_')
                << "bad character '" << c << "'";
        }
        EXPECT_FALSE(check.title.empty());
        EXPECT_NE(check.run, nullptr);
    }
}

}  // namespace
}  // namespace qc::monitor
