// Every boot and affinity check on the tuned fixture (ok) and on edited
// copies of it (the verdict, and that the summary names what is wrong).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "check/check_context.hpp"
#include "check/check_registry.hpp"
#include "check/tests/temp_tree.hpp"

namespace qc::monitor {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempTree;

// The parts of the tuned fixture these checks read (copying all of it,
// group B's per-CPU power files included, for every test is slow).
std::vector<std::string> boot_parts() {
    std::vector<std::string> parts = {"proc",
                                      "boot",
                                      "qc-monitor",
                                      "sys/devices/system/node",
                                      "sys/devices/virtual",
                                      "sys/class",
                                      "sys/devices/system/cpu/smt"};
    for (const char* file : {"online", "possible", "present", "isolated", "nohz_full"}) {
        parts.push_back(std::string("sys/devices/system/cpu/") + file);
    }
    const std::string cpus = testing::fixtures_dir() + "/tuned/sys/devices/system/cpu/";
    for (int cpu = 0; cpu < 8; ++cpu) {
        const std::string dir = "sys/devices/system/cpu/cpu" + std::to_string(cpu);
        parts.push_back(dir + "/topology");
        if (std::filesystem::exists(cpus + "cpu" + std::to_string(cpu) + "/online")) {
            parts.push_back(dir + "/online");
        }
    }
    return parts;
}

class BootChecks : public ::testing::Test {
  protected:
    TempTree tree{"tuned", boot_parts()};

    CheckResult run(std::string_view id, ContextOptions options = {}) {
        const SystemRoot sys(tree.path());
        const CheckContext ctx = make_check_context(sys, options);
        for (const CheckDef& def : boot_and_affinity_checks()) {
            if (def.id == id) {
                CheckResult result = def.run(ctx);
                if (result.status != CheckStatus::skip) {
                    EXPECT_FALSE(result.evidence.empty()) << id << ": " << result.summary;
                }
                if (result.status == CheckStatus::warn || result.status == CheckStatus::fail) {
                    EXPECT_FALSE(result.fix.empty()) << id;
                    EXPECT_EQ(result.fix.find('\n'), std::string::npos) << result.fix;
                } else {
                    EXPECT_EQ(result.fix, "") << id;
                }
                return result;
            }
        }
        ADD_FAILURE() << "no check " << id;
        return {};
    }

    std::string read(std::string_view rel) const { return testing::read_file(tree / rel); }

    // Replaces `from` (which must be there) by `to` in a file of the copy.
    void edit(std::string_view rel, std::string_view from, std::string_view to) {
        std::string text = read(rel);
        const std::size_t at = text.find(from);
        ASSERT_NE(at, std::string::npos) << from << " not in " << rel;
        text.replace(at, from.size(), to);
        tree.write(rel, text);
    }

    void allowed(std::string_view status_rel, std::string_view list) {
        std::string text = read(status_rel);
        const std::size_t at = text.find("Cpus_allowed_list:\t");
        ASSERT_NE(at, std::string::npos);
        const std::size_t end = text.find('\n', at);
        text.replace(at, end - at, "Cpus_allowed_list:\t" + std::string(list));
        tree.write(status_rel, text);
    }

    // Turns the copy into a machine that isolates nothing.
    void stock_kernel() {
        tree.write("proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz-6.1.0-qc root=/dev/vda1 ro quiet\n");
        tree.write("sys/devices/system/cpu/isolated", "\n");
        tree.write("sys/devices/system/cpu/nohz_full", "(null)\n");
    }
};

std::string evidence_text(const CheckResult& r) {
    std::string out;
    for (const Evidence& e : r.evidence) {
        out += e.path + ": " + e.value + "\n";
    }
    return out;
}

TEST_F(BootChecks, EveryCheckIsOkOnTheTunedMachine) {
    const SystemRoot sys(tree.path());
    const CheckContext ctx = make_check_context(sys, {});
    const auto checks = boot_and_affinity_checks();
    EXPECT_GE(checks.size(), 19u);
    std::set<std::string_view> ids;
    const std::set<std::string> prefixes = {"cmdline", "kconfig", "cpus", "irq", "workqueue",
                                            "tasks",   "rcu",     "pid1", "rps"};
    for (const CheckDef& def : checks) {
        EXPECT_TRUE(ids.insert(def.id).second) << "duplicate " << def.id;
        EXPECT_TRUE(prefixes.count(std::string(def.id.substr(0, def.id.find('.')))) > 0) << def.id;
        EXPECT_FALSE(def.title.empty());
        const CheckResult r = def.run(ctx);
        EXPECT_EQ(r.status, CheckStatus::ok) << def.id << ": " << r.summary;
        EXPECT_FALSE(r.evidence.empty()) << def.id;
        EXPECT_FALSE(r.summary.empty()) << def.id << " " << to_string(r.status);
    }
}

// --- cmdline.isolcpus

TEST_F(BootChecks, IsolcpusMissing) {
    edit("proc/cmdline", "isolcpus=nohz,domain,managed_irq,2-3,6-7 ", "");
    const auto r = run("cmdline.isolcpus");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("no isolcpus="));
    EXPECT_THAT(r.fix, HasSubstr("isolcpus=domain,managed_irq,2-3,6-7"));
}

