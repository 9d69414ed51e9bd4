// The pure parsers of the boot checks: the kernel command line as the
// kernel splits it, isolcpus= flags, kernel configs, /proc/<pid>/stat.
#include <gtest/gtest.h>

#include "checks_boot/kernel_cmdline.hpp"
#include "checks_boot/kernel_config.hpp"
#include "checks_boot/proc_task.hpp"
#include "quietcore/core/error.hpp"

namespace qc::monitor::boot {
namespace {

std::vector<std::string> names(const KernelCmdline& cmd) {
    std::vector<std::string> out;
    for (const KernelParam& p : cmd.params) {
        out.push_back(p.name);
    }
    return out;
}

TEST(KernelCmdline, SplitsOnWhitespaceAndKeepsBareWords) {
    const auto cmd = parse_kernel_cmdline(
        "BOOT_IMAGE=/boot/vmlinuz-6.1.0-qc root=/dev/vda1 ro  quiet\tnohz_full=2-3\n");
    EXPECT_EQ(names(cmd),
              (std::vector<std::string>{"BOOT_IMAGE", "root", "ro", "quiet", "nohz_full"}));
    EXPECT_EQ(cmd.params[0].value, "/boot/vmlinuz-6.1.0-qc");
    EXPECT_FALSE(cmd.params[2].value.has_value());
    EXPECT_EQ(cmd.params[4].value, "2-3");
    EXPECT_EQ(cmd.params[4].text, "nohz_full=2-3");
    EXPECT_TRUE(cmd.init_args.empty());
}

TEST(KernelCmdline, ValueKeepsLaterEqualsSigns) {
    const auto cmd = parse_kernel_cmdline("root=PARTUUID=1234-5678 a=");
    ASSERT_EQ(cmd.params.size(), 2u);
    EXPECT_EQ(cmd.params[0].name, "root");
    EXPECT_EQ(cmd.params[0].value, "PARTUUID=1234-5678");
    EXPECT_EQ(cmd.params[1].value, "");
}

TEST(KernelCmdline, QuotedValuesLoseTheirQuotesAndKeepSpaces) {
    const auto cmd =
        parse_kernel_cmdline("dyndbg=\"file foo.c +p\" \"acpi_osi=Windows 2020\" isolcpus=2-3");
    ASSERT_EQ(cmd.params.size(), 3u);
    EXPECT_EQ(cmd.params[0].name, "dyndbg");
    EXPECT_EQ(cmd.params[0].value, "file foo.c +p");
    EXPECT_EQ(cmd.params[0].text, "dyndbg=\"file foo.c +p\"");
    EXPECT_EQ(cmd.params[1].name, "acpi_osi");
    EXPECT_EQ(cmd.params[1].value, "Windows 2020");
    EXPECT_EQ(cmd.params[2].value, "2-3");
}

TEST(KernelCmdline, AnUnterminatedQuoteRunsToTheEnd) {
    const auto cmd = parse_kernel_cmdline("a=\"x y nohz_full=1");
    ASSERT_EQ(cmd.params.size(), 1u);
    EXPECT_EQ(cmd.params[0].value, "x y nohz_full=1");
    EXPECT_FALSE(cmd.has("nohz_full"));
}

TEST(KernelCmdline, DoubleDashHandsTheRestToInit) {
    // This machine's command line: the words after "--" are init's.
    const auto cmd = parse_kernel_cmdline(
        "console=ttyS0 quiet rdinit=/process_api -- --firecracker-init --addr 0.0.0.0:2024 "
        "nohz_full=1\n");
    EXPECT_EQ(names(cmd), (std::vector<std::string>{"console", "quiet", "rdinit"}));
    EXPECT_EQ(cmd.init_args, (std::vector<std::string>{"--firecracker-init", "--addr",
                                                       "0.0.0.0:2024", "nohz_full=1"}));
    EXPECT_FALSE(cmd.has("nohz_full"));
}

TEST(KernelCmdline, RepeatedParametersAreAllKeptInOrder) {
    const auto cmd = parse_kernel_cmdline("isolcpus=2-3 quiet isolcpus=domain,4-5 nohz-full=2");
    const auto found = cmd.all("isolcpus");
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0]->value, "2-3");
    EXPECT_EQ(found[1]->value, "domain,4-5");
    // Dashes and underscores name the same parameter.
    ASSERT_EQ(cmd.all("nohz_full").size(), 1u);
    EXPECT_EQ(cmd.all("nohz_full")[0]->value, "2");
    EXPECT_TRUE(param_name_equal("rcu-nocbs", "rcu_nocbs"));
    EXPECT_FALSE(param_name_equal("rcu_nocbs", "rcu_nocb"));
}

