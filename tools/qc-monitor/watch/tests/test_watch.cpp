// watch / serve on crafted /proc text: rates, break detection, counters
// going back, CPUs coming and going, the kernel patch's per-thread breaks,
// the metric names and values, and the JSON shapes.
#include <gtest/gtest.h>
#include <prometheus/check_names.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "quietcore/core/error.hpp"
#include "watch/cpu_counters.hpp"
#include "watch/interval_report.hpp"
#include "watch/metrics_exporter.hpp"
#include "watch/status_json.hpp"
#include "watch/watch_format.hpp"

namespace qc::monitor {
namespace {

using isolation::parse_interrupts;

// x86_64, CPUs 0-1; CPU 1 is the isolated one in most tests.
std::string x86_interrupts(std::uint64_t loc1, std::uint64_t res1 = 7, std::uint64_t dev1 = 0,
                           std::uint64_t rtr1 = 0, std::uint64_t loc0 = 5000) {
    char buf[1024];
    std::snprintf(buf, sizeof buf,
                  "           CPU0       CPU1       \n"
                  "  24:          1 %10llu  IO-APIC   5-edge      ACPI:Ged\n"
                  "NMI:          0          0   Non-maskable interrupts\n"
                  "LOC: %10llu %10llu   Local timer interrupts\n"
                  "RTR:          0 %10llu   APIC ICR read retries\n"
                  "RES:        100 %10llu   Rescheduling interrupts\n"
                  "ERR:          0\n"
                  "MIS:          0\n",
                  static_cast<unsigned long long>(dev1), static_cast<unsigned long long>(loc0),
                  static_cast<unsigned long long>(loc1), static_cast<unsigned long long>(rtr1),
                  static_cast<unsigned long long>(res1));
    return buf;
}

std::string softirqs(std::uint64_t timer1, std::uint64_t net_rx1 = 0) {
    char buf[1024];
    std::snprintf(buf, sizeof buf,
                  "                    CPU0       CPU1       \n"
                  "          HI:          0          0\n"
                  "       TIMER:       4000 %10llu\n"
                  "      NET_RX:        300 %10llu\n"
                  "         RCU:       9000         20\n",
                  static_cast<unsigned long long>(timer1),
                  static_cast<unsigned long long>(net_rx1));
    return buf;
}

CounterSnapshot snapshot(double t, const std::string& interrupts, const std::string& soft) {
    CounterSnapshot s;
    s.monotonic_seconds = t;
    s.wall_seconds = 1700000000 + t;
    s.interrupts = parse_interrupts(interrupts);
    s.softirqs = parse_interrupts(soft);
    return s;
}

const core::CpuSet kIsolated{1};

std::vector<const IsolationBreak*> breaks_of(const IntervalReport& r, std::string_view kind) {
    std::vector<const IsolationBreak*> out;
    for (const auto& b : r.breaks) {
        if (b.kind == kind) {
            out.push_back(&b);
        }
    }
    return out;
}

const KindCount* kind_of(const std::vector<KindCount>& kinds, std::string_view kind) {
    for (const auto& k : kinds) {
        if (k.kind == kind) {
            return &k;
        }
    }
    return nullptr;
}

TEST(CounterDelta, NormalWrapAndReset) {
    EXPECT_EQ(counter_delta(10, 15).count, 5u);
    EXPECT_EQ(counter_delta(10, 15).kind, CounterDelta::Kind::normal);
    // 32-bit wrap: 0xFFFFFFF0 -> 0x10 is 0x20 interrupts.
    const CounterDelta wrap = counter_delta(0xFFFFFFF0u, 0x10u);
    EXPECT_EQ(wrap.kind, CounterDelta::Kind::wrap32);
    EXPECT_EQ(wrap.count, 0x20u);
    // A fall from a small value is a reset: counted from zero.
    const CounterDelta reset = counter_delta(5000, 3);
    EXPECT_EQ(reset.kind, CounterDelta::Kind::reset);
    EXPECT_EQ(reset.count, 3u);
    // Above 32 bits a fall is never a wrap.
    EXPECT_EQ(counter_delta(std::uint64_t{1} << 40, 7).kind, CounterDelta::Kind::reset);
}

TEST(ComputeInterval, TickFreeIntervalHasNoBreak) {
    // One residual tick and its TIMER softirq in one second: allowed.
    const auto before = snapshot(10.0, x86_interrupts(1000), softirqs(50));
    const auto after = snapshot(11.0, x86_interrupts(1001), softirqs(51));
    const IntervalReport r = compute_interval(before, after, kIsolated);
    EXPECT_TRUE(r.breaks.empty()) << break_line(r.breaks.front(), r.seconds);
    EXPECT_TRUE(r.notices.empty());
    const CpuInterval* c1 = r.cpu(1);
    ASSERT_NE(c1, nullptr);
    EXPECT_TRUE(c1->isolated);
    ASSERT_NE(kind_of(c1->interrupts, "LOC"), nullptr);
    EXPECT_EQ(kind_of(c1->interrupts, "LOC")->count, 1u);
    EXPECT_EQ(kind_of(c1->interrupts, "RES"), nullptr);  // did not move
    EXPECT_EQ(c1->interrupts_total, 1u);
    EXPECT_EQ(c1->softirqs_total, 1u);
}

TEST(ComputeInterval, FiveTicksInOneSecondIsABreak) {
    const auto before = snapshot(10.0, x86_interrupts(1000), softirqs(50));
    const auto after = snapshot(11.0, x86_interrupts(1005), softirqs(50));
    const IntervalReport r = compute_interval(before, after, kIsolated);
    const auto loc = breaks_of(r, "LOC");
    ASSERT_EQ(loc.size(), 1u);
    EXPECT_EQ(loc[0]->cpu, 1);
    EXPECT_EQ(loc[0]->count, 5u);
    EXPECT_EQ(loc[0]->allowed, 1u);
    EXPECT_EQ(loc[0]->source, BreakSource::interrupt);
    EXPECT_EQ(loc[0]->description, "Local timer interrupts");
    EXPECT_EQ(r.breaks.size(), 1u);
    // CPU 0 took 0 more ticks here; give it many: still no break (housekeeping).
    const auto after0 = snapshot(11.0, x86_interrupts(1001, 7, 0, 0, 9000), softirqs(50));
    EXPECT_TRUE(compute_interval(before, after0, kIsolated).breaks.empty());
}

TEST(ComputeInterval, TickAllowanceScalesWithTheInterval) {
    // 3 ticks in 4 s is under 1/s; 5 in 4 s is over.
    const auto before = snapshot(0.0, x86_interrupts(1000), softirqs(50));
    EXPECT_TRUE(
        compute_interval(before, snapshot(4.0, x86_interrupts(1003), softirqs(50)), kIsolated)
            .breaks.empty());
    const auto r =
        compute_interval(before, snapshot(4.0, x86_interrupts(1005), softirqs(50)), kIsolated);
    ASSERT_EQ(breaks_of(r, "LOC").size(), 1u);
    EXPECT_EQ(breaks_of(r, "LOC")[0]->allowed, 4u);
    EXPECT_EQ(tick_allowance(0.1, {}), 1u);
}

TEST(ComputeInterval, ADeviceIrqOrIpiIsABreak) {
    const auto before = snapshot(10.0, x86_interrupts(1000, 7, 0), softirqs(50, 0));
    const auto after = snapshot(11.0, x86_interrupts(1000, 8, 1), softirqs(50, 2));
    const IntervalReport r = compute_interval(before, after, kIsolated);
    const auto dev = breaks_of(r, "24");
    ASSERT_EQ(dev.size(), 1u);
    EXPECT_EQ(dev[0]->count, 1u);
    EXPECT_EQ(dev[0]->allowed, 0u);
    EXPECT_EQ(dev[0]->description, "IO-APIC 5-edge ACPI:Ged");
    ASSERT_EQ(breaks_of(r, "RES").size(), 1u);
    const auto net = breaks_of(r, "NET_RX");
    ASSERT_EQ(net.size(), 1u);
    EXPECT_EQ(net[0]->source, BreakSource::softirq);
    EXPECT_EQ(net[0]->count, 2u);
    EXPECT_EQ(r.breaks.size(), 3u);
    // Not isolated: the same interval flags nothing.
    EXPECT_TRUE(compute_interval(before, after, core::CpuSet{0}).breaks.empty());
}

TEST(ComputeInterval, RtrIsCountedButNeverABreak) {
    const auto before = snapshot(10.0, x86_interrupts(1000, 7, 0, 0), softirqs(50));
    const auto after = snapshot(11.0, x86_interrupts(1000, 7, 0, 3), softirqs(50));
    const IntervalReport r = compute_interval(before, after, kIsolated);
    EXPECT_TRUE(r.breaks.empty());
    ASSERT_NE(kind_of(r.cpu(1)->interrupts, "RTR"), nullptr);
    EXPECT_EQ(kind_of(r.cpu(1)->interrupts, "RTR")->count, 3u);
}

TEST(ComputeInterval, RatesArePerSecond) {
    const auto before = snapshot(10.0, x86_interrupts(1000), softirqs(50));
    const auto after = snapshot(12.0, x86_interrupts(1500), softirqs(50));
    const IntervalReport r = compute_interval(before, after, kIsolated);
    EXPECT_DOUBLE_EQ(r.seconds, 2.0);
    EXPECT_DOUBLE_EQ(kind_of(r.cpu(1)->interrupts, "LOC")->rate, 250.0);
    EXPECT_DOUBLE_EQ(r.wall_seconds, 1700000012.0);
}

TEST(ComputeInterval, CounterGoingBackIsReported) {
    const auto before = snapshot(10.0, x86_interrupts(1000, 7, 40), softirqs(50));
    const auto after = snapshot(11.0, x86_interrupts(1000, 7, 2), softirqs(50));
    const IntervalReport r = compute_interval(before, after, kIsolated);
    ASSERT_EQ(r.notices.size(), 1u);
    EXPECT_NE(r.notices[0].find("24 on CPU 1 went back from 40 to 2"), std::string::npos)
        << r.notices[0];
    EXPECT_NE(r.notices[0].find("reset"), std::string::npos);
    // Counted from the reset: 2 device interrupts, a break on an isolated CPU.
    ASSERT_EQ(breaks_of(r, "24").size(), 1u);
    EXPECT_EQ(breaks_of(r, "24")[0]->count, 2u);
}

TEST(ComputeInterval, LocWrapIsCountedAsTheWrappedDifference) {
    const auto before = snapshot(10.0, x86_interrupts(0xFFFFFFFEu), softirqs(50));
    const auto after = snapshot(11.0, x86_interrupts(0), softirqs(50));
    const IntervalReport r = compute_interval(before, after, kIsolated);
    ASSERT_EQ(r.notices.size(), 1u);
    EXPECT_NE(r.notices[0].find("32-bit wrap"), std::string::npos) << r.notices[0];
    EXPECT_EQ(kind_of(r.cpu(1)->interrupts, "LOC")->count, 2u);
    EXPECT_EQ(breaks_of(r, "LOC").size(), 1u);  // 2 > 1 allowed
}

TEST(ComputeInterval, VanishedAndNewCpusAreReportedWithoutRates) {
    const std::string three_cpus =
        "           CPU0       CPU1       CPU2\n"
        "LOC:       5000       1000        300   Local timer interrupts\n";
    const std::string cpu0_only =
        "           CPU0       \n"
        "LOC:       5100   Local timer interrupts\n";
    const auto before = snapshot(10.0, three_cpus, softirqs(1));
    auto after = snapshot(11.0, cpu0_only, softirqs(1));
    IntervalReport r = compute_interval(before, after, core::CpuSet{1, 2});
    ASSERT_EQ(r.cpus.size(), 1u);
    EXPECT_EQ(r.cpus[0].cpu, 0u);
    EXPECT_EQ(kind_of(r.cpus[0].interrupts, "LOC")->count, 100u);
    ASSERT_EQ(r.notices.size(), 2u);
    EXPECT_NE(r.notices[0].find("CPU 1 left /proc/interrupts"), std::string::npos);
    EXPECT_NE(r.notices[0].find("isolated"), std::string::npos);
    EXPECT_TRUE(r.breaks.empty());
    // And back.
    const std::string three_later =
        "           CPU0       CPU1       CPU2\n"
        "LOC:       5200       1000        300   Local timer interrupts\n";
    r = compute_interval(after, snapshot(12.0, three_later, softirqs(1)), core::CpuSet{1, 2});
    ASSERT_EQ(r.notices.size(), 2u) << ::testing::PrintToString(r.notices);
    EXPECT_NE(r.notices[0].find("CPU 1 joined"), std::string::npos);
    EXPECT_TRUE(r.breaks.empty());
}

TEST(ComputeInterval, NewRowCountsFromZeroAndGoneRowIsNoted) {
    const std::string before_text =
        "           CPU0       CPU1\n"
        "  30:          1          4   PCI-MSI 1-edge old\n"
        "LOC:       5000       1000   Local timer interrupts\n";
    const std::string after_text =
        "           CPU0       CPU1\n"
        "  31:          0          6   PCI-MSI 2-edge new\n"
        "LOC:       5000       1000   Local timer interrupts\n";
    const IntervalReport r = compute_interval(snapshot(1, before_text, softirqs(1)),
                                              snapshot(2, after_text, softirqs(1)), kIsolated);
    ASSERT_EQ(breaks_of(r, "31").size(), 1u);
    EXPECT_EQ(breaks_of(r, "31")[0]->count, 6u);
    ASSERT_EQ(r.notices.size(), 2u);
    EXPECT_NE(r.notices[0].find("31 appeared"), std::string::npos);
    EXPECT_NE(r.notices[1].find("30 is gone"), std::string::npos);
}

TEST(ComputeInterval, Arm64ArchTimerIsTheTick) {
    const auto text = [](unsigned timer, unsigned ipi) {
        return "           CPU0       CPU1       \n"
               " 11:      80017 " +
               std::to_string(timer) +
               "     GICv3  27 Level     arch_timer\n"
               "IPI0:      1520 " +
               std::to_string(ipi) + "       Rescheduling interrupts\n";
    };
    const auto before = snapshot(0, text(100, 9), softirqs(1));
    EXPECT_TRUE(
        compute_interval(before, snapshot(1, text(101, 9), softirqs(1)), kIsolated).breaks.empty());
    const auto r = compute_interval(before, snapshot(1, text(350, 10), softirqs(1)), kIsolated);
    ASSERT_EQ(breaks_of(r, "11").size(), 1u);
    EXPECT_EQ(breaks_of(r, "11")[0]->allowed, 1u);
    ASSERT_EQ(breaks_of(r, "IPI0").size(), 1u);
}

TEST(ComputeInterval, SchedstatContextSwitches) {
    auto before = snapshot(0, x86_interrupts(1000), softirqs(1));
    auto after = snapshot(2, x86_interrupts(1000), softirqs(1));
    before.switch_source = after.switch_source = SwitchSource::schedstat;
    before.schedstat_switches = parse_schedstat(
        "version 15\ntimestamp 4295\ncpu0 0 0 500 10 0 0 0 0 0\n"
        "domain0 3 1 2 3\ncpu1 0 0 40 2 0 0 0 0 0\n");
    after.schedstat_switches = parse_schedstat(
        "version 15\ntimestamp 4296\ncpu0 0 0 900 10 0 0 0 0 0\ncpu1 0 0 50 2 0 0 0 0 0\n");
    const IntervalReport r = compute_interval(before, after, kIsolated);
    EXPECT_EQ(r.switch_source, SwitchSource::schedstat);
    ASSERT_TRUE(r.cpu(1)->context_switches);
    EXPECT_EQ(*r.cpu(1)->context_switches, 10u);
    EXPECT_DOUBLE_EQ(r.cpu(1)->context_switch_rate, 5.0);
    EXPECT_EQ(*r.cpu(0)->context_switches, 400u);
    EXPECT_THROW(parse_schedstat("cpu1 0 0\n"), core::ParseError);
    EXPECT_THROW(parse_schedstat("cpuX 0 0 1 2\n"), core::ParseError);
}

// /proc/<pid>/task/<tid>/stat with `comm` and the last CPU in field 39.
std::string stat_text(int tid, const std::string& comm, int cpu) {
    std::string s = std::to_string(tid) + " (" + comm + ") R";
    for (int field = 4; field <= 52; ++field) {
        s += " " + std::to_string(field == 39 ? cpu : 0);
    }
    return s + "\n";
}
std::string status_text(unsigned voluntary, unsigned nonvoluntary) {
    return "Name:\tx\nvoluntary_ctxt_switches:\t" + std::to_string(voluntary) +
           "\nnonvoluntary_ctxt_switches:\t" + std::to_string(nonvoluntary) + "\n";
}
std::string task_isolation_text(bool isolated, unsigned syscall, unsigned irq) {
    return std::string("state: ") + (isolated ? "isolated" : "off") +
           "\nflags: 0x103\nsignal: 1\nbreaks: " + std::to_string(syscall + irq) +
           "\nbreaks_syscall: " + std::to_string(syscall) +
           "\nbreaks_page_fault: 0\nbreaks_exception: 0\nbreaks_irq: " + std::to_string(irq) +
           "\nbreaks_ipi: 0\nbreaks_signal: 0\nbreaks_preemption: 0\nbreaks_migration: 0\n"
           "breaks_affinity: 0\nquiesce_eagain: 0\n";
}

TEST(ComputeInterval, ThreadSwitchesGoToTheLastCpu) {
    auto before = snapshot(0, x86_interrupts(1000), softirqs(1));
    auto after = snapshot(1, x86_interrupts(1000), softirqs(1));
    const auto add = [](CounterSnapshot& s, int pid, int tid, int cpu, unsigned v, unsigned nv) {
        s.threads.emplace(tid, parse_thread(pid, tid, stat_text(tid, "w", cpu), status_text(v, nv),
                                            std::nullopt, "t"));
    };
    add(before, 10, 10, 1, 5, 1);
    add(after, 10, 10, 1, 8, 2);  // +4 on CPU 1
    add(before, 10, 11, 0, 100, 0);
    add(after, 10, 11, 1, 103, 0);  // moved to CPU 1: +3 there
    add(after, 20, 20, 1, 50, 0);   // new thread: not counted
    add(before, 30, 30, 0, 9, 0);
    add(after, 30, 30, 0, 1, 0);  // tid reused: not counted
    const IntervalReport r = compute_interval(before, after, kIsolated);
    EXPECT_EQ(r.switch_source, SwitchSource::threads);
    EXPECT_EQ(*r.cpu(1)->context_switches, 7u);
    EXPECT_EQ(*r.cpu(0)->context_switches, 0u);
}

TEST(ComputeInterval, KernelThreadBreaksByCause) {
    auto before = snapshot(0, x86_interrupts(1000), softirqs(1));
    auto after = snapshot(1, x86_interrupts(1000), softirqs(1));
    before.threads.emplace(42, parse_thread(40, 42, stat_text(42, "qc worker", 1), std::nullopt,
                                            task_isolation_text(true, 0, 1), "/proc/40/task/42"));
    after.threads.emplace(42, parse_thread(40, 42, stat_text(42, "qc worker", 1), std::nullopt,
                                           task_isolation_text(false, 2, 1), "/proc/40/task/42"));
    // A thread that never isolated: not listed.
    before.threads.emplace(7, parse_thread(7, 7, stat_text(7, "sshd", 0), std::nullopt,
                                           task_isolation_text(false, 0, 0), "/proc/7/task/7"));
    after.threads.emplace(7, parse_thread(7, 7, stat_text(7, "sshd", 0), std::nullopt,
                                          task_isolation_text(false, 0, 0), "/proc/7/task/7"));
    const IntervalReport r = compute_interval(before, after, kIsolated);
    ASSERT_EQ(r.breaks.size(), 1u);
    const IsolationBreak& b = r.breaks[0];
    EXPECT_EQ(b.source, BreakSource::kernel);
    EXPECT_EQ(b.kind, "syscall");
    EXPECT_EQ(b.count, 2u);
    EXPECT_EQ(b.cpu, 1);
    EXPECT_EQ(b.pid, 40);
    EXPECT_EQ(b.tid, 42);
    EXPECT_EQ(b.comm, "qc worker");
    ASSERT_EQ(r.threads.size(), 1u);
    EXPECT_FALSE(r.threads[0].isolated);
    EXPECT_EQ(r.threads[0].breaks, 3u);
    EXPECT_NE(break_line(b, 1.0).find("kernel syscall: 2 (thread 42 qc worker, pid 40)"),
              std::string::npos)
        << break_line(b, 1.0);
    EXPECT_THROW(parse_thread(1, 1, stat_text(1, "x", 0), std::nullopt, "state: maybe\n", "t"),
                 core::ParseError);
}

TEST(CounterReader, ReadsATreeWithThreadsAndTaskIsolation) {
    namespace fs = std::filesystem;
    const fs::path root = fs::temp_directory_path() / ("qc-watch-test-" + std::to_string(getpid()));
    fs::remove_all(root);
    const auto write = [&](const std::string& path, const std::string& text) {
        fs::create_directories((root / path).parent_path());
        std::ofstream(root / path) << text;
    };
    write("proc/interrupts", x86_interrupts(1000));
    write("proc/softirqs", softirqs(3));
    write("proc/40/task/40/stat", stat_text(40, "main", 0));
    write("proc/40/task/40/status", status_text(3, 4));
    write("proc/40/task/40/task_isolation", task_isolation_text(false, 0, 0));
    write("proc/40/task/42/stat", stat_text(42, "worker", 1));
    write("proc/40/task/42/status", status_text(1, 0));
    write("proc/40/task/42/task_isolation", task_isolation_text(true, 0, 0));
    write("proc/self/stat", "not a thread\n");
    const SystemRoot sys(root.string());
    CounterReader reader(sys);
    const CounterSnapshot s = reader.read();
    EXPECT_EQ(s.switch_source, SwitchSource::threads);
    EXPECT_TRUE(s.kernel_task_isolation);
    ASSERT_EQ(s.threads.size(), 2u);
    EXPECT_EQ(s.threads.at(42).comm, "worker");
    EXPECT_EQ(s.threads.at(42).last_cpu, 1);
    EXPECT_EQ(s.threads.at(40).context_switches, 7u);
    ASSERT_TRUE(s.threads.at(42).task_isolation);
    EXPECT_TRUE(s.threads.at(42).task_isolation->isolated);
    EXPECT_EQ(s.interrupts.count("LOC", 1), 1000u);
    EXPECT_TRUE(s.texts.contains("/proc/interrupts"));
    EXPECT_TRUE(s.problems.empty());
    // Without /proc/interrupts nothing can be watched.
    fs::remove(root / "proc/interrupts");
    EXPECT_THROW(reader.read(), core::Error);
    fs::remove_all(root);
}

TEST(Metrics, NamesFollowPrometheusRules) {
    for (std::string_view name : kMetricNames) {
        EXPECT_TRUE(prometheus::CheckMetricName(std::string(name))) << name;
        EXPECT_TRUE(name.starts_with("quietcore_")) << name;
    }
    for (std::string_view name : kLabelNames) {
        EXPECT_TRUE(prometheus::CheckLabelName(std::string(name))) << name;
    }
    EXPECT_FALSE(prometheus::CheckMetricName("bad-name"));  // the check can fail
}

// Families and label names in exposition text.
struct Exposition {
    std::map<std::string, std::string> types;  // family -> counter / gauge
    std::set<std::string> labels;
    std::map<std::string, double> samples;  // full series text -> value
};
Exposition parse_exposition(const std::string& text) {
    Exposition e;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("# TYPE ")) {
            std::istringstream words(line.substr(7));
            std::string name, type;
            words >> name >> type;
            e.types[name] = type;
        } else if (!line.empty() && line[0] != '#') {
            const auto space = line.rfind(' ');
            e.samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
            const auto open = line.find('{');
            for (auto pos = open; pos != std::string::npos && pos < space;) {
                const auto eq = line.find('=', pos);
                if (eq == std::string::npos || eq > space) {
                    break;
                }
                e.labels.insert(line.substr(pos + 1, eq - pos - 1));
                const auto close_quote = line.find('"', line.find('"', eq) + 1);
                pos = line.find(',', close_quote);
            }
        }
    }
    return e;
}

