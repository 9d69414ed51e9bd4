// Snapshots: the recorder keeps the first reading and the listed
// directories, the target must be new or empty, and a snapshot of a tree
// judged again gives the verdicts the tree itself gave.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "check/check_registry.hpp"
#include "check/check_report.hpp"
#include "check/snapshot.hpp"
#include "check/snapshot_recorder.hpp"
#include "quietcore/core/error.hpp"
#include "temp_tree.hpp"

namespace qc::monitor {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TempTree;

TEST(SnapshotRecorder, FirstReadWinsAndListedDirectoriesKeepTheirSubdirectories) {
    TempTree source;
    source.write("proc/irq/24/smp_affinity_list", "0-1\n");
    source.write("proc/irq/25/node", "0\n");
    source.write("proc/irq/default_smp_affinity", "3\n");
    const SystemRoot sys(source.path());
    SnapshotRecorder recorder(sys);
    recorder.file_read("/proc/stat", "before");
    recorder.file_read("/proc/stat", "after");
    recorder.directory_listed("/proc/irq");
    EXPECT_EQ(recorder.files().at("/proc/stat"), "before");
    EXPECT_EQ(recorder.directories(),
              (std::set<std::string, std::less<>>{"/proc/irq", "/proc/irq/24", "/proc/irq/25"}));

    TempTree out;
    recorder.write_to(out.path());
    EXPECT_EQ(read_file(out / "proc/stat"), "before");
    EXPECT_TRUE(fs::is_directory(out / "proc/irq/24"));
    EXPECT_TRUE(fs::is_empty(out / "proc/irq/24"));  // its files were not read
    EXPECT_FALSE(fs::exists(out / "proc/irq/default_smp_affinity"));
}

TEST(SnapshotRecorder, WritesOnlyInsideTheDirectory) {
    TempTree out;
    write_under(out.path(), "/proc/cmdline", std::string("a\0b", 3));
    EXPECT_EQ(read_file(out / "proc/cmdline"), std::string("a\0b", 3));
    EXPECT_THROW(write_under(out.path(), "proc/cmdline", "x"), core::Error);
    EXPECT_THROW(write_under(out.path(), "/proc/../../etc/passwd", "x"), core::Error);
}

TEST(SnapshotTarget, NewOrEmptyOnly) {
    TempTree dir;
    EXPECT_NO_THROW(check_snapshot_target(dir.path()));
    EXPECT_NO_THROW(check_snapshot_target(dir / "new"));
    dir.write("file", "x");
    try {
        check_snapshot_target(dir.path());
        FAIL() << "a non-empty directory must be refused";
    } catch (const core::Error& e) {
        EXPECT_NE(std::string(e.what()).find(dir.path()), std::string::npos) << e.what();
    }
    EXPECT_THROW(check_snapshot_target(dir / "file"), core::Error);
}

// Test-only checks reading the way real ones do: files, a listing with
// reads below it, exists(), a missing file, a sample.
CheckResult reads_cmdline(const CheckContext& ctx) {
    const auto text = ctx.sys->read("/proc/cmdline");
    if (!text) {
        return check_skip("/proc/cmdline is missing");
    }
    std::vector<Evidence> evidence = {{"/proc/cmdline", *text}};
    if (text->find("nohz_full=") != std::string::npos) {
        return check_ok("nohz_full= given", std::move(evidence));
    }
    return check_fail("no nohz_full=", std::move(evidence), "add nohz_full=");
}
CheckResult lists_nodes(const CheckContext& ctx) {
    std::string found;
    for (const std::string& name : ctx.sys->list("/sys/devices/system/node")) {
        if (name.starts_with("node")) {
            found += name + "=" +
                     ctx.sys->read("/sys/devices/system/node/" + name + "/cpulist").value_or("?\n");
        }
    }
    return check_ok("nodes " + found, {{"/sys/devices/system/node", found}});
}
CheckResult probes_paths(const CheckContext& ctx) {
    const bool smt = ctx.sys->exists("/sys/devices/system/cpu/smt");
    const bool control = ctx.sys->exists("/sys/devices/system/cpu/smt/control");
    const bool missing = ctx.sys->read("/proc/sys/kernel/no_such_knob").has_value();
    const std::string value =
        std::to_string(smt) + std::to_string(control) + std::to_string(missing);
    std::vector<Evidence> evidence = {{"/sys/devices/system/cpu/smt", value}};
    if (value == "110") {
        return check_ok("as expected", std::move(evidence));
    }
    return check_warn("unexpected", std::move(evidence), "none");
}
CheckResult uses_sample(const CheckContext& ctx) {
    const CounterSample* sample = ctx.sample("/proc/interrupts");
    if (sample == nullptr) {
        return check_skip("no sample of /proc/interrupts");
    }
    return check_ok("sampled", {{"/proc/interrupts", sample->before + "|" + sample->after}});
}

const std::vector<CheckDef> kTestChecks = {{"t.cmdline", "cmdline", reads_cmdline},
                                           {"t.nodes", "nodes", lists_nodes},
                                           {"t.paths", "paths", probes_paths},
                                           {"t.sample", "sample", uses_sample}};

nlohmann::ordered_json verdicts(const SystemRoot& sys, const std::vector<CheckDef>& checks,
                                const ContextOptions& options = {}) {
    const CheckContext ctx = make_check_context(sys, options);
    return check_outcomes_json(run_checks(checks, ctx));
}

struct SnapshotOfTuned : ::testing::Test {
    TempTree source{
        "tuned",
        {"sys/devices/system/cpu", "sys/devices/system/node", "proc/sys/kernel", "proc/cmdline"}};
    TempTree out;
    std::string dir = out / "snap";

