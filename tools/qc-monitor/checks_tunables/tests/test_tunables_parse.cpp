// The pure helpers of the tunable and rate checks, on text alone: value
// syntaxes, counter increases (wraps, backwards, new and freed rows, vanished
// CPUs), /proc/stat lines, and how counts and shares are judged.
#include <gtest/gtest.h>

#include "checks_tunables/tunables_parse.hpp"

namespace qc::monitor::tunables {
namespace {

TEST(ParseInteger, AcceptsWholeDecimalNumbersOnly) {
    EXPECT_EQ(parse_integer("10\n"), 10);
    EXPECT_EQ(parse_integer("  -1 "), -1);
    EXPECT_EQ(parse_integer("0"), 0);
    EXPECT_EQ(parse_integer(""), std::nullopt);
    EXPECT_EQ(parse_integer("10s"), std::nullopt);
    EXPECT_EQ(parse_integer("0x10"), std::nullopt);
    EXPECT_EQ(parse_integer("n/a"), std::nullopt);
    EXPECT_EQ(parse_integer("1 2"), std::nullopt);
}

TEST(BracketedChoice, FindsTheOneSelectedWord) {
    EXPECT_EQ(bracketed_choice("always [madvise] never\n"), "madvise");
    EXPECT_EQ(bracketed_choice("[always] madvise never"), "always");
    EXPECT_EQ(bracketed_choice("always defer defer+madvise [madvise] never"), "madvise");
    EXPECT_EQ(bracketed_choice("always madvise never"), std::nullopt);
    EXPECT_EQ(bracketed_choice("[always] [never]"), std::nullopt);
    EXPECT_EQ(bracketed_choice("[]"), std::nullopt);
}

TEST(CpuPath, BuildsPerCpuSysfsPaths) {
    EXPECT_EQ(cpu_path(3, "cpufreq/scaling_governor"),
              "/sys/devices/system/cpu/cpu3/cpufreq/scaling_governor");
}

TEST(CounterIncrease, ForwardBackwardAndThirtyTwoBitWrap) {
    EXPECT_EQ(counter_increase(100, 350), 250u);
    EXPECT_EQ(counter_increase(7, 7), 0u);
    EXPECT_EQ(counter_increase(1500, 1200), std::nullopt);
    // 0xfffffff0 -> 0x10 is a wrap of a 32-bit counter: 0x20 events.
    EXPECT_EQ(counter_increase(0xfffffff0u, 0x10u), 0x20u);
    // A small first reading cannot have wrapped.
    EXPECT_EQ(counter_increase(0x10000u, 0x10u), std::nullopt);
    // 64-bit counters do not wrap this way.
    EXPECT_EQ(counter_increase(std::uint64_t{1} << 40, 5), std::nullopt);
}

constexpr const char* kBefore =
    "           CPU0       CPU1       CPU2       CPU3       \n"
    " 25:        100          0          0          0  PCI-MSIX-0000:00:03.0   1-edge      "
    "virtio0-input.0\n"
    " 26:          0          0          5          0  PCI-MSIX-0000:00:03.0   2-edge      "
    "virtio0-output.0\n"
    "LOC:       1000       1000        500        400   Local timer interrupts\n"
    "RES:         10         10          3          4   Rescheduling interrupts\n"
    "ERR:          0\n";

constexpr const char* kAfter =
    "           CPU0       CPU1       CPU2       CPU3       \n"
    " 25:        200          0          7          0  PCI-MSIX-0000:00:03.0   1-edge      "
    "virtio0-input.0\n"
    " 27:          0          0          0          2  PCI-MSIX-0000:00:04.0   1-edge      "
    "nvme0q1\n"
    "LOC:       1250       1250        501        400   Local timer interrupts\n"
    "RES:         12         10          3          4   Rescheduling interrupts\n"
    "ERR:          3\n";

std::uint64_t increase_of(const TableIncreases& t, std::string_view row, unsigned cpu) {
    for (const RowIncrease& r : t.increases) {
        if (r.row == row && r.cpu == cpu) {
            return r.increase;
        }
    }
    ADD_FAILURE() << "no increase for " << row << " on CPU " << cpu;
    return 0;
}

TEST(InterruptIncreases, CountsOnlyTheGivenCpus) {
    const auto t = interrupt_increases(isolation::parse_interrupts(kBefore),
                                       isolation::parse_interrupts(kAfter), core::CpuSet{2, 3});
    EXPECT_TRUE(t.problems.empty());
    EXPECT_EQ(increase_of(t, "LOC", 2), 1u);
    EXPECT_EQ(increase_of(t, "LOC", 3), 0u);
    EXPECT_EQ(increase_of(t, "25", 2), 7u);
    for (const RowIncrease& r : t.increases) {
        EXPECT_TRUE(r.cpu == 2 || r.cpu == 3) << r.cpu;
        EXPECT_NE(r.row, "ERR");  // no per-CPU counts
        EXPECT_NE(r.row, "26");   // freed between the readings
    }
}

TEST(InterruptIncreases, ANewRowCountsFromZero) {
    const auto t = interrupt_increases(isolation::parse_interrupts(kBefore),
                                       isolation::parse_interrupts(kAfter), core::CpuSet{3});
    EXPECT_EQ(increase_of(t, "27", 3), 2u);
}

TEST(InterruptIncreases, BackwardsCounterIsAProblemOfItsRowOnly) {
    std::string after = kAfter;
    after.replace(after.find("RES:         12         10          3"),
                  std::string_view("RES:         12         10          3").size(),
                  "RES:         12         10          1");
    const auto t = interrupt_increases(isolation::parse_interrupts(kBefore),
                                       isolation::parse_interrupts(after), core::CpuSet{2, 3});
    ASSERT_EQ(t.problems.size(), 1u);
    EXPECT_EQ(t.problems[0].row, "RES");
    EXPECT_NE(t.problems[0].message.find("CPU 2 went backwards from 3 to 1"), std::string::npos)
        << t.problems[0].message;
    EXPECT_EQ(increase_of(t, "LOC", 2), 1u);  // other rows still counted
}

TEST(InterruptIncreases, AVanishedCpuSpoilsTheWholeTable) {
    const std::string after =
        "           CPU0       CPU1       CPU3       \n"
        "LOC:       1250       1250        400   Local timer interrupts\n";
    try {
        interrupt_increases(isolation::parse_interrupts(kBefore),
                            isolation::parse_interrupts(after), core::CpuSet{2, 3});
        FAIL() << "expected CounterError";
    } catch (const CounterError& e) {
        EXPECT_NE(std::string(e.what()).find("CPU 2 is missing from the second"), std::string::npos)
            << e.what();
    }
    // CPUs not asked about may come and go.
    EXPECT_NO_THROW(interrupt_increases(isolation::parse_interrupts(kBefore),
                                        isolation::parse_interrupts(after), core::CpuSet{3}));
}

TEST(InterruptIncreases, UnreadableLinesAndLostCountsAreRowProblems) {
    std::string after = kAfter;
    after += "TLB:  garbage here\n";
    after.replace(after.find("RES:         12         10          3          4"),
                  std::string_view("RES:         12         10          3          4").size(),
                  "RES:         12");
    const auto t = interrupt_increases(isolation::parse_interrupts(kBefore),
                                       isolation::parse_interrupts(after), core::CpuSet{2, 3});
    ASSERT_EQ(t.problems.size(), 2u);
    EXPECT_EQ(t.problems[0].row, "TLB");
    EXPECT_NE(t.problems[0].message.find("unreadable line"), std::string::npos);
    EXPECT_EQ(t.problems[1].row, "RES");
    EXPECT_NE(t.problems[1].message.find("4 counts in the first reading and 1"), std::string::npos)
        << t.problems[1].message;
}

TEST(InterruptIncreases, WrapOfA32BitCounterIsAnIncrease) {
    const std::string before =
        "           CPU0       CPU1       \n"
        "LOC: 4294967290          1   Local timer interrupts\n";
    const std::string after =
        "           CPU0       CPU1       \n"
        "LOC:          4          1   Local timer interrupts\n";
    const auto t = interrupt_increases(isolation::parse_interrupts(before),
                                       isolation::parse_interrupts(after), core::CpuSet{0});
    EXPECT_TRUE(t.problems.empty());
    EXPECT_EQ(increase_of(t, "LOC", 0), 10u);
}

TEST(LocalTimerRow, X86LocAndArm64ArchTimer) {
    EXPECT_TRUE(is_local_timer_row("LOC", "Local timer interrupts"));
    EXPECT_TRUE(is_local_timer_row("11", "GICv3 27 Level arch_timer"));
    EXPECT_FALSE(is_local_timer_row("RES", "Rescheduling interrupts"));
    EXPECT_FALSE(is_local_timer_row("0", "IO-APIC 2-edge timer"));
}

TEST(RowLabel, NamesDeviceIrqsByTheirAction) {
    EXPECT_EQ(row_label({"36", "PCI-MSIX-0000:00:04.0 1-edge nvme0q3", 3, 9}), "IRQ 36 (nvme0q3)");
    EXPECT_EQ(row_label({"RES", "Rescheduling interrupts", 3, 9}), "RES (Rescheduling interrupts)");
    EXPECT_EQ(row_label({"TIMER", "", 3, 9}), "TIMER");
}

TEST(ProcStat, ParsesPerCpuLinesAndSkipsTheRest) {
    const auto cpus = parse_proc_stat_cpus(
        "cpu  10 0 20 300 1 0 2 0 0 0\n"
        "cpu0 5 0 10 150 1 0 1 0 0 0\n"
        "cpu3 5 0 10 150 0 0 1 7 0 0\n"
        "intr 12345 1 2 3\n"
        "ctxt 99\n"
        "softirq 5 0 1 2\n");
    ASSERT_EQ(cpus.size(), 2u);
    EXPECT_EQ(cpus.at(0).system, 10u);
    EXPECT_EQ(cpus.at(3).steal, 7u);
    EXPECT_EQ(cpus.at(3).total(), 5u + 10u + 150u + 1u + 7u);
    EXPECT_EQ(cpus.at(3).kernel(), 11u);
}

TEST(ProcStat, OldKernelsWithFewerFieldsCountZero) {
    const auto cpus = parse_proc_stat_cpus("cpu1 5 0 10 150\n");
    EXPECT_EQ(cpus.at(1).steal, 0u);
    EXPECT_EQ(cpus.at(1).total(), 165u);
}

TEST(ProcStat, MalformedLinesThrowNamingTheToken) {
    EXPECT_THROW(parse_proc_stat_cpus("cpu1 5 0 x 150\n"), core::ParseError);
    EXPECT_THROW(parse_proc_stat_cpus("cpu1 5 0\n"), core::ParseError);
    EXPECT_THROW(parse_proc_stat_cpus("cpuX 5 0 1 2\n"), core::ParseError);
    try {
        parse_proc_stat_cpus("cpu1 5 0 x 150\n");
    } catch (const core::ParseError& e) {
        EXPECT_EQ(e.token(), "x");
    }
}

TEST(CpuTimesIncrease, BackwardsFieldThrows) {
    const CpuTimes before{10, 0, 5, 100, 0, 0, 0, 0};
    const CpuTimes after{110, 0, 6, 100, 0, 0, 0, 2};
    const CpuTimes d = cpu_times_increase(4, before, after);
    EXPECT_EQ(d.user, 100u);
    EXPECT_EQ(d.system, 1u);
    EXPECT_EQ(d.steal, 2u);
    try {
        cpu_times_increase(4, after, before);
        FAIL() << "expected CounterError";
    } catch (const CounterError& e) {
        EXPECT_NE(std::string(e.what()).find("CPU 4 user time went backwards"), std::string::npos)
            << e.what();
    }
}

TEST(JudgeCount, OneEventIsNeverJudgedAndLimitsArePerSecond) {
    const RateLimits limits{2.0, 50.0};
    EXPECT_EQ(judge_count(0, 1.0, limits), Verdict::ok);
    EXPECT_EQ(judge_count(1, 0.1, limits), Verdict::ok);  // 10/s, but only one event
    EXPECT_EQ(judge_count(2, 1.0, limits), Verdict::ok);
    EXPECT_EQ(judge_count(3, 1.0, limits), Verdict::warn);
    EXPECT_EQ(judge_count(50, 1.0, limits), Verdict::warn);
    EXPECT_EQ(judge_count(51, 1.0, limits), Verdict::fail);
    EXPECT_EQ(judge_count(250, 10.0, limits), Verdict::warn);  // 25/s
    EXPECT_EQ(judge_count(15, 10.0, limits), Verdict::ok);     // 1.5/s
}

TEST(JudgeShare, OneTickIsNeverJudged) {
    EXPECT_EQ(judge_share(0, 100, 2.0, 10.0), Verdict::ok);
    EXPECT_EQ(judge_share(1, 20, 2.0, 10.0), Verdict::ok);  // 5%, but one tick
    EXPECT_EQ(judge_share(2, 100, 2.0, 10.0), Verdict::ok);
    EXPECT_EQ(judge_share(3, 100, 2.0, 10.0), Verdict::warn);
    EXPECT_EQ(judge_share(11, 100, 2.0, 10.0), Verdict::fail);
    EXPECT_EQ(judge_share(5, 0, 2.0, 10.0), Verdict::ok);
}

TEST(FormatRate, WholeNumbersAboveOneHundred) {
    EXPECT_EQ(format_rate(250.0), "250/s");
    EXPECT_EQ(format_rate(1.5), "1.5/s");
    EXPECT_EQ(format_rate(0.24), "0.2/s");
}

}  // namespace
}  // namespace qc::monitor::tunables
