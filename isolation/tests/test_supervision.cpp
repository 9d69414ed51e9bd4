#include <errno.h>
#include <gtest/gtest.h>

#include "emulated.hpp"
#include "quietcore/isolation/kernel_backend.hpp"
#include "quietcore/isolation/supervision.hpp"

namespace qc::isolation {
namespace {

// qemu-user does not implement the seccomp syscall (ENOSYS): no supervisor can start.
constexpr const char* kNoSeccomp = "qemu-user has no seccomp syscall (ENOSYS)";

TEST(BreakCounts, SubtractKeepsSyscallAndGrowth) {
    const BreakCounts before{{"syscall", 3}, {"irq", 10}, {"preemption", 2}};
    const BreakCounts after{{"syscall", 3}, {"irq", 14}, {"preemption", 2}, {"migration", 1}};
    EXPECT_EQ(subtract(after, before), (BreakCounts{{"syscall", 0}, {"irq", 4}, {"migration", 1}}));
}

TEST(Supervision, DetectsWhatTheRunningKernelHas) {
    EXPECT_EQ(detect_backend(),
              kernel_task_isolation_present() ? BackendKind::kernel : BackendKind::soft);
}

TEST(Supervision, KernelBackEndOnAStockKernelIsRefusedWithEnosys) {
    if (kernel_task_isolation_present()) {
        GTEST_SKIP() << "the running kernel has task isolation";
    }
    try {
        Supervision s(BackendKind::kernel);
        FAIL() << "a kernel back end was made on a kernel without task isolation";
    } catch (const IsolationError& e) {
        EXPECT_EQ(e.code(), ENOSYS);
        EXPECT_NE(std::string(e.what()).find("'kernel'"), std::string::npos) << e.what();
    }
}

TEST(Supervision, SoftBackEndNamesItselfAndCountsNoBreaksForAnUnknownThread) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    Supervision s(BackendKind::soft);
    EXPECT_EQ(s.kind(), BackendKind::soft);
    EXPECT_EQ(s.backend_name(), "soft");
    std::unique_ptr<Backend> owned;
    Backend& b = s.backend_for_worker(owned);
    EXPECT_EQ(b.name(), "soft");
    EXPECT_EQ(owned, nullptr);  // the soft back end is shared, not owned per worker
    EXPECT_EQ(s.breaks(0), (BreakCounts{{"syscall", 0}}));
}

}  // namespace
}  // namespace qc::isolation
