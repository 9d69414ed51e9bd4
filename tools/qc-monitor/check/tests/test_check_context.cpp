// make_check_context on the tuned fixture and on broken copies of it: the
// expectation and where it came from, the samples of a snapshot, and errors
// that name the file.
#include <gtest/gtest.h>

#include "check/check_context.hpp"
#include "quietcore/core/error.hpp"
#include "temp_tree.hpp"

namespace qc::monitor {
namespace {

using testing::fixtures_dir;
using testing::TempTree;

// What make_check_context reads of the tuned fixture.
const std::vector<std::string> kContextParts = {
    "sys/devices/system/cpu/online", "sys/devices/system/cpu/isolated",
    "sys/devices/system/cpu/nohz_full", "proc/sys/kernel", "qc-monitor/snapshot.json"};

constexpr std::string_view kBothFiles =
    "/sys/devices/system/cpu/isolated, /sys/devices/system/cpu/nohz_full";

// The error message of make_check_context, or "" when it did not throw.
std::string context_error(const SystemRoot& sys, const ContextOptions& options = {}) {
    try {
        (void)make_check_context(sys, options);
    } catch (const core::Error& e) {
        return e.what();
    }
    return {};
}

TEST(CheckContext, TunedFixtureDerivesTheExpectationFromSysfs) {
    const SystemRoot sys(fixtures_dir() + "/tuned");
    const CheckContext ctx = make_check_context(sys, {});
    EXPECT_EQ(ctx.sys, &sys);
    EXPECT_TRUE(ctx.isolated_known);
    EXPECT_EQ(ctx.isolated.to_list(), "2-3,6-7");
    EXPECT_EQ(ctx.isolated_source, kBothFiles);
    EXPECT_EQ(ctx.online.to_list(), "0-7");
    EXPECT_EQ(ctx.housekeeping.to_list(), "0-1,4-5");
    EXPECT_EQ(ctx.arch, "x86_64");
    EXPECT_EQ(ctx.kernel_release, "6.1.0-qc");
    // Its counter files and their second readings under qc-monitor/after.
    EXPECT_EQ(ctx.interval_seconds, 1.0);
    for (std::string_view path : {"/proc/interrupts", "/proc/softirqs", "/proc/stat"}) {
        const CounterSample* sample = ctx.sample(path);
        ASSERT_NE(sample, nullptr) << path;
        EXPECT_EQ(sample->before, sys.read(path)) << path;
        EXPECT_NE(sample->after, sample->before) << path;
        EXPECT_EQ(sample->seconds, 1.0) << path;
    }
}

TEST(CheckContext, IsolatedFlagOverridesTheKernel) {
    const SystemRoot sys(fixtures_dir() + "/tuned");
    const CheckContext ctx = make_check_context(sys, {core::CpuSet::parse_list("2-3"), 1.0});
    EXPECT_EQ(ctx.isolated.to_list(), "2-3");
    EXPECT_EQ(ctx.isolated_source, "--isolated");
    EXPECT_EQ(ctx.housekeeping.to_list(), "0-1,4-7");
    EXPECT_TRUE(ctx.isolated_known);
}

TEST(CheckContext, SourceNamesOnlyTheFileThatIsolates) {
    TempTree tree("tuned", kContextParts);
    tree.write("sys/devices/system/cpu/isolated", "\n");
    const CheckContext ctx = make_check_context(SystemRoot(tree.path()), {});
    EXPECT_EQ(ctx.isolated.to_list(), "2-3,6-7");
    EXPECT_EQ(ctx.isolated_source, "/sys/devices/system/cpu/nohz_full");

    tree.write("sys/devices/system/cpu/isolated", "1-2\n");
    tree.write("sys/devices/system/cpu/nohz_full", "(null)\n");
    const CheckContext isolcpus_only = make_check_context(SystemRoot(tree.path()), {});
    EXPECT_EQ(isolcpus_only.isolated.to_list(), "1-2");
    EXPECT_EQ(isolcpus_only.isolated_source, "/sys/devices/system/cpu/isolated");
}

TEST(CheckContext, StockKernelIsolatesNothing) {
    TempTree tree("tuned", kContextParts);
    tree.write("sys/devices/system/cpu/isolated", "\n");
    tree.write("sys/devices/system/cpu/nohz_full", "(null)\n");
    const CheckContext ctx = make_check_context(SystemRoot(tree.path()), {});
    EXPECT_FALSE(ctx.isolated_known);
    EXPECT_TRUE(ctx.isolated.empty());
    EXPECT_EQ(ctx.isolated_source, kBothFiles);
    EXPECT_EQ(ctx.housekeeping.to_list(), "0-7");
}

TEST(CheckContext, MissingIsolationFilesMeanNothingIsolated) {
    TempTree tree("tuned", kContextParts);
    tree.remove("sys/devices/system/cpu/isolated");
    tree.remove("sys/devices/system/cpu/nohz_full");
    EXPECT_FALSE(make_check_context(SystemRoot(tree.path()), {}).isolated_known);
}

TEST(CheckContext, SamplesComeFromTheSnapshotsAfterDirectory) {
    TempTree tree("tuned", kContextParts);
    tree.write("proc/interrupts", "           CPU0\n LOC:  100   Local timer interrupts\n");
    tree.write("qc-monitor/after/proc/interrupts",
               "           CPU0\n LOC:  350   Local timer interrupts\n");
    tree.write("proc/softirqs", "                    CPU0\n       TIMER:  5\n");  // no after
    tree.remove("qc-monitor/after/proc/softirqs");
    tree.write("qc-monitor/snapshot.json", R"({"interval_seconds": 2.5})");
    const CheckContext ctx = make_check_context(SystemRoot(tree.path()), {});
    const CounterSample* irq = ctx.sample("/proc/interrupts");
    ASSERT_NE(irq, nullptr);
    EXPECT_NE(irq->before.find("100"), std::string::npos);
    EXPECT_NE(irq->after.find("350"), std::string::npos);
    EXPECT_EQ(irq->seconds, 2.5);
    EXPECT_EQ(ctx.interval_seconds, 2.5);
    EXPECT_EQ(ctx.sample("/proc/softirqs"), nullptr);
    EXPECT_EQ(ctx.sample("/proc/nonsense"), nullptr);
}

TEST(CheckContext, NoSamplesWithoutMetaOrWithIntervalZero) {
    TempTree tree("tuned", kContextParts);
    tree.write("proc/interrupts", "           CPU0\n LOC:  100\n");
    tree.write("qc-monitor/after/proc/interrupts", "           CPU0\n LOC:  350\n");
    tree.write("qc-monitor/snapshot.json", R"({"interval_seconds": 0})");
    const CheckContext zero = make_check_context(SystemRoot(tree.path()), {});
    EXPECT_TRUE(zero.samples.empty());
    EXPECT_EQ(zero.interval_seconds, 0);
    tree.remove("qc-monitor/snapshot.json");
    EXPECT_TRUE(make_check_context(SystemRoot(tree.path()), {}).samples.empty());
}

TEST(CheckContext, SnapshotKeepsItsIsolatedFlag) {
    TempTree tree("tuned", kContextParts);
    tree.write("qc-monitor/snapshot.json", R"({"interval_seconds": 1.0, "isolated": "6-7"})");
    const CheckContext ctx = make_check_context(SystemRoot(tree.path()), {});
    EXPECT_EQ(ctx.isolated.to_list(), "6-7");
    EXPECT_NE(ctx.isolated_source.find("snapshot"), std::string::npos);
    // An explicit --isolated still wins.
    const CheckContext given =
        make_check_context(SystemRoot(tree.path()), {core::CpuSet::parse_list("3"), 1.0});
    EXPECT_EQ(given.isolated.to_list(), "3");
    EXPECT_EQ(given.isolated_source, "--isolated");
}

TEST(CheckContext, MissingOnlineNamesTheFile) {
    TempTree tree("tuned", kContextParts);
    tree.remove("sys/devices/system/cpu/online");
    const std::string error = context_error(SystemRoot(tree.path()));
    EXPECT_NE(error.find("/sys/devices/system/cpu/online"), std::string::npos) << error;
    EXPECT_NE(error.find("missing"), std::string::npos) << error;
}

TEST(CheckContext, MalformedOnlineNamesFileAndToken) {
    TempTree tree("tuned", kContextParts);
    tree.write("sys/devices/system/cpu/online", "0-7,x9\n");
    const std::string error = context_error(SystemRoot(tree.path()));
    EXPECT_NE(error.find("/sys/devices/system/cpu/online"), std::string::npos) << error;
    EXPECT_NE(error.find("\"x9\""), std::string::npos) << error;
}

TEST(CheckContext, MalformedNohzFullNamesFileTokenAndTheWayOut) {
    TempTree tree("tuned", kContextParts);
    tree.write("sys/devices/system/cpu/nohz_full", "2-3,6-q\n");
    const std::string error = context_error(SystemRoot(tree.path()));
    EXPECT_NE(error.find("/sys/devices/system/cpu/nohz_full"), std::string::npos) << error;
    EXPECT_NE(error.find("\"6-q\""), std::string::npos) << error;
    EXPECT_NE(error.find("--isolated"), std::string::npos) << error;
    // Given the expectation, the kernel's lists are not needed to start.
    EXPECT_EQ(context_error(SystemRoot(tree.path()), {core::CpuSet::parse_list("2-3"), 1.0}), "");
}

TEST(CheckContext, MalformedSnapshotMetaNamesIt) {
    TempTree tree("tuned", kContextParts);
    tree.write("qc-monitor/snapshot.json", "{\"interval_seconds\": ");
    EXPECT_NE(context_error(SystemRoot(tree.path())).find("qc-monitor/snapshot.json"),
              std::string::npos);
    tree.write("qc-monitor/snapshot.json", R"({"interval_seconds": 1, "isolated": "2-z"})");
    const std::string error = context_error(SystemRoot(tree.path()));
    EXPECT_NE(error.find("snapshot.json"), std::string::npos) << error;
    EXPECT_NE(error.find("\"2-z\""), std::string::npos) << error;
}

// The live system (any Linux): CPUs online, and with an interval, the
// counter files sampled that far apart.
TEST(CheckContext, LiveSystemSamples) {
    const SystemRoot live("/");
    const CheckContext unsampled = make_check_context(live, {std::nullopt, 0});
    EXPECT_FALSE(unsampled.online.empty());
    EXPECT_TRUE(unsampled.samples.empty());
    EXPECT_EQ(unsampled.interval_seconds, 0);
    const CheckContext ctx = make_check_context(live, {std::nullopt, 0.05});
    const CounterSample* stat = ctx.sample("/proc/stat");
    ASSERT_NE(stat, nullptr);
    EXPECT_EQ(stat->seconds, 0.05);
    EXPECT_EQ(ctx.interval_seconds, 0.05);
    EXPECT_EQ(stat->before.rfind("cpu ", 0), 0u);
    EXPECT_NE(ctx.sample("/proc/interrupts"), nullptr);
}

}  // namespace
}  // namespace qc::monitor