TEST_F(BootChecks, IsolcpusPartialAndExtra) {
    edit("proc/cmdline", "isolcpus=nohz,domain,managed_irq,2-3,6-7",
         "isolcpus=domain,managed_irq,1-3");
    const auto r = run("cmdline.isolcpus");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("leaves out 6-7"));
    EXPECT_THAT(r.summary, HasSubstr("also covers 1"));
    EXPECT_THAT(r.fix, HasSubstr("isolcpus=domain,managed_irq,2-3,6-7"));
}

TEST_F(BootChecks, IsolcpusWithoutManagedIrqOrDomain) {
    edit("proc/cmdline", "isolcpus=nohz,domain,managed_irq,", "isolcpus=nohz,");
    const auto r = run("cmdline.isolcpus");
    EXPECT_EQ(r.status, CheckStatus::warn);
    EXPECT_THAT(r.summary, HasSubstr("no domain flag"));
    EXPECT_THAT(r.summary, HasSubstr("no managed_irq flag"));
    EXPECT_THAT(r.fix, HasSubstr("isolcpus=nohz,domain,managed_irq,2-3,6-7"));
}

TEST_F(BootChecks, IsolcpusPlainListIsDomainIsolation) {
    edit("proc/cmdline", "isolcpus=nohz,domain,managed_irq,2-3,6-7", "isolcpus=2-3,6-7");
    const auto r = run("cmdline.isolcpus");
    EXPECT_EQ(r.status, CheckStatus::warn);  // managed_irq is still missing
    EXPECT_THAT(r.summary, Not(HasSubstr("no domain flag")));
    EXPECT_THAT(r.summary, HasSubstr("no managed_irq flag"));
}

TEST_F(BootChecks, IsolcpusInvalidFlagVoidsTheParameter) {
    edit("proc/cmdline", "isolcpus=nohz,", "isolcpus=no-hz,");
    const auto r = run("cmdline.isolcpus");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("\"no-hz\""));
    EXPECT_THAT(r.summary, HasSubstr("Invalid flag"));
}

TEST_F(BootChecks, IsolcpusMalformedListNamesTheToken) {
    edit("proc/cmdline", "managed_irq,2-3,6-7", "managed_irq,2-3,6-x");
    const auto r = run("cmdline.isolcpus");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("bad token \"6-x\""));
}

TEST_F(BootChecks, IsolcpusCpuBeyondThePossibleOnes) {
    edit("proc/cmdline", "managed_irq,2-3,6-7", "managed_irq,2-3,6-9");
    const auto r = run("cmdline.isolcpus");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("\"6-9\""));
}

TEST_F(BootChecks, IsolcpusFlagsWithoutList) {
    edit("proc/cmdline", "isolcpus=nohz,domain,managed_irq,2-3,6-7", "isolcpus=domain,managed_irq");
    const auto r = run("cmdline.isolcpus");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("no CPU list"));
}

TEST_F(BootChecks, IsolcpusRepeatedWithDifferentValues) {
    edit("proc/cmdline", " quiet ", " quiet isolcpus=domain,managed_irq,2-3 ");
    const auto r = run("cmdline.isolcpus");
    // The kernel keeps the first (2-3 only): 6-7 are left out.
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("appears 2 times"));
    EXPECT_THAT(r.fix, HasSubstr("keep a single isolcpus="));
}

// --- cmdline.nohz_full

