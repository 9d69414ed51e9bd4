#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "quietcore/core/isolation_plan.hpp"
#include "quietcore/core/numa_memory.hpp"
#include "quietcore/core/thread.hpp"
#include "quietcore/isolation/preconditions.hpp"

namespace qc::isolation {
namespace {

const PreconditionFinding* find(const std::vector<PreconditionFinding>& fs, PreconditionKind k) {
    auto it = std::find_if(fs.begin(), fs.end(), [&](const auto& f) { return f.kind == k; });
    return it == fs.end() ? nullptr : &*it;
}

// Runs `body` on a new thread, optionally pinned, and returns its findings.
std::vector<PreconditionFinding> findings_on_thread(std::optional<unsigned> cpu,
                                                    BackendKind backend) {
    std::vector<PreconditionFinding> out;
    std::thread t([&] {
        if (cpu) {
            core::pin_current_thread(*cpu);
        }
        out = check_calling_thread(backend);
    });
    t.join();
    return out;
}

unsigned last_online_cpu() {
    auto cpus = core::online_cpus().cpus();
    return cpus.back();
}

TEST(Preconditions, AnUnpinnedThreadIsAnError) {
    if ((core::allowed_cpus() & core::online_cpus()).count() < 2) {
        GTEST_SKIP() << "this test runs on one CPU: every thread is pinned";
    }
    // The test may itself run under taskset: then "several", not "every".
    const core::CpuSet allowed = core::allowed_cpus() & core::online_cpus();
    const auto kind = allowed == core::online_cpus() ? PreconditionKind::not_pinned
                                                     : PreconditionKind::pinned_to_several;
    for (BackendKind b : {BackendKind::kernel, BackendKind::soft}) {
        const auto fs = findings_on_thread(std::nullopt, b);
        const auto* f = find(fs, kind);
        ASSERT_NE(f, nullptr);
        EXPECT_EQ(f->severity, PreconditionSeverity::error);
        EXPECT_NE(f->message.find(allowed.to_list()), std::string::npos) << f->message;
        EXPECT_TRUE(has_errors(fs));
    }
}

TEST(Preconditions, APinnedThreadOnAnUnisolatedCpu) {
    const unsigned cpu = last_online_cpu();
    const core::KernelCpuSets kernel = core::KernelCpuSets::read();
    const bool isolated = kernel.isolated.contains(cpu);
    const bool nohz = kernel.nohz_full.contains(cpu);

    auto fs = findings_on_thread(cpu, BackendKind::kernel);
    EXPECT_EQ(find(fs, PreconditionKind::not_pinned), nullptr);
    EXPECT_EQ(find(fs, PreconditionKind::pinned_to_several), nullptr);
    const auto* f = find(fs, PreconditionKind::cpu_not_isolated);
    ASSERT_EQ(f != nullptr, !isolated);
    if (f) {
        EXPECT_EQ(f->severity, PreconditionSeverity::error);
        EXPECT_NE(f->message.find("CPU " + std::to_string(cpu)), std::string::npos) << f->message;
    }
    const auto* n = find(fs, PreconditionKind::cpu_not_nohz_full);
    ASSERT_EQ(n != nullptr, !nohz);
    if (n) {
        EXPECT_EQ(n->severity, PreconditionSeverity::error);
        EXPECT_NE(n->message.find("nohz_full"), std::string::npos) << n->message;
    }

    // The soft back end works without isolcpus/nohz_full: only warnings.
    fs = findings_on_thread(cpu, BackendKind::soft);
    if (const auto* s = find(fs, PreconditionKind::cpu_not_isolated)) {
        EXPECT_EQ(s->severity, PreconditionSeverity::warning);
    }
    if (const auto* s = find(fs, PreconditionKind::cpu_not_nohz_full)) {
        EXPECT_EQ(s->severity, PreconditionSeverity::warning);
    }
}

TEST(Preconditions, UnlockedMemoryIsReportedAndLockedMemoryIsNot) {
    if (core::locked_memory_bytes() != 0) {
        GTEST_SKIP() << "this process already has locked memory";
    }
    auto fs = findings_on_thread(last_online_cpu(), BackendKind::kernel);
    const auto* f = find(fs, PreconditionKind::memory_not_locked);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f->severity, PreconditionSeverity::error);
    EXPECT_NE(f->message.find("VmLck"), std::string::npos) << f->message;

