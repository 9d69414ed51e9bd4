// Per-CPU deltas of captured /proc/interrupts text, and break-count deltas.
#include <gtest/gtest.h>

#include "../proc_deltas.hpp"

namespace qc::jitter {
namespace {

constexpr const char* kBefore =
    "           CPU0       CPU1       \n"
    "  24:         10         20   PCI-MSI 0-edge      eth0\n"
    " LOC:       1000       2000   Local timer interrupts\n"
    " RES:          5          7   Rescheduling interrupts\n"
    " ERR:          0\n";
constexpr const char* kAfter =
    "           CPU0       CPU1       \n"
    "  24:         15         20   PCI-MSI 0-edge      eth0\n"
    " LOC:       1100       2250   Local timer interrupts\n"
    " RES:          5          9   Rescheduling interrupts\n"
    " NEW:          1          1   Appeared during the run\n"
    " ERR:          3\n";

TEST(ProcDeltas, KeepsOnlyRowsThatGrewOnTheCpu) {
    const auto before = isolation::parse_interrupts(kBefore);
    const auto after = isolation::parse_interrupts(kAfter);
    EXPECT_EQ(cpu_deltas(before, after, 1),
              (std::map<std::string, std::uint64_t>{{"LOC", 250}, {"RES", 2}}));
    EXPECT_EQ(cpu_deltas(before, after, 0),
              (std::map<std::string, std::uint64_t>{{"24", 5}, {"LOC", 100}}));
    EXPECT_TRUE(cpu_deltas(before, after, 7).empty());  // no such column
}

}  // namespace
}  // namespace qc::jitter