TEST(Metrics, CountersMirrorTheKernelAndBreaksAreCounted) {
    MetricsExporter exporter(core::CpuSet{0, 1}, kIsolated, core::CpuSet{0}, 1700000000);
    const auto first = snapshot(10.0, x86_interrupts(1000), softirqs(50));
    exporter.observe(first, nullptr);
    auto e = parse_exposition(exporter.serialize());
    const std::string loc1 =
        R"(quietcore_cpu_interrupts_total{cpu="1",description="Local timer interrupts",kind="LOC"})";
    ASSERT_TRUE(e.samples.contains(loc1)) << exporter.serialize();
    EXPECT_EQ(e.samples[loc1], 1000);
    EXPECT_EQ(e.samples[R"(quietcore_cpu_isolated{cpu="1"})"], 1);
    EXPECT_EQ(e.samples[R"(quietcore_cpu_isolated{cpu="0"})"], 0);
    EXPECT_EQ(e.samples[R"(quietcore_cpu_softirqs_total{cpu="1",kind="TIMER"})"], 50);

    // +5 ticks, then the device counter resets from 0 to 2.
    const auto second = snapshot(11.0, x86_interrupts(1005, 7, 0), softirqs(52));
    IntervalReport r = compute_interval(first, second, kIsolated);
    exporter.observe(second, &r);
    const auto third = snapshot(12.0, x86_interrupts(1006, 7, 3), softirqs(52));
    r = compute_interval(second, third, kIsolated);
    exporter.observe(third, &r);
    e = parse_exposition(exporter.serialize());
    EXPECT_EQ(e.samples[loc1], 1006);
    EXPECT_EQ(
        e.samples[R"(quietcore_isolation_breaks_total{cpu="1",kind="LOC",source="interrupt"})"], 1);
    EXPECT_EQ(
        e.samples[R"(quietcore_isolation_breaks_total{cpu="1",kind="24",source="interrupt"})"], 1);
    EXPECT_EQ(
        e.samples[R"(quietcore_isolation_breaks_total{cpu="1",kind="TIMER",source="softirq"})"], 1);
    EXPECT_EQ(e.samples["quietcore_monitor_samples_total"], 3);
    EXPECT_EQ(e.samples["quietcore_monitor_last_sample_timestamp_seconds"], 1700000012.0);

    // Every family is a known name, counters end in _total, gauges do not.
    for (const auto& [name, type] : e.types) {
        EXPECT_NE(std::find(std::begin(kMetricNames), std::end(kMetricNames), name),
                  std::end(kMetricNames))
            << name;
        EXPECT_EQ(name.ends_with("_total"), type == "counter") << name << " " << type;
    }
    for (const auto& label : e.labels) {
        EXPECT_NE(std::find(std::begin(kLabelNames), std::end(kLabelNames), label),
                  std::end(kLabelNames))
            << label;
    }
}

