// The group B checks on the machine running the tests: whatever its kernel
// offers (no cpufreq, no cpuidle driver, no machinecheck directory in a VM),
// no check may throw, and every verdict is well formed. Run once as the
// kernel configured it and once pretending the last online CPU is isolated,
// so the per-CPU paths read real files too.
#include <gtest/gtest.h>

#include <iostream>

#include "check/check_context.hpp"
#include "check/check_registry.hpp"

namespace qc::monitor {
namespace {

void run_all(const CheckContext& ctx) {
    for (const CheckDef& c : tunable_and_rate_checks()) {
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
    }
}

TEST(TunableChecksLive, AsTheKernelIsConfigured) {
    const SystemRoot sys("/");
    ContextOptions options;
    options.interval_seconds = 0.2;
    const CheckContext ctx = make_check_context(sys, options);
    run_all(ctx);
}

TEST(TunableChecksLive, WithTheLastOnlineCpuIsolated) {
    const SystemRoot sys("/");
    ContextOptions options;
    options.interval_seconds = 0.2;
    const CheckContext plain = make_check_context(sys, options);
    ASSERT_FALSE(plain.online.empty());
    options.isolated = core::CpuSet{plain.online.end() - 1};
    const CheckContext ctx = make_check_context(sys, options);
    run_all(ctx);
}

}  // namespace
}  // namespace qc::monitor