TEST_F(BootChecks, NohzFullPartial) {
    edit("proc/cmdline", "nohz_full=2-3,6-7", "nohz_full=2-3");
    const auto r = run("cmdline.nohz_full");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("leaves out 6-7"));
    EXPECT_THAT(r.fix, HasSubstr("nohz_full=2-3,6-7"));
    EXPECT_THAT(evidence_text(r), HasSubstr("/proc/cmdline: nohz_full=2-3\n"));
}

TEST_F(BootChecks, NohzFullMissingButIsolcpusNohz) {
    edit("proc/cmdline", "nohz_full=2-3,6-7 ", "");
    const auto r = run("cmdline.nohz_full");
    EXPECT_EQ(r.status, CheckStatus::warn);
    EXPECT_THAT(r.summary, HasSubstr("isolcpus=nohz stops the tick"));
}

TEST_F(BootChecks, NohzFullMissingEntirely) {
    edit("proc/cmdline", "isolcpus=nohz,", "isolcpus=");
    edit("proc/cmdline", "nohz_full=2-3,6-7 ", "");
    const auto r = run("cmdline.nohz_full");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("no nohz_full="));
    EXPECT_THAT(r.fix, HasSubstr("add nohz_full=2-3,6-7"));
}

TEST_F(BootChecks, NohzFullExtraCpusAgainstIsolatedFlag) {
    ContextOptions options;
    options.isolated = core::CpuSet{2, 3};
    const auto r = run("cmdline.nohz_full", options);
    EXPECT_EQ(r.status, CheckStatus::warn);
    EXPECT_THAT(r.summary, HasSubstr("also covers 6-7"));
    EXPECT_THAT(r.summary, HasSubstr("--isolated"));
}

TEST_F(BootChecks, NohzFullMalformed) {
    edit("proc/cmdline", "nohz_full=2-3,6-7", "nohz_full=2-3,,6:7");
    const auto r = run("cmdline.nohz_full");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("bad token \"6:7\""));
}

// --- cmdline.rcu_nocbs

TEST_F(BootChecks, RcuNocbsImpliedByNohzFull) {
    edit("proc/cmdline", "rcu_nocbs=2-3,6-7 ", "");
    const auto r = run("cmdline.rcu_nocbs");
    EXPECT_EQ(r.status, CheckStatus::ok);
    EXPECT_THAT(r.summary, HasSubstr("nohz_full implies rcu_nocbs"));
}

TEST_F(BootChecks, RcuNocbsMissingWithoutNohzFull) {
    edit("proc/cmdline", "rcu_nocbs=2-3,6-7 ", "");
    edit("proc/cmdline", "nohz_full=2-3,6-7 ", "nohz_full=2-3 ");
    const auto r = run("cmdline.rcu_nocbs");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("does not cover 6-7"));
}

TEST_F(BootChecks, RcuNocbsPartial) {
    edit("proc/cmdline", "rcu_nocbs=2-3,6-7", "rcu_nocbs=2-3");
    const auto r = run("cmdline.rcu_nocbs");
    EXPECT_EQ(r.status, CheckStatus::warn);
    EXPECT_THAT(r.summary, HasSubstr("leaves out 6-7"));
}

TEST_F(BootChecks, RcuNocbsLastOccurrenceCounts) {
    edit("proc/cmdline", " quiet ", " quiet rcu_nocbs=2 ");
    // The later rcu_nocbs=2-3,6-7 wins, but the two disagree.
    const auto r = run("cmdline.rcu_nocbs");
    EXPECT_EQ(r.status, CheckStatus::warn);
    EXPECT_THAT(r.summary, HasSubstr("uses the last"));
    EXPECT_THAT(r.summary, Not(HasSubstr("leaves out")));
}

TEST_F(BootChecks, RcuNocbsMalformed) {
    edit("proc/cmdline", "rcu_nocbs=2-3,6-7", "rcu_nocbs=2-3,6-7x");
    const auto r = run("cmdline.rcu_nocbs");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("\"6-7x\""));
    EXPECT_THAT(r.summary, HasSubstr("offloads every CPU"));
}

// --- cmdline.irqaffinity and skew_tick

TEST_F(BootChecks, IrqaffinityIncludesIsolated) {
    edit("proc/cmdline", "irqaffinity=0-1,4-5", "irqaffinity=0-2,4-5");
    const auto r = run("cmdline.irqaffinity");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("CPU 2"));
    EXPECT_THAT(r.fix, HasSubstr("irqaffinity=0-1,4-5"));
}