TEST(Metrics, ThreadSeriesFollowTheKernelPatch) {
    MetricsExporter exporter(core::CpuSet{0, 1}, kIsolated, core::CpuSet{0}, 0);
    auto first = snapshot(0, x86_interrupts(1000), softirqs(1));
    first.threads.emplace(42, parse_thread(40, 42, stat_text(42, "worker", 1), std::nullopt,
                                           task_isolation_text(true, 1, 0), "t"));
    first.kernel_task_isolation = true;
    exporter.observe(first, nullptr);
    auto second = snapshot(1, x86_interrupts(1000), softirqs(1));
    second.threads.emplace(42, parse_thread(40, 42, stat_text(42, "worker", 1), std::nullopt,
                                            task_isolation_text(false, 4, 0), "t"));
    second.kernel_task_isolation = true;
    IntervalReport r = compute_interval(first, second, kIsolated);
    exporter.observe(second, &r);
    auto e = parse_exposition(exporter.serialize());
    EXPECT_EQ(
        e.samples
            [R"(quietcore_thread_isolation_breaks_total{cause="syscall",comm="worker",pid="40",tid="42"})"],
        4);
    EXPECT_EQ(e.samples[R"(quietcore_thread_isolated{comm="worker",pid="40",tid="42"})"], 0);
    EXPECT_EQ(
        e.samples[R"(quietcore_isolation_breaks_total{cpu="1",kind="syscall",source="kernel"})"],
        3);
    // The thread exits: its series go.
    auto third = snapshot(2, x86_interrupts(1000), softirqs(1));
    third.kernel_task_isolation = true;
    r = compute_interval(second, third, kIsolated);
    exporter.observe(third, &r);
    e = parse_exposition(exporter.serialize());
    for (const auto& [series, value] : e.samples) {
        EXPECT_EQ(series.find("tid=\"42\""), std::string::npos) << series;
    }
}