TEST(KernelCmdline, EmptyAndBlankLines) {
    EXPECT_TRUE(parse_kernel_cmdline("").params.empty());
    EXPECT_TRUE(parse_kernel_cmdline(" \n").params.empty());
}

TEST(Isolcpus, FlagsThenList) {
    const auto v = parse_isolcpus("domain,managed_irq,2-3");
    EXPECT_TRUE(v.domain);
    EXPECT_TRUE(v.managed_irq);
    EXPECT_FALSE(v.nohz);
    EXPECT_EQ(v.cpus, "2-3");
    EXPECT_TRUE(v.invalid_flag.empty());
    EXPECT_TRUE(v.unknown_flags.empty());
    EXPECT_EQ(v.flags_text(), "domain,managed_irq");
}

TEST(Isolcpus, PlainListMeansDomain) {
    const auto v = parse_isolcpus("2-3");
    EXPECT_FALSE(v.domain);
    EXPECT_TRUE(v.domain_effective());
    EXPECT_EQ(v.cpus, "2-3");
    EXPECT_EQ(v.flags_text(), "");
}

TEST(Isolcpus, AllFlagsInAnyOrder) {
    const auto v = parse_isolcpus("managed_irq,nohz,domain,2-3,6-7");
    EXPECT_TRUE(v.nohz && v.domain && v.managed_irq);
    EXPECT_EQ(v.cpus, "2-3,6-7");
    EXPECT_EQ(v.flags_text(), "nohz,domain,managed_irq");
}

TEST(Isolcpus, ManagedIrqAloneIsNotDomainIsolation) {
    const auto v = parse_isolcpus("managed_irq,2-3");
    EXPECT_FALSE(v.domain_effective());
}

TEST(Isolcpus, AFlagWithoutItsCommaIsAnUnknownFlag) {
    // As in the kernel: "domain" without "," is skipped, and no list follows.
    const auto v = parse_isolcpus("nohz,domain");
    EXPECT_TRUE(v.nohz);
    EXPECT_FALSE(v.domain);
    EXPECT_EQ(v.unknown_flags, (std::vector<std::string>{"domain"}));
    EXPECT_EQ(v.cpus, "");
}

TEST(Isolcpus, UnknownAndInvalidFlags) {
    const auto unknown = parse_isolcpus("timer_x,domain,2-3");
    EXPECT_EQ(unknown.unknown_flags, (std::vector<std::string>{"timer_x"}));
    EXPECT_TRUE(unknown.domain);
    EXPECT_EQ(unknown.cpus, "2-3");
    const auto invalid = parse_isolcpus("dom-ain,2-3");
    EXPECT_EQ(invalid.invalid_flag, "dom-ain");
}

TEST(KernelConfig, ValuesNotSetAndComments) {
    const auto config = parse_kernel_config(
        "#\n# Automatically generated file; DO NOT EDIT.\n#\nCONFIG_NO_HZ_FULL=y\n"
        "# CONFIG_RCU_NOCB_CPU is not set\nCONFIG_LOCALVERSION=\"-qc\"\n\nCONFIG_HZ=250\n");
    EXPECT_EQ(config.value("CONFIG_NO_HZ_FULL"), "y");
    EXPECT_EQ(config.value("CONFIG_RCU_NOCB_CPU"), "n");
    EXPECT_EQ(config.value("CONFIG_LOCALVERSION"), "\"-qc\"");
    EXPECT_EQ(config.value("CONFIG_HZ"), "250");
    EXPECT_FALSE(config.value("CONFIG_TASK_ISOLATION").has_value());
    EXPECT_TRUE(config.malformed.empty());
}