TEST_F(BootChecks, IrqaffinityMissingOrEmpty) {
    edit("proc/cmdline", "irqaffinity=0-1,4-5 ", "");
    EXPECT_EQ(run("cmdline.irqaffinity").status, CheckStatus::warn);
    edit("proc/cmdline", " quiet ", " quiet irqaffinity= ");
    const auto r = run("cmdline.irqaffinity");
    EXPECT_EQ(r.status, CheckStatus::warn);
    EXPECT_THAT(r.summary, HasSubstr("empty"));
}

TEST_F(BootChecks, SkewTick) {
    edit("proc/cmdline", "skew_tick=1", "skew_tick=0");
    EXPECT_EQ(run("cmdline.skew_tick").status, CheckStatus::warn);
    edit("proc/cmdline", "skew_tick=0", "skew_tick=0x1");
    EXPECT_EQ(run("cmdline.skew_tick").status, CheckStatus::ok);
    edit("proc/cmdline", "skew_tick=0x1 ", "");
    const auto r = run("cmdline.skew_tick");
    EXPECT_EQ(r.status, CheckStatus::warn);
    EXPECT_THAT(r.fix, HasSubstr("add skew_tick=1"));
}

// --- cmdline.consistency

TEST_F(BootChecks, ConsistencyKernelAppliedLess) {
    tree.write("sys/devices/system/cpu/isolated", "2-3\n");
    const auto r = run("cmdline.consistency");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("keeps 2-3 out of the scheduler domains"));
    EXPECT_THAT(r.summary, HasSubstr("asks for 2-3,6-7"));
}

TEST_F(BootChecks, ConsistencyNohzFullRejectedForDisagreeingWithIsolcpusNohz) {
    // The kernel rejects the later nohz_full=2-3: tick-free stays 2-3,6-7.
    edit("proc/cmdline", "nohz_full=2-3,6-7", "nohz_full=2-3");
    const auto r = run("cmdline.consistency");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("tick-free on 2-3,6-7"));
}

TEST_F(BootChecks, ConsistencyWithoutDomainFlagExpectsNoSchedulerIsolation) {
    edit("proc/cmdline", "isolcpus=nohz,domain,managed_irq,", "isolcpus=managed_irq,");
    tree.write("sys/devices/system/cpu/isolated", "\n");
    EXPECT_EQ(run("cmdline.consistency").status, CheckStatus::ok);
}

TEST_F(BootChecks, ConsistencyMalformedSysfs) {
    // With --isolated the context does not read the file; the check does.
    ContextOptions options;
    options.isolated = core::CpuSet{2, 3, 6, 7};
    tree.write("sys/devices/system/cpu/isolated", "2-3,q\n");
    const auto r = run("cmdline.consistency", options);
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("/sys/devices/system/cpu/isolated: bad token \"q\""));
}

// --- isolation not configured at all

TEST_F(BootChecks, StockKernelSaysIsolationIsNotConfigured) {
    stock_kernel();
    for (const char* id : {"cmdline.isolcpus", "cmdline.nohz_full", "cmdline.rcu_nocbs"}) {
        const auto r = run(id);
        EXPECT_EQ(r.status, CheckStatus::fail) << id;
        EXPECT_THAT(r.summary, HasSubstr("isolation is not configured")) << id;
    }
    EXPECT_EQ(run("cmdline.irqaffinity").status, CheckStatus::warn);
    EXPECT_EQ(run("cmdline.consistency").status, CheckStatus::skip);
    for (const char* id : {"cpus.online", "cpus.housekeeping_per_node", "cpus.smt_siblings",
                           "irq.affinity", "irq.default_affinity", "workqueue.cpumask",
                           "tasks.allowed", "rcu.callback_threads", "pid1.affinity", "rps.masks"}) {
        const auto r = run(id);
        EXPECT_EQ(r.status, CheckStatus::skip) << id;
        EXPECT_THAT(r.summary, HasSubstr("no isolated CPUs")) << id;
    }
}

// --- kconfig.*

TEST_F(BootChecks, KconfigNoHzFullOff) {
    edit("boot/config-6.1.0-qc", "CONFIG_NO_HZ_FULL=y", "# CONFIG_NO_HZ_FULL is not set");
    const auto r = run("kconfig.no_hz_full");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("ignores nohz_full="));
}