TEST(Metrics, HealthChecksExportOneStatus) {
    MetricsExporter exporter(core::CpuSet{0, 1}, kIsolated, core::CpuSet{0}, 0);
    CheckRun run;
    run.outcomes.push_back({"cmdline.nohz_full", "t", check_fail("missing", {}, "add it")});
    run.counts.fail = 1;
    exporter.observe_health(run, 1700000000);
    auto e = parse_exposition(exporter.serialize());
    EXPECT_EQ(
        e.samples[R"(quietcore_health_check_status{check="cmdline.nohz_full",status="fail"})"], 1);
    EXPECT_EQ(e.samples[R"(quietcore_health_check_status{check="cmdline.nohz_full",status="ok"})"],
              0);
    EXPECT_EQ(e.samples["quietcore_health_checks_last_run_timestamp_seconds"], 1700000000);
}

TEST(Json, IntervalListsOnlyIsolatedCpus) {
    const auto before = snapshot(10.0, x86_interrupts(1000), softirqs(50));
    const auto after = snapshot(11.0, x86_interrupts(1005, 7, 0, 0, 6000), softirqs(51));
    const auto j = interval_json(compute_interval(before, after, kIsolated), kIsolated);
    EXPECT_EQ(j["isolated"], "1");
    EXPECT_DOUBLE_EQ(j["interval_seconds"].get<double>(), 1.0);
    ASSERT_EQ(j["cpus"].size(), 1u);
    EXPECT_EQ(j["cpus"][0]["cpu"], 1);
    EXPECT_EQ(j["cpus"][0]["interrupts"]["LOC"]["count"], 5);
    EXPECT_EQ(j["cpus"][0]["interrupts"]["LOC"]["description"], "Local timer interrupts");
    EXPECT_EQ(j["cpus"][0]["softirqs"]["TIMER"]["count"], 1);
    EXPECT_TRUE(j["cpus"][0]["context_switches"].is_object());
    ASSERT_EQ(j["breaks"].size(), 1u);
    EXPECT_EQ(j["breaks"][0]["kind"], "LOC");
    EXPECT_EQ(j["breaks"][0]["cpu"], 1);
    EXPECT_EQ(j["breaks"][0]["source"], "interrupt");
    EXPECT_EQ(j["breaks"][0]["allowed"], 1);
    EXPECT_TRUE(j["breaks"][0]["time"].get<std::string>().ends_with("Z"));
    EXPECT_TRUE(j["notices"].is_array());
    EXPECT_TRUE(j["threads"].is_array());
}

