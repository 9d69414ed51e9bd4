// The group A checks on the machine running the tests: whatever /proc and
// /sys hold, no check may throw and every verdict is well formed. Run once
// as the kernel configured it (on a stock kernel the command line checks
// must say isolation is not configured) and once pretending the last
// online CPU is isolated, so the affinity checks read every real file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>

#include "check/check_context.hpp"
#include "check/check_registry.hpp"

namespace qc::monitor {
namespace {

std::map<std::string, CheckResult> run_all(const CheckContext& ctx) {
    std::map<std::string, CheckResult> results;
    for (const CheckDef& c : boot_and_affinity_checks()) {
        CheckResult r;
        EXPECT_NO_THROW(r = c.run(ctx)) << c.id;
        EXPECT_FALSE(r.summary.empty()) << c.id;
        if (r.status != CheckStatus::skip) {
            EXPECT_FALSE(r.evidence.empty()) << c.id;
        }
        if (r.status == CheckStatus::warn || r.status == CheckStatus::fail) {
            EXPECT_FALSE(r.fix.empty()) << c.id;
        }
        std::cout << "  " << c.id << ": " << to_string(r.status) << ": " << r.summary << "\n";
        results.emplace(c.id, r);
    }
    return results;
}

TEST(BootChecksLive, AsTheKernelIsConfigured) {
    const SystemRoot sys("/");
    ContextOptions options;
    options.interval_seconds = 0;
    const CheckContext ctx = make_check_context(sys, options);
    const auto results = run_all(ctx);
    if (!ctx.isolated_known) {
        // A stock kernel like this VM's: the findings must say so.
        const CheckResult& nohz = results.at("cmdline.nohz_full");
        EXPECT_EQ(nohz.status, CheckStatus::fail);
        EXPECT_THAT(nohz.summary, ::testing::HasSubstr("isolation is not configured"));
        EXPECT_EQ(results.at("tasks.allowed").status, CheckStatus::skip);
    }
}

TEST(BootChecksLive, WithTheLastOnlineCpuIsolated) {
    const SystemRoot sys("/");
    ContextOptions options;
    options.interval_seconds = 0;
    const CheckContext plain = make_check_context(sys, options);
    ASSERT_FALSE(plain.online.empty());
    options.isolated = core::CpuSet{plain.online.end() - 1};
    const CheckContext ctx = make_check_context(sys, options);
    const auto results = run_all(ctx);
    // Real /proc always has tasks and PID 1.
    EXPECT_NE(results.at("tasks.allowed").status, CheckStatus::skip);
    EXPECT_NE(results.at("pid1.affinity").status, CheckStatus::skip);
}

}  // namespace
}  // namespace qc::monitor