TEST_F(BootChecks, KconfigWithoutConfigFileUsesSysfs) {
    tree.remove("boot/config-6.1.0-qc");
    auto r = run("kconfig.no_hz_full");
    EXPECT_EQ(r.status, CheckStatus::ok);
    EXPECT_THAT(r.summary, HasSubstr("/boot/config-6.1.0-qc not found"));
    tree.remove("sys/devices/system/cpu/nohz_full");
    r = run("kconfig.no_hz_full");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("without CONFIG_NO_HZ_FULL"));
}

TEST_F(BootChecks, KconfigRcuNocb) {
    edit("boot/config-6.1.0-qc", "CONFIG_RCU_NOCB_CPU=y", "CONFIG_RCU_NOCB_CPU y");
    auto r = run("kconfig.rcu_nocb_cpu");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("bad token \"CONFIG_RCU_NOCB_CPU y\""));
    // Without the config: the rcuo kthreads show it is built in.
    tree.remove("boot/config-6.1.0-qc");
    r = run("kconfig.rcu_nocb_cpu");
    EXPECT_EQ(r.status, CheckStatus::ok);
    EXPECT_THAT(r.summary, HasSubstr("rcuo"));
    // ... and without them nothing tells.
    for (int pid = 60; pid <= 69; ++pid) {
        tree.remove("proc/" + std::to_string(pid));
    }
    EXPECT_EQ(run("kconfig.rcu_nocb_cpu").status, CheckStatus::skip);
}

TEST_F(BootChecks, KconfigTaskIsolation) {
    edit("boot/config-6.1.0-qc", "CONFIG_TASK_ISOLATION=y\n", "");
    auto r = run("kconfig.task_isolation");
    EXPECT_EQ(r.status, CheckStatus::warn);
    EXPECT_THAT(r.summary, HasSubstr("soft isolation"));
    tree.remove("boot/config-6.1.0-qc");
    r = run("kconfig.task_isolation");
    EXPECT_EQ(r.status, CheckStatus::ok);  // /proc/1/task_isolation exists
    tree.remove("proc/1/task_isolation");
    r = run("kconfig.task_isolation");
    EXPECT_EQ(r.status, CheckStatus::warn);
    EXPECT_THAT(r.summary, HasSubstr("lacks the quietcore task-isolation patch"));
}

// --- cpus.*

TEST_F(BootChecks, CpusOffline) {
    tree.write("sys/devices/system/cpu/online", "0-6\n");
    tree.write("sys/devices/system/cpu/cpu7/online", "0\n");
    const auto r = run("cpus.online");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("CPU 7 is offline"));
    EXPECT_THAT(r.fix, HasSubstr("echo 1 > /sys/devices/system/cpu/cpu7/online"));
}

TEST_F(BootChecks, CpusIsolatedCpuThatDoesNotExist) {
    ContextOptions options;
    options.isolated = core::CpuSet{2, 3, 6, 7, 9};
    const auto r = run("cpus.online", options);
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("CPU 9 does not exist"));
}

TEST_F(BootChecks, CpusNodeWithoutHousekeeping) {
    tree.write("sys/devices/system/node/node0/cpulist", "0-5\n");
    tree.write("sys/devices/system/node/node1/cpulist", "6-7\n");
    const auto r = run("cpus.housekeeping_per_node");
    EXPECT_EQ(r.status, CheckStatus::warn);
    EXPECT_THAT(r.summary, HasSubstr("node1"));
    EXPECT_THAT(r.summary, Not(HasSubstr("node0 (")));
}

TEST_F(BootChecks, CpusNoHousekeepingAtAll) {
    ContextOptions options;
    options.isolated = core::CpuSet{0, 1, 2, 3, 4, 5, 6, 7};
    EXPECT_EQ(run("cpus.housekeeping_per_node", options).status, CheckStatus::fail);
}

TEST_F(BootChecks, CpusWithoutNumaNodes) {
    tree.remove("sys/devices/system/node");
    EXPECT_EQ(run("cpus.housekeeping_per_node").status, CheckStatus::ok);
}

TEST_F(BootChecks, SmtSiblings) {
    tree.write("sys/devices/system/cpu/cpu2/topology/thread_siblings_list", "0,2\n");
    tree.write("sys/devices/system/cpu/cpu3/topology/thread_siblings_list", "3,7\n");
    tree.write("sys/devices/system/cpu/cpu7/topology/thread_siblings_list", "3,7\n");
    const auto r = run("cpus.smt_siblings");
    EXPECT_EQ(r.status, CheckStatus::warn);  // 2 shares with 0; 3 and 7 are both isolated
    EXPECT_THAT(r.summary, HasSubstr("1 CPU: 2 with 0"));
    EXPECT_THAT(r.fix, HasSubstr("add the siblings 0"));
}

