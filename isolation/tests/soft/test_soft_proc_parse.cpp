// The entry poller's /proc parsers on captured text: x86_64 and arm64
// /proc/interrupts, /proc/softirqs, status and stat lines, malformed input.
#include <gtest/gtest.h>

#include "quietcore/core/error.hpp"
#include "quietcore/core/text_file.hpp"
#include "quietcore/isolation/entry_poller.hpp"
#include "quietcore/isolation/soft_proc_parse.hpp"

namespace qc::isolation {
namespace {

// x86_64 KVM guest, 4 CPUs of which CPU 2 is offline (no column for it).
constexpr const char* kX86Interrupts =
    "            CPU0       CPU1       CPU3       \n"
    "   0:         44          0          0          0   IO-APIC   2-edge      timer\n"
    "  24:          1          0          7   IO-APIC   5-edge      ACPI:Ged\n"
    "  38:          0       2101         12   PCI-MSIX-0000:00:03.0   1-edge      virtio2-input.0\n"
    "NMI:          0          0          0   Non-maskable interrupts\n"
    "LOC:     465615     593851     123456   Local timer interrupts\n"
    "RES:      24995      19204         17   Rescheduling interrupts\n"
    "ERR:          0\n"
    "MIS:          0\n";

// arm64 (GICv3) with IPIs and an "Err" total.
constexpr const char* kArm64Interrupts =
    "           CPU0       CPU1       \n"
    " 11:      80017      79845     GICv3  27 Level     arch_timer\n"
    " 14:          0          0     GICv3  33 Level     uart-pl011\n"
    "IPI0:      1520       2250       Rescheduling interrupts\n"
    "IPI1:        90        113       Function call interrupts\n"
    "IPI5:      7788       9911       IRQ work interrupts\n"
    "Err:          0\n";

TEST(ParseInterrupts, X86ColumnsFollowTheHeaderNotThePosition) {
    const InterruptTable t = parse_interrupts(kX86Interrupts);
    EXPECT_EQ(t.cpus, (std::vector<unsigned>{0, 1, 3}));
    EXPECT_EQ(t.count("LOC", 0), 465615u);
    EXPECT_EQ(t.count("LOC", 3), 123456u);
    EXPECT_EQ(t.count("LOC", 2), std::nullopt);  // offline: no column
    EXPECT_EQ(t.count("24", 3), 7u);
    EXPECT_EQ(t.count("38", 1), 2101u);
    EXPECT_TRUE(t.malformed.empty());
    ASSERT_GE(t.rows.size(), 3u);
    EXPECT_EQ(t.rows[2].description, "PCI-MSIX-0000:00:03.0 1-edge virtio2-input.0");
}

TEST(ParseInterrupts, X86TotalsHaveNoPerCpuCount) {
    const InterruptTable t = parse_interrupts(kX86Interrupts);
    EXPECT_EQ(t.count("ERR", 0), std::nullopt);
    EXPECT_EQ(t.count("MIS", 0), std::nullopt);
    EXPECT_EQ(t.count("NOPE", 0), std::nullopt);
}

TEST(ParseInterrupts, Arm64RowsAndIpis) {
    const InterruptTable t = parse_interrupts(kArm64Interrupts);
    EXPECT_EQ(t.cpus, (std::vector<unsigned>{0, 1}));
    EXPECT_EQ(t.count("11", 1), 79845u);
    EXPECT_EQ(t.count("IPI0", 0), 1520u);
    EXPECT_EQ(t.count("IPI5", 1), 9911u);
    EXPECT_EQ(t.count("Err", 0), std::nullopt);
    EXPECT_EQ(t.rows.front().description, "GICv3 27 Level arch_timer");
}

TEST(ParseInterrupts, SoftirqsHaveNoDescription) {
    const InterruptTable t = parse_interrupts(
        "                    CPU0       CPU1       \n"
        "          HI:          0          0\n"
        "       TIMER:      46432      68943\n"
        "      NET_RX:         12          0\n");
    EXPECT_EQ(t.count("TIMER", 1), 68943u);
    EXPECT_EQ(t.count("NET_RX", 0), 12u);
    EXPECT_EQ(t.rows[1].description, "");
}

TEST(ParseInterrupts, MalformedLinesAreSkippedAndKept) {
    const InterruptTable t = parse_interrupts(
        "  CPU0 CPU1\n"
        "LOC:  5  6  Local timer interrupts\n"
        "this line has no colon\n"
        "BAD:  notanumber  7\n"
        ": 1 2\n"
        "two words: 1 2\n"
        "BIG: 99999999999999999999999 1\n"
        "RES:  1  2\n");
    EXPECT_EQ(t.rows.size(), 2u);
    EXPECT_EQ(t.count("LOC", 1), 6u);
    EXPECT_EQ(t.count("RES", 0), 1u);
    EXPECT_EQ(t.malformed,
              (std::vector<std::string>{"this line has no colon", "BAD:  notanumber  7", ": 1 2",
                                        "two words: 1 2", "BIG: 99999999999999999999999 1"}));
}

TEST(ParseInterrupts, HeaderIsRequired) {
    EXPECT_THROW(parse_interrupts(""), core::ParseError);
    EXPECT_THROW(parse_interrupts("LOC: 1 2 Local timer\n"), core::ParseError);
    try {
        parse_interrupts("CPU0 GPU1\n 0: 1 2\n");
        FAIL() << "bad header accepted";
    } catch (const core::ParseError& e) {
        EXPECT_EQ(e.token(), "GPU1");
    }
}

TEST(ParseStatus, NumbersAndAllowedCpus) {
    const char* status =
        "Name:\tqc-worker\n"
        "Tgid:\t4242\n"
        "Pid:\t4250\n"
        "Cpus_allowed:\t2\n"
        "Cpus_allowed_list:\t1\n"
        "voluntary_ctxt_switches:\t150\n"
        "nonvoluntary_ctxt_switches:\t7\n";
    EXPECT_EQ(parse_status_number(status, "Tgid"), 4242u);
    EXPECT_EQ(parse_status_number(status, "nonvoluntary_ctxt_switches"), 7u);
    EXPECT_EQ(parse_status_number(status, "voluntary_ctxt_switches"), 150u);
    EXPECT_EQ(parse_status_cpus_allowed(status), (core::CpuSet{1}));
}

TEST(ParseStatus, MissingOrBadFieldNamesIt) {
    try {
        parse_status_number("Tgid:\t1\n", "nonvoluntary_ctxt_switches");
        FAIL();
    } catch (const core::ParseError& e) {
        EXPECT_NE(std::string(e.what()).find("nonvoluntary_ctxt_switches"), std::string::npos);
    }
    EXPECT_THROW(parse_status_number("Tgid:\tabc\n", "Tgid"), core::ParseError);
    EXPECT_THROW(parse_status_cpus_allowed("Tgid:\t1\n"), core::ParseError);
    EXPECT_THROW(parse_status_cpus_allowed("Cpus_allowed_list:\t1-\n"), core::ParseError);
}

TEST(ParseStat, ProcessorIsField39EvenWithSpacesInTheName) {
    // A real /proc/<pid>/stat line with the processor (field 39) set to 3,
    // and a command name containing ") (".
    const std::string tail =
        " S 1 1 1 0 -1 4194560 3000 100 10 0 20 30 0 0 20 0 1 0 50 1000000 300 "
        "18446744073709551615 1 1 0 0 0 0 0 4096 1260 0 0 0 17 3 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
    EXPECT_EQ(parse_stat_processor("1234 (a) (b c)" + tail), 3);
    EXPECT_EQ(parse_stat_processor("1 (systemd)" + tail), 3);
}

TEST(ParseStat, TooShortOrBad) {
    EXPECT_THROW(parse_stat_processor("1 (x) S 1 2 3\n"), core::ParseError);
    EXPECT_THROW(parse_stat_processor("no parenthesis"), core::ParseError);
    std::string bad = "1 (x)";
    for (int f = 3; f <= 39; ++f) {
        bad += f == 39 ? " cpu" : " 0";
    }
    EXPECT_THROW(parse_stat_processor(bad), core::ParseError);
}

TEST(ParseLive, ThisMachinesFilesParse) {
    const InterruptTable t = parse_interrupts(core::read_text_file("/proc/interrupts"));
    EXPECT_FALSE(t.cpus.empty());
    EXPECT_FALSE(t.rows.empty());
    const std::string status = core::read_text_file("/proc/self/status");
    EXPECT_EQ(parse_status_number(status, "Tgid"), static_cast<std::uint64_t>(::getpid()));
    EXPECT_GE(parse_stat_processor(core::read_text_file("/proc/self/stat")), 0);
    EXPECT_THROW(core::read_text_file("/proc/self/no-such-file"), core::Error);
}

TEST(IrqName, PacksIntoTheVectorField) {
    EXPECT_EQ(unpack_irq_name(pack_irq_name("LOC")), "LOC");
    EXPECT_EQ(unpack_irq_name(pack_irq_name("IPI0")), "IPI0");
    EXPECT_EQ(unpack_irq_name(pack_irq_name("TIMER")), "TIME");  // four characters kept
    EXPECT_NE(pack_irq_name("LOC"), pack_irq_name("RES"));
}

}  // namespace
}  // namespace qc::isolation