    void SetUp() override {
        source.write("proc/interrupts", "           CPU0\n LOC:  100\n");
        source.write("qc-monitor/after/proc/interrupts", "           CPU0\n LOC:  350\n");
        source.write("qc-monitor/snapshot.json", R"({"interval_seconds": 1.5})");
    }
};

TEST_F(SnapshotOfTuned, CopiesWhatTheChecksReadAndTheSamples) {
    SystemRoot sys(source.path());
    const SnapshotSummary summary = take_snapshot(sys, {}, kTestChecks, dir);
    EXPECT_EQ(summary.run.counts.ok, 4) << check_outcomes_json(summary.run).dump(2);
    EXPECT_EQ(summary.interval_seconds, 1.5);
    EXPECT_GT(summary.files, 5u);
    for (const char* path :
         {"proc/cmdline", "sys/devices/system/node/node1/cpulist", "sys/devices/system/cpu/online",
          "sys/devices/system/cpu/smt/control", "proc/interrupts", "proc/sys/kernel/osrelease"}) {
        EXPECT_EQ(read_file(dir + "/" + path), read_file(source / path)) << path;
    }
    EXPECT_EQ(read_file(dir + "/qc-monitor/after/proc/interrupts"),
              read_file(source / "qc-monitor/after/proc/interrupts"));
    // Not read by any check: not copied.
    EXPECT_FALSE(fs::exists(dir + "/sys/devices/system/cpu/cpu3/topology/core_id"));
    EXPECT_FALSE(fs::exists(dir + "/proc/sys/kernel/no_such_knob"));
    EXPECT_FALSE(sys.exists("/proc/sys/kernel/no_such_knob"));  // the recorder is gone

    const auto meta = nlohmann::ordered_json::parse(read_file(dir + "/qc-monitor/snapshot.json"));
    EXPECT_EQ(meta["interval_seconds"], 1.5);
    EXPECT_EQ(meta["kernel_release"], "6.1.0-qc");
    EXPECT_TRUE(meta["isolated"].is_null());
    EXPECT_TRUE(meta["captured_at"].get<std::string>().ends_with("Z"));
    EXPECT_TRUE(meta.contains("hostname"));
    EXPECT_EQ(meta["qc_monitor_checks"], check_outcomes_json(summary.run));
}

TEST_F(SnapshotOfTuned, JudgedAgainItGivesTheSameVerdicts) {
    source.write("proc/cmdline", "BOOT_IMAGE=/boot/vmlinuz ro quiet\n");  // t.cmdline fails
    SystemRoot sys(source.path());
    const nlohmann::ordered_json original = verdicts(sys, kTestChecks);
    const SnapshotSummary summary = take_snapshot(sys, {}, kTestChecks, dir);
    EXPECT_EQ(check_outcomes_json(summary.run), original);
    EXPECT_EQ(verdicts(SystemRoot(dir), kTestChecks), original);
    EXPECT_EQ(original[0]["status"], "fail");
}

TEST_F(SnapshotOfTuned, KeepsTheIsolatedFlag) {
    SystemRoot sys(source.path());
    (void)take_snapshot(sys, {core::CpuSet::parse_list("6-7"), 1.0}, kTestChecks, dir);
    const auto meta = nlohmann::ordered_json::parse(read_file(dir + "/qc-monitor/snapshot.json"));
    EXPECT_EQ(meta["isolated"], "6-7");
    EXPECT_EQ(make_check_context(SystemRoot(dir), {}).isolated.to_list(), "6-7");
}

TEST_F(SnapshotOfTuned, RefusesANonEmptyTargetBeforeReading) {
    out.write("snap/something", "x");
    SystemRoot sys(source.path());
    EXPECT_THROW((void)take_snapshot(sys, {}, kTestChecks, dir), core::Error);
    EXPECT_EQ(read_file(dir + "/something"), "x");
}

// Whatever checks are registered read only through SystemRoot: a snapshot
// of the tuned fixture judges exactly like the fixture.
TEST(Snapshot, RegisteredChecksReadOnlyThroughTheRoot) {
    const TempTree out;
    SystemRoot sys(testing::fixtures_dir() + "/tuned");  // only read
    const nlohmann::ordered_json original = verdicts(sys, all_checks());
    (void)take_snapshot(sys, {}, all_checks(), out / "snap");
    EXPECT_EQ(verdicts(SystemRoot(out / "snap"), all_checks()), original);
}

}  // namespace
}  // namespace qc::monitor