TEST_F(BootChecks, SmtSiblingsMalformed) {
    tree.write("sys/devices/system/cpu/cpu6/topology/thread_siblings_list", "6,z\n");
    const auto r = run("cpus.smt_siblings");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("cpu6/topology/thread_siblings_list: bad token \"z\""));
}

// --- irq.*

TEST_F(BootChecks, IrqDeliveredToIsolatedCpu) {
    tree.write("proc/irq/26/smp_affinity_list", "0-3\n");
    tree.write("proc/irq/26/effective_affinity_list", "3\n");
    const auto r = run("irq.affinity");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("26 (virtio0-output.0) on 3"));  // name from /proc/interrupts
    EXPECT_THAT(r.fix, HasSubstr("for i in 26; do echo 0-1,4-5 > /proc/irq/$i/smp_affinity_list"));
    EXPECT_THAT(evidence_text(r), HasSubstr("/proc/irq/26/effective_affinity_list: 3"));
}

TEST_F(BootChecks, IrqWithoutEffectiveAffinityUsesItsMask) {
    tree.remove("proc/irq/25/effective_affinity_list");
    tree.write("proc/irq/25/smp_affinity_list", "0-7\n");
    const auto r = run("irq.affinity");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("25 (virtio0-input.0) on 0-7"));
}

TEST_F(BootChecks, InactiveIrqIsIgnored) {
    tree.write("proc/irq/7/smp_affinity_list", "0-7\n");  // effective stays empty
    EXPECT_EQ(run("irq.affinity").status, CheckStatus::ok);
}

TEST_F(BootChecks, IrqBoundToIsolatedCpusAndFiring) {
    // nvme0q2 (31, mask 2-3) has fired on CPU 2: a device queue in use there.
    edit("proc/interrupts", " 31:          0          0          0",
         " 31:          0          0        812");
    const auto r = run("irq.affinity");
    EXPECT_EQ(r.status, CheckStatus::warn);
    EXPECT_THAT(r.summary, HasSubstr("31 (nvme0q2) on 2-3, 812 interrupts there"));
}

TEST_F(BootChecks, ManyIrqsAreCappedInTheSummary) {
    for (const char* irq : {"0", "1", "8", "9", "12", "24", "25"}) {
        tree.write(std::string("proc/irq/") + irq + "/smp_affinity_list", "0-7\n");
        tree.write(std::string("proc/irq/") + irq + "/effective_affinity_list", "6\n");
    }
    const auto r = run("irq.affinity");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("7 IRQs, e.g. 0 (timer) on 6, 1 (i8042) on 6"));
    EXPECT_THAT(r.fix, HasSubstr("for i in 0 1 8 9 12 24 25;"));
}

TEST_F(BootChecks, IrqMalformedAffinity) {
    tree.write("proc/irq/25/effective_affinity_list", "0-x\n");
    const auto r = run("irq.affinity");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("/proc/irq/25/effective_affinity_list: bad token \"0-x\""));
}

TEST_F(BootChecks, IrqDefaultAffinity) {
    tree.write("proc/irq/default_smp_affinity", "ff\n");
    auto r = run("irq.default_affinity");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("CPUs 2-3,6-7"));
    EXPECT_THAT(r.fix, HasSubstr("echo 00000033 > /proc/irq/default_smp_affinity"));
    tree.write("proc/irq/default_smp_affinity", "3g\n");
    r = run("irq.default_affinity");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("bad token \"3g\""));
    tree.remove("proc/irq/default_smp_affinity");
    EXPECT_EQ(run("irq.default_affinity").status, CheckStatus::skip);
}

// --- workqueue.cpumask

TEST_F(BootChecks, WorkqueueMasks) {
    tree.write("sys/devices/virtual/workqueue/writeback/cpumask", "ff\n");
    auto r = run("workqueue.cpumask");
    EXPECT_EQ(r.status, CheckStatus::warn);
    EXPECT_THAT(r.summary, HasSubstr("writeback ff"));
    tree.write("sys/devices/virtual/workqueue/cpumask", "ff\n");
    r = run("workqueue.cpumask");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.fix, HasSubstr("echo 00000033 > /sys/devices/virtual/workqueue/cpumask"));
    tree.remove("sys/devices/virtual/workqueue/cpumask");
    EXPECT_EQ(run("workqueue.cpumask").status, CheckStatus::skip);
}