TEST(Json, StatusShape) {
    MonitorStatus status(
        {kIsolated, "--isolated", core::CpuSet{0, 1}, core::CpuSet{0}, 1.0, 1700000000, 100.0});
    nlohmann::json j = status.to_json(100.5);
    EXPECT_EQ(j["isolated"], "1");
    EXPECT_EQ(j["running_on"], "0");
    EXPECT_TRUE(j["last_interval"].is_null());
    EXPECT_TRUE(j["health"].is_null());
    EXPECT_DOUBLE_EQ(j["uptime_seconds"].get<double>(), 0.5);

    const auto before = snapshot(10.0, x86_interrupts(1000), softirqs(50));
    const auto after = snapshot(11.0, x86_interrupts(1005), softirqs(50));
    status.observe_sample(SwitchSource::threads, false);
    status.observe_sample(SwitchSource::threads, false);
    for (int i = 0; i < 120; ++i) {
        status.observe(compute_interval(before, after, kIsolated));
    }
    CheckRun run;
    run.outcomes.push_back({"rates.loc", "t", check_ok("fine", {{"/proc/interrupts", "1"}})});
    run.counts.ok = 1;
    status.observe_health(run, 1700000001);
    j = status.to_json(130);
    EXPECT_EQ(j["samples"], 2);
    EXPECT_EQ(j["breaks_total"], 120);
    EXPECT_EQ(j["recent_breaks"].size(), MonitorStatus::kRecentBreaks);
    EXPECT_EQ(j["recent_breaks"][0]["kind"], "LOC");
    EXPECT_EQ(j["last_interval"]["cpus"][0]["cpu"], 1);
    EXPECT_EQ(j["context_switch_source"], "threads");
    EXPECT_EQ(j["kernel_task_isolation"], false);
    EXPECT_EQ(j["health"]["counts"]["ok"], 1);
    EXPECT_EQ(j["health"]["checks"][0]["id"], "rates.loc");
    EXPECT_EQ(j["health"]["checks"][0]["status"], "ok");
    for (const char* key : {"isolated_source", "online", "interval_seconds", "started"}) {
        EXPECT_TRUE(j.contains(key)) << key;
    }
}

}  // namespace
}  // namespace qc::monitor