TEST(KernelConfig, MalformedLinesAreKeptAndFoundBySymbol) {
    const auto config = parse_kernel_config(
        "CONFIG_RCU_NOCB_CPU_DEFAULT_ALL y\nCONFIG_A=\n=y\nCONFIG_RCU_NOCB_CPU y\n");
    EXPECT_EQ(config.malformed.size(), 4u);
    EXPECT_EQ(config.malformed_line_for("CONFIG_RCU_NOCB_CPU"), "CONFIG_RCU_NOCB_CPU y");
    EXPECT_EQ(config.malformed_line_for("CONFIG_RCU_NOCB_CPU_DEFAULT_ALL"),
              "CONFIG_RCU_NOCB_CPU_DEFAULT_ALL y");
    EXPECT_FALSE(config.malformed_line_for("CONFIG_NO_HZ_FULL").has_value());
}

TEST(ProcStat, KthreadAndUserFlags) {
    const auto kthread = parse_proc_stat(
        "14 (ksoftirqd/0) S 2 0 0 0 -1 69238848 0 0 0 0 33 250 0 0 20 0 1 0 19 0 0 "
        "18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
    EXPECT_EQ(kthread.pid, 14u);
    EXPECT_EQ(kthread.comm, "ksoftirqd/0");
    EXPECT_EQ(kthread.state, 'S');
    EXPECT_TRUE(kthread.kthread());
    const auto user = parse_proc_stat(
        "12759 (bash) S 12758 12759 12759 0 -1 4194560 11633 5299431 0 489 24 49 24741 4196 20 "
        "0 1 0 3125134 5353472 1053 18446744073709551615 1 1 0 0 0 0 65536 4 1132560123 1 0 0 17 "
        "1 0 0 0 0 0 0 0 0 0 0 0 0 0");
    EXPECT_EQ(user.comm, "bash");
    EXPECT_FALSE(user.kthread());
}

TEST(ProcStat, CommandNamesWithSpacesAndParentheses) {
    const auto stat = parse_proc_stat("77 (my (odd) name) R 1 77 77 0 -1 2097152 0 0 0 0 0");
    EXPECT_EQ(stat.comm, "my (odd) name");
    EXPECT_EQ(stat.state, 'R');
    EXPECT_TRUE(stat.kthread());
}

TEST(ProcStat, MalformedLinesNameTheToken) {
    try {
        parse_proc_stat("5 (x) S 1 0 0 0 -1 12ab 0 0");
        FAIL() << "no throw";
    } catch (const core::ParseError& e) {
        EXPECT_EQ(e.token(), "12ab");
    }
    EXPECT_THROW(parse_proc_stat("5 (x) S 1 0"), core::ParseError);
    EXPECT_THROW(parse_proc_stat("garbage"), core::ParseError);
    EXPECT_THROW(parse_proc_stat("x5 (x) S 1 0 0 0 -1 0"), core::ParseError);
}

TEST(ProcStatus, FieldValue) {
    const std::string status =
        "Name:\tsystemd\nCpus_allowed:\t33\nCpus_allowed_list:\t0-1,4-5\nMems_allowed_list:\t0-1\n";
    EXPECT_EQ(status_field(status, "Cpus_allowed_list"), "0-1,4-5");
    EXPECT_EQ(status_field(status, "Cpus_allowed"), "33");
    EXPECT_EQ(status_field(status, "Name"), "systemd");
    EXPECT_FALSE(status_field(status, "Kthread").has_value());
}

}  // namespace
}  // namespace qc::monitor::boot