// --- tasks.allowed, rcu.callback_threads, pid1.affinity

TEST_F(BootChecks, UserTaskFloating) {
    allowed("proc/655/status", "0-7");
    const auto r = run("tasks.allowed");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("655 (sshd) 0-7"));
    EXPECT_THAT(r.fix, HasSubstr("taskset -a -p -c 0-1,4-5 $p"));
    EXPECT_THAT(r.fix, HasSubstr("for p in 655;"));
}

TEST_F(BootChecks, ThreadOfAWorkerProcessFloating) {
    allowed("proc/1200/task/1202/status", "0-3");
    const auto r = run("tasks.allowed");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("1202 (qc-fwd-log) 0-3"));
    EXPECT_THAT(r.fix, HasSubstr("for p in 1200;"));
}

TEST_F(BootChecks, WorkersAndPerCpuKthreadsAreFine) {
    allowed("proc/1200/task/1203/status", "2-3");  // a worker allowed on two isolated CPUs
    const auto r = run("tasks.allowed");
    EXPECT_EQ(r.status, CheckStatus::ok);
    EXPECT_THAT(r.summary, HasSubstr("1203 (qc-worker-2) 2-3"));
}

TEST_F(BootChecks, UnboundKthreadFloating) {
    allowed("proc/130/status", "0-7");
    const auto r = run("tasks.allowed");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("unbound kernel thread: 130 (kworker/u16:2-events_unbound)"));
}

TEST_F(BootChecks, TaskStatusMalformed) {
    allowed("proc/702/status", "0-1,4-x");
    const auto r = run("tasks.allowed");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("/proc/702/status: bad token \"4-x\""));
    EXPECT_THAT(r.fix, HasSubstr("inspect /proc/702/status"));
}

TEST_F(BootChecks, RcuThreadsAndPid1AreLeftToTheirOwnChecks) {
    allowed("proc/67/status", "0-7");  // rcuop/6
    allowed("proc/1/status", "0-7");
    EXPECT_EQ(run("tasks.allowed").status, CheckStatus::ok);
    const auto rcu = run("rcu.callback_threads");
    EXPECT_EQ(rcu.status, CheckStatus::fail);
    EXPECT_THAT(rcu.summary, HasSubstr("rcuop/6 (67) 0-7"));
    const auto pid1 = run("pid1.affinity");
    EXPECT_EQ(pid1.status, CheckStatus::fail);
    EXPECT_THAT(pid1.summary, HasSubstr("PID 1 (systemd) may run on 0-7"));
    EXPECT_THAT(pid1.fix, HasSubstr("CPUAffinity=0-1,4-5"));
}

TEST_F(BootChecks, NoRcuOffloadThreads) {
    for (int pid = 60; pid <= 69; ++pid) {
        tree.remove("proc/" + std::to_string(pid));
    }
    const auto r = run("rcu.callback_threads");
    EXPECT_EQ(r.status, CheckStatus::warn);
    EXPECT_THAT(r.fix, HasSubstr("rcu_nocbs=2-3,6-7"));
}

TEST_F(BootChecks, Pid1MissingOrMalformed) {
    tree.write("proc/1/status", "Name:\tsystemd\n");
    auto r = run("pid1.affinity");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("Cpus_allowed_list"));
    tree.remove("proc/1/status");
    EXPECT_EQ(run("pid1.affinity").status, CheckStatus::skip);
}

// --- rps.masks

TEST_F(BootChecks, RpsMasks) {
    tree.write("sys/class/net/eth0/queues/rx-0/rps_cpus", "cc\n");
    auto r = run("rps.masks");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("eth0 rx-0 cc (CPUs 2-3,6-7)"));
    EXPECT_THAT(r.fix, HasSubstr("/sys/class/net/eth0/queues/rx-0/rps_cpus"));
    tree.write("sys/class/net/eth0/queues/rx-0/rps_cpus", "3z\n");
    r = run("rps.masks");
    EXPECT_EQ(r.status, CheckStatus::fail);
    EXPECT_THAT(r.summary, HasSubstr("bad token \"3z\""));
    tree.remove("sys/class/net");
    EXPECT_EQ(run("rps.masks").status, CheckStatus::skip);
}

}  // namespace
}  // namespace qc::monitor
