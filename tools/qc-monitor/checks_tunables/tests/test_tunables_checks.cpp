// Every group B check on the tuned fixture (all ok) and on temporary copies
// of it with one thing changed: the status, the CPUs and values the summary
// names, and the fix.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "check/check_context.hpp"
#include "check/check_registry.hpp"
#include "checks_tunables/checks_tunables.hpp"
#include "quietcore/core/text_file.hpp"
#include "quietcore/isolation/soft_proc_parse.hpp"

namespace qc::monitor::tunables {
namespace {

namespace fs = std::filesystem;

using CheckFn = CheckResult (*)(const CheckContext&);

// A private copy of the tuned fixture to edit.
class Tree {
  public:
    Tree() {
        static int counter = 0;
        dir_ = fs::temp_directory_path() /
               ("qc-tunables-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        fs::remove_all(dir_);
        // Hard links make the copy cheap; write() unlinks before writing, so
        // the fixture itself is never changed. Plain copies across filesystems.
        const fs::path tuned = fs::path(QC_MONITOR_FIXTURES) / "tuned";
        std::error_code ec;
        fs::copy(tuned, dir_, fs::copy_options::recursive | fs::copy_options::create_hard_links,
                 ec);
        if (ec) {
            fs::remove_all(dir_);
            fs::copy(tuned, dir_, fs::copy_options::recursive);
        }
    }
    ~Tree() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    Tree(const Tree&) = delete;
    Tree& operator=(const Tree&) = delete;

    std::string path(const std::string& rel) const { return (dir_ / rel).string(); }

    void write(const std::string& rel, const std::string& text) {
        fs::create_directories(fs::path(path(rel)).parent_path());
        fs::remove(path(rel));  // a hard link to the fixture: never write through it
        std::ofstream(path(rel)) << text;
    }
    void remove(const std::string& rel) { fs::remove_all(path(rel)); }
    std::string read(const std::string& rel) const { return core::read_text_file(path(rel)); }

    // Sets count number `column` (0 = first CPU column) of row `row` in an
    // interrupt table, keeping the layout.
    void set_count(const std::string& rel, const std::string& row, std::size_t column,
                   std::uint64_t value) {
        std::istringstream in(read(rel));
        std::string out;
        std::string line;
        bool done = false;
        while (std::getline(in, line)) {
            const auto first = line.find_first_not_of(' ');
            if (!done && first != std::string::npos &&
                line.compare(first, row.size() + 1, row + ":") == 0) {
                std::size_t pos = first + row.size() + 1;
                for (std::size_t i = 0;; ++i) {
                    const std::size_t start = line.find_first_not_of(' ', pos);
                    const std::size_t end = std::min(line.find(' ', start), line.size());
                    if (i == column) {
                        std::string number = std::to_string(value);
                        const std::size_t width = end - start;
                        if (number.size() < width) {
                            number.insert(0, width - number.size(), ' ');
                        }
                        line.replace(start, end - start, number);
                        break;
                    }
                    pos = end;
                }
                done = true;
            }
            out += line + "\n";
        }
        ASSERT_TRUE(done) << "no row " << row << " in " << rel;
        write(rel, out);
    }
    std::uint64_t count(const std::string& rel, const std::string& row, unsigned cpu) const {
        const auto table = isolation::parse_interrupts(read(rel));
        return table.count(row, cpu).value();
    }
    void add_count(const std::string& rel, const std::string& row, unsigned cpu,
                   std::int64_t delta) {
        set_count(
            rel, row, cpu,
            static_cast<std::uint64_t>(static_cast<std::int64_t>(count(rel, row, cpu)) + delta));
    }

    // Sets field `field` (0 = user) of the "cpuN" line of a /proc/stat copy.
    void set_stat(const std::string& rel, unsigned cpu, std::size_t field, std::int64_t delta) {
        std::istringstream in(read(rel));
        std::string out;
        std::string line;
        const std::string prefix = "cpu" + std::to_string(cpu) + " ";
        while (std::getline(in, line)) {
            if (line.rfind(prefix, 0) == 0) {
                std::istringstream words(line.substr(prefix.size()));
                std::vector<std::int64_t> values;
                std::int64_t v = 0;
                while (words >> v) {
                    values.push_back(v);
                }
                values.at(field) += delta;
                line = prefix;
                for (std::size_t i = 0; i < values.size(); ++i) {
                    line += (i ? " " : "") + std::to_string(values[i]);
                }
            }
            out += line + "\n";
        }
        write(rel, out);
    }

    CheckResult run(CheckFn check, ContextOptions options = {}) const {
        const SystemRoot sys(dir_.string());
        const CheckContext ctx = make_check_context(sys, options);
        return check(ctx);
    }

  private:
    fs::path dir_;
};

constexpr const char* kAfterInterrupts = "qc-monitor/after/proc/interrupts";
constexpr const char* kAfterSoftirqs = "qc-monitor/after/proc/softirqs";
constexpr const char* kAfterStat = "qc-monitor/after/proc/stat";

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::string dump(const CheckResult& r) {
    std::string s = std::string(to_string(r.status)) + ": " + r.summary + " | fix: " + r.fix;
    for (const Evidence& e : r.evidence) {
        s += " | " + e.path + " = " + e.value;
    }
    return s;
}

#define EXPECT_STATUS(result, expected)                                         \
    do {                                                                        \
        const CheckResult& r_ = (result);                                       \
        EXPECT_EQ(r_.status, CheckStatus::expected) << dump(r_);                \
        if (r_.status == CheckStatus::warn || r_.status == CheckStatus::fail) { \
            EXPECT_FALSE(r_.fix.empty()) << dump(r_);                           \
            EXPECT_FALSE(r_.evidence.empty()) << dump(r_);                      \
        }                                                                       \
    } while (0)

// ------------------------------------------------------------------ the group

TEST(TunableChecks, RegistryHasUniqueIdsWithTheAgreedPrefixes) {
    const auto checks = tunable_and_rate_checks();
    EXPECT_GE(checks.size(), 19u);
    const std::set<std::string_view> prefixes = {"watchdog", "clocksource", "vmstat", "timer",
                                                 "mm",       "sched",       "idle",   "pmqos",
                                                 "cpufreq",  "mce",         "rates"};
    std::set<std::string_view> ids;
    for (const CheckDef& c : checks) {
        EXPECT_TRUE(ids.insert(c.id).second) << c.id;
        EXPECT_TRUE(prefixes.count(c.id.substr(0, c.id.find('.')))) << c.id;
        EXPECT_FALSE(c.title.empty());
        EXPECT_NE(c.run, nullptr);
    }
}

TEST(TunableChecks, EveryCheckIsOkOnTheTunedFixture) {
    const Tree tree;
    for (const CheckDef& c : tunable_and_rate_checks()) {
        const CheckResult r = tree.run(c.run);
        EXPECT_EQ(r.status, CheckStatus::ok) << c.id << ": " << dump(r);
        EXPECT_FALSE(r.evidence.empty()) << c.id;
        EXPECT_FALSE(r.summary.empty()) << c.id;
        EXPECT_TRUE(r.fix.empty()) << c.id;
    }
}

TEST(TunableChecks, PerCpuChecksSkipWithoutIsolatedCpusGlobalOnesStillRun) {
    Tree tree;
    tree.write("sys/devices/system/cpu/isolated", "\n");
    tree.write("sys/devices/system/cpu/nohz_full", "(null)\n");
    const std::set<std::string_view> global = {
        "clocksource.current", "vmstat.interval",    "timer.migration", "mm.thp", "mm.ksm",
        "mm.numa_balancing",   "sched.rt_throttling"};
    for (const CheckDef& c : tunable_and_rate_checks()) {
        const CheckResult r = tree.run(c.run);
        if (global.count(c.id)) {
            EXPECT_EQ(r.status, CheckStatus::ok) << c.id << ": " << dump(r);
        } else {
            EXPECT_EQ(r.status, CheckStatus::skip) << c.id << ": " << dump(r);
            EXPECT_TRUE(has(r.summary, "no isolated CPUs")) << c.id << ": " << r.summary;
        }
    }
}

TEST(TunableChecks, IsolatedOptionNarrowsWhatIsJudged) {
    Tree tree;
    tree.write("proc/sys/kernel/soft_watchdog", "1\n");
    tree.write("proc/sys/kernel/watchdog_cpumask", "0-2,4-5\n");
    ContextOptions only3;
    only3.isolated = core::CpuSet{3};
    EXPECT_STATUS(tree.run(check_watchdog_soft, only3), ok);
    ContextOptions only2;
    only2.isolated = core::CpuSet{2};
    const CheckResult r = tree.run(check_watchdog_soft, only2);
    EXPECT_STATUS(r, fail);
    EXPECT_TRUE(has(r.summary, "CPU 2:")) << r.summary;
}

// ------------------------------------------------------------------ watchdogs

TEST(WatchdogSoft, OnOverIsolatedCpusFailsWithTheHousekeepingMaskAsFix) {
    Tree tree;
    tree.write("proc/sys/kernel/soft_watchdog", "1\n");
    tree.write("proc/sys/kernel/watchdog_cpumask", "0-7\n");
    const CheckResult r = tree.run(check_watchdog_soft);
    EXPECT_STATUS(r, fail);
    EXPECT_TRUE(has(r.summary, "CPUs 2-3,6-7")) << r.summary;
    EXPECT_TRUE(has(r.summary, "every 4 s")) << r.summary;
    EXPECT_TRUE(has(r.fix, "sysctl -w kernel.watchdog_cpumask=0-1,4-5")) << r.fix;
    // The NMI watchdog is still off: its check stays ok.
    EXPECT_STATUS(tree.run(check_watchdog_nmi), ok);
}

TEST(WatchdogSoft, OnButMaskedToHousekeepingIsOk) {
    Tree tree;
    tree.write("proc/sys/kernel/soft_watchdog", "1\n");
    const CheckResult r = tree.run(check_watchdog_soft);
    EXPECT_STATUS(r, ok);
    EXPECT_TRUE(has(r.summary, "0-1,4-5")) << r.summary;
}

TEST(WatchdogSoft, GlobalSwitchOffWins) {
    Tree tree;
    tree.write("proc/sys/kernel/watchdog", "0\n");
    tree.write("proc/sys/kernel/soft_watchdog", "1\n");
    tree.write("proc/sys/kernel/watchdog_cpumask", "0-7\n");
    EXPECT_STATUS(tree.run(check_watchdog_soft), ok);
}

TEST(WatchdogSoft, GarbageMaskFailsNamingTheFile) {
    Tree tree;
    tree.write("proc/sys/kernel/soft_watchdog", "1\n");
    tree.write("proc/sys/kernel/watchdog_cpumask", "0-1,zz\n");
    const CheckResult r = tree.run(check_watchdog_soft);
    EXPECT_STATUS(r, fail);
    EXPECT_TRUE(has(r.summary, "/proc/sys/kernel/watchdog_cpumask")) << r.summary;
    EXPECT_TRUE(has(r.summary, "0-1,zz")) << r.summary;
}

TEST(WatchdogSoft, KernelWithoutLockupDetectorIsOk) {
    Tree tree;
    tree.remove("proc/sys/kernel/watchdog");
    const CheckResult r = tree.run(check_watchdog_soft);
    EXPECT_STATUS(r, ok);
    EXPECT_EQ(r.evidence.at(0).value, "(missing)");
}

TEST(WatchdogNmi, OnOverIsolatedCpusFails) {
    Tree tree;
    tree.write("proc/sys/kernel/nmi_watchdog", "1\n");
    tree.write("proc/sys/kernel/watchdog_cpumask", "0-3\n");
    const CheckResult r = tree.run(check_watchdog_nmi);
    EXPECT_STATUS(r, fail);
    EXPECT_TRUE(has(r.summary, "CPUs 2-3")) << r.summary;
    EXPECT_TRUE(has(r.fix, "kernel.nmi_watchdog=0")) << r.fix;
    EXPECT_STATUS(tree.run(check_watchdog_soft), ok);
}

TEST(WatchdogNmi, OnButMaskedOrGloballyOffIsOk) {
    Tree tree;
    tree.write("proc/sys/kernel/nmi_watchdog", "1\n");
    EXPECT_STATUS(tree.run(check_watchdog_nmi), ok);
    tree.write("proc/sys/kernel/watchdog_cpumask", "0-7\n");
    tree.write("proc/sys/kernel/watchdog", "0\n");
    EXPECT_STATUS(tree.run(check_watchdog_nmi), ok);
    tree.write("proc/sys/kernel/watchdog", "1\n");
    EXPECT_STATUS(tree.run(check_watchdog_nmi), fail);
}

// ------------------------------------------------------------------ clocksource

constexpr const char* kClock = "sys/devices/system/clocksource/clocksource0/current_clocksource";
constexpr const char* kClocks = "sys/devices/system/clocksource/clocksource0/available_clocksource";

TEST(Clocksource, HpetWithTscAvailableFailsAndSwitchesBack) {
    Tree tree;
    tree.write(kClock, "hpet\n");
    const CheckResult r = tree.run(check_clocksource);
    EXPECT_STATUS(r, fail);
    EXPECT_TRUE(has(r.summary, "hpet")) << r.summary;
    EXPECT_TRUE(has(r.fix,
                    "echo tsc > /sys/devices/system/clocksource/clocksource0/"
                    "current_clocksource"))
        << r.fix;
}

TEST(Clocksource, AcpiPmWithoutTscPointsAtTheFirmware) {
    Tree tree;
    tree.write(kClock, "acpi_pm\n");
    tree.write(kClocks, "hpet acpi_pm \n");
    const CheckResult r = tree.run(check_clocksource);
    EXPECT_STATUS(r, fail);
    EXPECT_TRUE(has(r.fix, "tsc=reliable")) << r.fix;
    EXPECT_FALSE(has(r.fix, "echo tsc")) << r.fix;
}

TEST(Clocksource, ParavirtualClockIsOkUnknownOneWarns) {
    Tree tree;
    tree.write(kClock, "kvm-clock\n");
    EXPECT_STATUS(tree.run(check_clocksource), ok);
    tree.write(kClock, "some-clock\n");
    EXPECT_STATUS(tree.run(check_clocksource), warn);
    tree.write(kClock, "jiffies\n");
    EXPECT_STATUS(tree.run(check_clocksource), fail);
}

TEST(Clocksource, Arm64ExpectsTheGenericTimer) {
    Tree tree;
    tree.write("proc/sys/kernel/arch", "aarch64\n");
    tree.write(kClock, "arch_sys_counter\n");
    tree.write(kClocks, "arch_sys_counter \n");
    EXPECT_STATUS(tree.run(check_clocksource), ok);
    tree.write(kClock, "some-clock\n");
    const CheckResult r = tree.run(check_clocksource);
    EXPECT_STATUS(r, warn);
    EXPECT_TRUE(has(r.summary, "expected arch_sys_counter on aarch64")) << r.summary;
}

TEST(Clocksource, WithoutAnArchTheNameStillDecides) {
    Tree tree;
    tree.remove("proc/sys/kernel/arch");  // kernels before /proc/sys/kernel/arch
    tree.write(kClock, "hpet\n");
    EXPECT_STATUS(tree.run(check_clocksource), fail);
    tree.write(kClock, "tsc\n");
    EXPECT_STATUS(tree.run(check_clocksource), ok);
}

TEST(Clocksource, MissingSkipsGarbageFails) {
    Tree tree;
    tree.write(kClock, "tsc hpet\n");
    EXPECT_STATUS(tree.run(check_clocksource), fail);
    tree.remove("sys/devices/system/clocksource");
    const CheckResult r = tree.run(check_clocksource);
    EXPECT_STATUS(r, skip);
    EXPECT_TRUE(has(r.summary, "current_clocksource")) << r.summary;
}

// ------------------------------------------------------------------ sysctls

TEST(VmstatInterval, ThresholdIsTen) {
    Tree tree;
    tree.write("proc/sys/vm/stat_interval", "1\n");
    const CheckResult r = tree.run(check_vmstat_interval);
    EXPECT_STATUS(r, warn);
    EXPECT_TRUE(has(r.summary, "vm.stat_interval=1")) << r.summary;
    EXPECT_TRUE(has(r.fix, "sysctl -w vm.stat_interval=10")) << r.fix;
    tree.write("proc/sys/vm/stat_interval", "9\n");
    EXPECT_STATUS(tree.run(check_vmstat_interval), warn);
    tree.write("proc/sys/vm/stat_interval", "60\n");
    EXPECT_STATUS(tree.run(check_vmstat_interval), ok);
    tree.write("proc/sys/vm/stat_interval", "0\n");
    EXPECT_STATUS(tree.run(check_vmstat_interval), fail);
}

TEST(VmstatInterval, GarbageFailsMissingSkips) {
    Tree tree;
    tree.write("proc/sys/vm/stat_interval", "ten\n");
    const CheckResult r = tree.run(check_vmstat_interval);
    EXPECT_STATUS(r, fail);
    EXPECT_TRUE(has(r.summary, "/proc/sys/vm/stat_interval holds \"ten\"")) << r.summary;
    tree.remove("proc/sys/vm/stat_interval");
    EXPECT_STATUS(tree.run(check_vmstat_interval), skip);
}

TEST(TimerMigration, OffWarnsOutOfRangeFails) {
    Tree tree;
    tree.write("proc/sys/kernel/timer_migration", "0\n");
    const CheckResult r = tree.run(check_timer_migration);
    EXPECT_STATUS(r, warn);
    EXPECT_TRUE(has(r.fix, "kernel.timer_migration=1")) << r.fix;
    tree.write("proc/sys/kernel/timer_migration", "2\n");
    EXPECT_STATUS(tree.run(check_timer_migration), fail);
}

TEST(RtThrottling, DefaultBudgetFailsNamingTheStop) {
    Tree tree;
    tree.write("proc/sys/kernel/sched_rt_runtime_us", "950000\n");
    const CheckResult r = tree.run(check_rt_throttling);
    EXPECT_STATUS(r, fail);
    EXPECT_TRUE(has(r.summary, "50 ms of every 1000 ms")) << r.summary;
    EXPECT_TRUE(has(r.fix, "kernel.sched_rt_runtime_us=-1")) << r.fix;
    tree.write("proc/sys/kernel/sched_rt_runtime_us", "1000000\n");
    EXPECT_STATUS(tree.run(check_rt_throttling), ok);
    tree.write("proc/sys/kernel/sched_rt_runtime_us", "\n");
    EXPECT_STATUS(tree.run(check_rt_throttling), fail);
}

// ------------------------------------------------------------------ memory

constexpr const char* kThp = "sys/kernel/mm/transparent_hugepage/enabled";
constexpr const char* kDefrag = "sys/kernel/mm/transparent_hugepage/defrag";

TEST(Thp, AlwaysWarns) {
    Tree tree;
    tree.write(kThp, "[always] madvise never\n");
    const CheckResult r = tree.run(check_thp);
    EXPECT_STATUS(r, warn);
    EXPECT_TRUE(has(r.summary, "enabled=always")) << r.summary;
    EXPECT_TRUE(has(r.fix, "echo never > /sys/kernel/mm/transparent_hugepage/enabled")) << r.fix;
}

TEST(Thp, DefragMattersOnlyWhenHugePagesCanBeUsed) {
    Tree tree;
    tree.write(kDefrag, "[always] defer defer+madvise madvise never\n");
    EXPECT_STATUS(tree.run(check_thp), ok);  // enabled=never
    tree.write(kThp, "always [madvise] never\n");
    const CheckResult r = tree.run(check_thp);
    EXPECT_STATUS(r, warn);
    EXPECT_TRUE(has(r.summary, "defrag=always")) << r.summary;
    tree.write(kDefrag, "always defer defer+madvise [madvise] never\n");
    EXPECT_STATUS(tree.run(check_thp), ok);
}

TEST(Thp, NoSelectionFailsMissingIsOk) {
    Tree tree;
    tree.write(kThp, "always madvise never\n");
    EXPECT_STATUS(tree.run(check_thp), fail);
    tree.remove("sys/kernel/mm/transparent_hugepage");
    EXPECT_STATUS(tree.run(check_thp), ok);
}

TEST(Ksm, RunningWarnsUnmergedIsOk) {
    Tree tree;
    tree.write("sys/kernel/mm/ksm/run", "1\n");
    tree.write("sys/kernel/mm/ksm/pages_shared", "812\n");
    const CheckResult r = tree.run(check_ksm);
    EXPECT_STATUS(r, warn);
    EXPECT_TRUE(has(r.summary, "pages_shared=812")) << r.summary;
    tree.write("sys/kernel/mm/ksm/run", "2\n");
    EXPECT_STATUS(tree.run(check_ksm), ok);
    tree.write("sys/kernel/mm/ksm/run", "3\n");
    EXPECT_STATUS(tree.run(check_ksm), fail);
    tree.remove("sys/kernel/mm/ksm");
    EXPECT_STATUS(tree.run(check_ksm), ok);
}

TEST(NumaBalancing, OnFailsWithTwoNodesOnly) {
    Tree tree;
    tree.write("proc/sys/kernel/numa_balancing", "1\n");
    const CheckResult r = tree.run(check_numa_balancing);
    EXPECT_STATUS(r, fail);
    EXPECT_TRUE(has(r.summary, "nodes 0-1")) << r.summary;
    tree.write("sys/devices/system/node/online", "0\n");
    EXPECT_STATUS(tree.run(check_numa_balancing), ok);
    tree.write("proc/sys/kernel/numa_balancing", "on\n");
    EXPECT_STATUS(tree.run(check_numa_balancing), fail);
}

// ------------------------------------------------------------------ idle, PM QoS

TEST(IdleStates, AnEnabledDeepStateWarnsWithTheSysfsFix) {
    Tree tree;
    tree.write("sys/devices/system/cpu/cpu6/cpuidle/state3/disable", "0\n");
    const CheckResult r = tree.run(check_idle_states);
    EXPECT_STATUS(r, warn);
    EXPECT_TRUE(has(r.summary, "CPU 6: C6 133 us")) << r.summary;
    EXPECT_FALSE(has(r.summary, "CPU 7")) << r.summary;
    EXPECT_TRUE(has(r.fix, "echo 1 > /sys/devices/system/cpu/cpu6/cpuidle/state3/disable"))
        << r.fix;
    EXPECT_STATUS(tree.run(check_pmqos_resume_latency), ok);
}

TEST(IdleStates, SeveralCpusAndStatesGiveOneShellLoop) {
    Tree tree;
    tree.write("sys/devices/system/cpu/cpu2/cpuidle/state3/disable", "0\n");
    tree.write("sys/devices/system/cpu/cpu7/cpuidle/state3/disable", "0\n");
    tree.write("sys/devices/system/cpu/cpu7/cpuidle/state2/latency", "40\n");
    const CheckResult r = tree.run(check_idle_states);
    EXPECT_STATUS(r, warn);
    EXPECT_TRUE(has(r.fix, "cpu{2,7}/cpuidle/state{2,3}/disable")) << r.fix;
}

TEST(IdleStates, NoCpuidleIsOkGarbageFails) {
    Tree tree;
    tree.write("sys/devices/system/cpu/cpu3/cpuidle/state1/latency", "fast\n");
    const CheckResult bad = tree.run(check_idle_states);
    EXPECT_STATUS(bad, fail);
    EXPECT_TRUE(has(bad.summary, "cpu3/cpuidle/state1/latency")) << bad.summary;
    EXPECT_STATUS(tree.run(check_pmqos_resume_latency), ok);  // only counts the states
    for (const unsigned cpu : {2u, 3u, 6u, 7u}) {
        tree.remove("sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpuidle");
    }
    tree.write("sys/devices/system/cpu/cpuidle/current_driver", "none\n");
    const CheckResult r = tree.run(check_idle_states);
    EXPECT_STATUS(r, ok);
    EXPECT_TRUE(has(r.summary, "cpuidle driver: none")) << r.summary;
    // Without idle states PM QoS has nothing to limit.
    tree.write("sys/devices/system/cpu/cpu3/power/pm_qos_resume_latency_us", "0\n");
    EXPECT_STATUS(tree.run(check_pmqos_resume_latency), ok);
}

TEST(PmQos, NoLimitOrALooseOneWarns) {
    Tree tree;
    tree.write("sys/devices/system/cpu/cpu3/power/pm_qos_resume_latency_us", "0\n");
    tree.write("sys/devices/system/cpu/cpu7/power/pm_qos_resume_latency_us", "200\n");
    const CheckResult r = tree.run(check_pmqos_resume_latency);
    EXPECT_STATUS(r, warn);
    EXPECT_TRUE(has(r.summary, "CPU 3: 0 (no limit)")) << r.summary;
    EXPECT_TRUE(has(r.summary, "CPU 7: 200 us")) << r.summary;
    EXPECT_TRUE(has(r.fix, "for c in 3 7; do echo n/a >")) << r.fix;
    EXPECT_STATUS(tree.run(check_idle_states), ok);
    tree.write("sys/devices/system/cpu/cpu3/power/pm_qos_resume_latency_us", "10\n");
    tree.write("sys/devices/system/cpu/cpu7/power/pm_qos_resume_latency_us", "n/a\n");
    EXPECT_STATUS(tree.run(check_pmqos_resume_latency), ok);
}

TEST(PmQos, GarbageFailsMissingSkips) {
    Tree tree;
    tree.write("sys/devices/system/cpu/cpu2/power/pm_qos_resume_latency_us", "fast\n");
    EXPECT_STATUS(tree.run(check_pmqos_resume_latency), fail);
    for (const unsigned cpu : {2u, 3u, 6u, 7u}) {
        tree.remove("sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/power");
    }
    EXPECT_STATUS(tree.run(check_pmqos_resume_latency), skip);
}

// ------------------------------------------------------------------ cpufreq, MCE

TEST(CpufreqGovernor, OtherGovernorWarnsNoDriverSkips) {
    Tree tree;
    tree.write("sys/devices/system/cpu/cpu7/cpufreq/scaling_governor", "powersave\n");
    const CheckResult r = tree.run(check_cpufreq_governor);
    EXPECT_STATUS(r, warn);
    EXPECT_TRUE(has(r.summary, "CPU 7: powersave")) << r.summary;
    EXPECT_TRUE(has(r.fix, "cpupower -c 7 frequency-set -g performance")) << r.fix;
    EXPECT_STATUS(tree.run(check_cpufreq_range), ok);
    for (const unsigned cpu : {2u, 3u, 6u, 7u}) {
        tree.remove("sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq");
    }
    const CheckResult none = tree.run(check_cpufreq_governor);
    EXPECT_STATUS(none, skip);
    EXPECT_TRUE(has(none.summary, "no cpufreq driver (VM or fixed frequency)")) << none.summary;
    EXPECT_STATUS(tree.run(check_cpufreq_range), skip);
}

TEST(CpufreqRange, ARangeWarnsGarbageFails) {
    Tree tree;
    tree.write("sys/devices/system/cpu/cpu2/cpufreq/scaling_min_freq", "800000\n");
    const CheckResult r = tree.run(check_cpufreq_range);
    EXPECT_STATUS(r, warn);
    EXPECT_TRUE(has(r.summary, "CPU 2: 800000-2600000 kHz")) << r.summary;
    EXPECT_TRUE(has(r.fix,
                    "cat /sys/devices/system/cpu/cpu2/cpufreq/scaling_max_freq > "
                    "/sys/devices/system/cpu/cpu2/cpufreq/scaling_min_freq"))
        << r.fix;
    EXPECT_FALSE(has(r.fix, "$c")) << r.fix;
    EXPECT_STATUS(tree.run(check_cpufreq_governor), ok);
    tree.write("sys/devices/system/cpu/cpu2/cpufreq/scaling_min_freq", "lots\n");
    EXPECT_STATUS(tree.run(check_cpufreq_range), fail);
}

TEST(McePolling, PollingFailsEitherSwitchStopsIt) {
    Tree tree;
    for (unsigned cpu = 0; cpu < 8; ++cpu) {
        tree.write(
            "sys/devices/system/machinecheck/machinecheck" + std::to_string(cpu) + "/ignore_ce",
            "0\n");
    }
    const CheckResult r = tree.run(check_mce_polling);
    EXPECT_STATUS(r, fail);
    EXPECT_TRUE(has(r.summary, "CPUs 2-3,6-7")) << r.summary;
    EXPECT_TRUE(has(r.summary, "check_interval=300")) << r.summary;
    EXPECT_TRUE(has(r.fix, "ignore_ce")) << r.fix;
    for (unsigned cpu = 0; cpu < 8; ++cpu) {
        tree.write("sys/devices/system/machinecheck/machinecheck" + std::to_string(cpu) +
                       "/check_interval",
                   "0\n");
    }
    EXPECT_STATUS(tree.run(check_mce_polling), ok);
}

TEST(McePolling, Arm64AndNoMachinecheckSkip) {
    Tree tree;
    tree.remove("sys/devices/system/machinecheck");
    const CheckResult none = tree.run(check_mce_polling);
    EXPECT_STATUS(none, skip);
    EXPECT_TRUE(has(none.summary, "mce=off")) << none.summary;
    tree.write("proc/sys/kernel/arch", "aarch64\n");
    const CheckResult arm = tree.run(check_mce_polling);
    EXPECT_STATUS(arm, skip);
    EXPECT_TRUE(has(arm.summary, "x86-only")) << arm.summary;
}

TEST(McePolling, GarbageFails) {
    Tree tree;
    tree.write("sys/devices/system/machinecheck/machinecheck6/check_interval", "300s\n");
    const CheckResult r = tree.run(check_mce_polling);
    EXPECT_STATUS(r, fail);
    EXPECT_TRUE(has(r.summary, "machinecheck6/check_interval")) << r.summary;
}

// ------------------------------------------------------------------ rates

TEST(LocalTimerRate, RunningTickFailsStrayTimersWarn) {
    Tree tree;
    tree.add_count(kAfterInterrupts, "LOC", 3, 250);
    const CheckResult r = tree.run(check_local_timer_rate);
    EXPECT_STATUS(r, fail);
    EXPECT_TRUE(has(r.summary, "CPU 3 250/s")) << r.summary;
    EXPECT_TRUE(has(r.fix, "-C 3")) << r.fix;
    EXPECT_STATUS(tree.run(check_other_irq_rate), ok);

    Tree warn_tree;
    warn_tree.add_count(kAfterInterrupts, "LOC", 7, 12);
    const CheckResult w = warn_tree.run(check_local_timer_rate);
    EXPECT_STATUS(w, warn);
    EXPECT_TRUE(has(w.summary, "CPU 7 12.0/s")) << w.summary;
}

TEST(LocalTimerRate, HousekeepingTicksDoNotCount) {
    Tree tree;
    tree.add_count(kAfterInterrupts, "LOC", 0, 5000);
    EXPECT_STATUS(tree.run(check_local_timer_rate), ok);
}

TEST(LocalTimerRate, BackwardsLocFailsBackwardsResDoesNot) {
    Tree tree;
    tree.add_count(kAfterInterrupts, "RES", 6, -50);
    EXPECT_STATUS(tree.run(check_local_timer_rate), ok);
    const CheckResult other = tree.run(check_other_irq_rate);
    EXPECT_STATUS(other, fail);
    EXPECT_TRUE(has(other.summary, "/proc/interrupts")) << other.summary;
    EXPECT_TRUE(has(other.summary, "\"RES\" on CPU 6 went backwards")) << other.summary;
    tree.add_count(kAfterInterrupts, "LOC", 2, -1000);
    EXPECT_STATUS(tree.run(check_local_timer_rate), fail);
}

TEST(LocalTimerRate, VanishedCpuFailsBothInterruptChecks) {
    Tree tree;
    std::string text = tree.read(kAfterInterrupts);
    // Drop the CPU7 column: the header word and the 8th count of each row.
    std::istringstream in(text);
    std::string out;
    std::string line;
    bool header = true;
    while (std::getline(in, line)) {
        if (header) {
            line = line.substr(0, line.find("CPU7"));
            header = false;
        } else if (line.size() > 5 + 11 * 8 && line.find("ERR") == std::string::npos &&
                   line.find("MIS") == std::string::npos) {
            const std::size_t colon = line.find(':');
            line.erase(colon + 1 + 11 * 7, 11);
        }
        out += line + "\n";
    }
    tree.write(kAfterInterrupts, out);
    const CheckResult loc = tree.run(check_local_timer_rate);
    EXPECT_STATUS(loc, fail);
    EXPECT_TRUE(has(loc.summary, "CPU 7 is missing from the second reading")) << loc.summary;
    EXPECT_TRUE(has(loc.fix, "online")) << loc.fix;
    EXPECT_STATUS(tree.run(check_other_irq_rate), fail);
}

TEST(LocalTimerRate, NoSecondReadingSkips) {
    Tree tree;
    tree.remove("qc-monitor/after");
    for (const CheckFn check : {check_local_timer_rate, check_other_irq_rate, check_softirq_rate,
                                check_kernel_time, check_steal_time}) {
        const CheckResult r = tree.run(check);
        EXPECT_STATUS(r, skip);
        EXPECT_TRUE(has(r.summary, "no second reading of /proc/")) << r.summary;
    }
    Tree zero;
    zero.write("qc-monitor/snapshot.json", "{\"interval_seconds\": 0}\n");
    EXPECT_STATUS(zero.run(check_local_timer_rate), skip);
}

TEST(LocalTimerRate, GarbageLocRowFails) {
    Tree tree;
    std::string text = tree.read(kAfterInterrupts);
    const std::size_t loc = text.find("LOC:");
    text.replace(loc, text.find('\n', loc) - loc, "LOC:   lots of ticks");
    tree.write(kAfterInterrupts, text);
    const CheckResult r = tree.run(check_local_timer_rate);
    EXPECT_STATUS(r, fail);
    EXPECT_TRUE(has(r.summary, "unreadable line \"LOC:   lots of ticks\"")) << r.summary;
    EXPECT_STATUS(tree.run(check_other_irq_rate), ok);
}

TEST(OtherIrqRate, DeviceIrqOnAnIsolatedCpuFailsWithAnAffinityFix) {
    Tree tree;
    tree.add_count(kAfterInterrupts, "25", 2, 400);
    tree.add_count(kAfterInterrupts, "RES", 2, 3);
    const CheckResult r = tree.run(check_other_irq_rate);
    EXPECT_STATUS(r, fail);
    EXPECT_TRUE(has(r.summary, "CPU 2: IRQ 25 (virtio0-input.0) 400/s")) << r.summary;
    EXPECT_TRUE(has(r.summary, "CPU 2: RES (Rescheduling interrupts) 3.0/s")) << r.summary;
    EXPECT_FALSE(has(r.summary, "CPU 6")) << r.summary;          // quiet CPUs are not named
    EXPECT_LT(r.summary.find("IRQ 25"), r.summary.find("RES"));  // worst first
    EXPECT_TRUE(has(r.fix, "echo 0-1,4-5 > /proc/irq/25/smp_affinity_list")) << r.fix;
    EXPECT_STATUS(tree.run(check_local_timer_rate), ok);
}

TEST(OtherIrqRate, AFewIpisWarn) {
    Tree tree;
    tree.add_count(kAfterInterrupts, "RES", 6, 5);
    const CheckResult r = tree.run(check_other_irq_rate);
    EXPECT_STATUS(r, warn);
    EXPECT_TRUE(has(r.summary, "CPU 6")) << r.summary;
    EXPECT_TRUE(has(r.fix, "irq_vectors")) << r.fix;
}

TEST(SoftirqRate, NetRxOnAnIsolatedCpuFailsWithAnRpsFix) {
    Tree tree;
    tree.add_count(kAfterSoftirqs, "NET_RX", 3, 300);
    const CheckResult r = tree.run(check_softirq_rate);
    EXPECT_STATUS(r, fail);
    EXPECT_TRUE(has(r.summary, "CPU 3: NET_RX 300/s")) << r.summary;
    EXPECT_FALSE(has(r.summary, "CPU 2: TIMER")) << r.summary;  // one TIMER on CPU 2 is quiet
    EXPECT_TRUE(has(r.fix, "rps_cpus")) << r.fix;
}

TEST(SoftirqRate, AFewTimerSoftirqsWarnBackwardsFails) {
    Tree tree;
    tree.add_count(kAfterSoftirqs, "TIMER", 7, 5);
    const CheckResult r = tree.run(check_softirq_rate);
    EXPECT_STATUS(r, warn);
    EXPECT_TRUE(has(r.fix, "rates.local_timer")) << r.fix;
    tree.add_count(kAfterSoftirqs, "RCU", 2, -10);
    const CheckResult back = tree.run(check_softirq_rate);
    EXPECT_STATUS(back, fail);
    EXPECT_TRUE(has(back.summary, "/proc/softirqs")) << back.summary;
}

TEST(KernelTime, SystemTimeOnAnIsolatedCpuIsJudgedAsAShare) {
    Tree tree;
    tree.set_stat(kAfterStat, 7, 0, -30);  // user 30 ticks less
    tree.set_stat(kAfterStat, 7, 2, 30);   // system 30 ticks more
    const CheckResult r = tree.run(check_kernel_time);
    EXPECT_STATUS(r, fail);
    EXPECT_TRUE(has(r.summary, "CPU 7 30.0%")) << r.summary;
    EXPECT_STATUS(tree.run(check_steal_time), ok);

    Tree warn_tree;
    warn_tree.set_stat(kAfterStat, 3, 0, -5);
    warn_tree.set_stat(kAfterStat, 3, 6, 5);  // softirq
    EXPECT_STATUS(warn_tree.run(check_kernel_time), warn);
}

TEST(StealTime, StolenTimeWarnsThenFails) {
    Tree tree;
    tree.set_stat(kAfterStat, 6, 0, -5);
    tree.set_stat(kAfterStat, 6, 7, 5);
    const CheckResult r = tree.run(check_steal_time);
    EXPECT_STATUS(r, warn);
    EXPECT_TRUE(has(r.summary, "CPU 6")) << r.summary;
    EXPECT_STATUS(tree.run(check_kernel_time), ok);
    tree.set_stat(kAfterStat, 6, 0, -20);
    tree.set_stat(kAfterStat, 6, 7, 20);
    EXPECT_STATUS(tree.run(check_steal_time), fail);
}

TEST(KernelTime, BackwardsOrMissingCpuFailsNamingProcStat) {
    Tree tree;
    tree.set_stat(kAfterStat, 2, 0, -1000);
    const CheckResult r = tree.run(check_kernel_time);
    EXPECT_STATUS(r, fail);
    EXPECT_TRUE(has(r.summary, "/proc/stat")) << r.summary;
    EXPECT_TRUE(has(r.summary, "CPU 2 user time went backwards")) << r.summary;

    Tree gone;
    std::string text = gone.read(kAfterStat);
    const std::size_t cpu6 = text.find("cpu6 ");
    text.erase(cpu6, text.find('\n', cpu6) + 1 - cpu6);
    gone.write(kAfterStat, text);
    const CheckResult g = gone.run(check_steal_time);
    EXPECT_STATUS(g, fail);
    EXPECT_TRUE(has(g.summary, "CPU 6 is missing from the second reading")) << g.summary;
}

}  // namespace
}  // namespace qc::monitor::tunables