    // Lock one page with the raw syscall (sanitizers turn mlock() into a no-op).
    const long page = sysconf(_SC_PAGESIZE);
    void* mem = std::aligned_alloc(static_cast<std::size_t>(page), static_cast<std::size_t>(page));
    ASSERT_NE(mem, nullptr);
    ASSERT_EQ(syscall(SYS_mlock, mem, page), 0) << "mlock: " << errno;
    ASSERT_GT(core::locked_memory_bytes(), 0u);
    fs = findings_on_thread(last_online_cpu(), BackendKind::kernel);
    EXPECT_EQ(find(fs, PreconditionKind::memory_not_locked), nullptr);
    syscall(SYS_munlock, mem, page);
    std::free(mem);
}

TEST(Preconditions, SchedOtherIsOnlyAdvice) {
    auto fs = findings_on_thread(last_online_cpu(), BackendKind::soft);
    const auto* f = find(fs, PreconditionKind::not_sched_fifo);
    ASSERT_NE(f, nullptr) << "test threads run SCHED_OTHER";
    EXPECT_EQ(f->severity, PreconditionSeverity::info);
}

// The rules on facts this 2-CPU machine cannot produce.
ThreadFacts ready_facts() {
    ThreadFacts f;
    f.online = core::CpuSet{0, 1, 2, 3};
    f.isolated = core::CpuSet{2, 3};
    f.nohz_full = core::CpuSet{2, 3};
    f.allowed = core::CpuSet{2};
    f.locked_bytes = 4096;
    f.sched_policy = SCHED_FIFO;
    return f;
}

TEST(Preconditions, AReadyThreadHasNoFindings) {
    EXPECT_TRUE(check_preconditions(ready_facts(), BackendKind::kernel).empty());
    EXPECT_TRUE(check_preconditions(ready_facts(), BackendKind::soft).empty());
}

TEST(Preconditions, PinnedToSeveralCpusNamesThem) {
    ThreadFacts f = ready_facts();
    f.allowed = core::CpuSet{2, 3};
    auto fs = check_preconditions(f, BackendKind::soft);
    ASSERT_EQ(fs.size(), 1u);
    EXPECT_EQ(fs[0].kind, PreconditionKind::pinned_to_several);
    EXPECT_EQ(fs[0].severity, PreconditionSeverity::error);
    EXPECT_NE(fs[0].message.find("2-3"), std::string::npos) << fs[0].message;
}

TEST(Preconditions, NotIsolatedAndNotNohzFullAreSeparateFindings) {
    ThreadFacts f = ready_facts();
    f.nohz_full = core::CpuSet{3};
    auto fs = check_preconditions(f, BackendKind::kernel);
    ASSERT_EQ(fs.size(), 1u);
    EXPECT_EQ(fs[0].kind, PreconditionKind::cpu_not_nohz_full);
    EXPECT_NE(fs[0].message.find("CPU 2"), std::string::npos) << fs[0].message;
    EXPECT_NE(fs[0].message.find("nohz_full=: 3"), std::string::npos) << fs[0].message;

    f = ready_facts();
    f.isolated = core::CpuSet{};
    fs = check_preconditions(f, BackendKind::kernel);
    ASSERT_EQ(fs.size(), 1u);
    EXPECT_EQ(fs[0].kind, PreconditionKind::cpu_not_isolated);
    EXPECT_NE(fs[0].message.find("isolcpus=: none"), std::string::npos) << fs[0].message;
}

TEST(Preconditions, AllowedOnNoOnlineCpu) {
    ThreadFacts f = ready_facts();
    f.allowed = core::CpuSet{7};
    auto fs = check_preconditions(f, BackendKind::kernel);
    ASSERT_NE(find(fs, PreconditionKind::no_cpu), nullptr);
    EXPECT_TRUE(has_errors(fs));
}

TEST(Preconditions, NamesAreStable) {
    EXPECT_EQ(to_string(PreconditionKind::cpu_not_isolated), "cpu-not-isolated");
    EXPECT_EQ(to_string(PreconditionKind::memory_not_locked), "memory-not-locked");
    EXPECT_EQ(to_string(PreconditionSeverity::warning), "warning");
}

}  // namespace
}  // namespace qc::isolation
