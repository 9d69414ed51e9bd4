// The text report (header, groups, aligned status words, evidence, fixes,
// counts line) and the JSON, on a hand-made context and run.
#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include "check/check_report.hpp"
#include "exit_codes.hpp"

namespace qc::monitor {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

// The line starting with prefix (after leading spaces), or "".
std::string line_with(const std::vector<std::string>& lines, std::string_view needle) {
    for (const std::string& line : lines) {
        if (line.find(needle) != std::string::npos) {
            return line;
        }
    }
    return {};
}

struct ReportTest : ::testing::Test {
    SystemRoot root{"/tmp/snap"};
    CheckContext ctx;
    CheckRun run;

    void SetUp() override {
        ctx.sys = &root;
        ctx.online = core::CpuSet::parse_list("0-7");
        ctx.isolated = core::CpuSet::parse_list("2-3,6-7");
        ctx.isolated_known = true;
        ctx.isolated_source = "/sys/devices/system/cpu/isolated";
        ctx.housekeeping = ctx.online - ctx.isolated;
        ctx.arch = "x86_64";
        ctx.kernel_release = "6.1.0-qc";
        ctx.interval_seconds = 0.5;
        run.outcomes = {
            {"cmdline.nohz_full", "nohz_full= covers the isolated CPUs",
             check_fail("nohz_full= is not on the kernel command line.",
                        {{"/proc/cmdline", "quiet splash"}}, "add nohz_full=2-3,6-7")},
            {"rates.irq", "few interrupts on isolated CPUs",
             check_ok("CPU 2 took 0 interrupts/s.", {{"/proc/interrupts", "LOC: 1 2\nRES: 3 4"}})},
            {"cmdline.isolcpus", "isolcpus= covers the isolated CPUs",
             check_warn("isolcpus= lacks domain.", {{"/proc/cmdline", "isolcpus=2-3"}},
                        "use isolcpus=nohz,domain,managed_irq,2-3,6-7")},
            {"mce.poll", "machine-check polling is off", check_skip("not x86_64")},
        };
        run.counts = {.ok = 1, .warn = 1, .fail = 1, .skip = 1};
    }

    std::string text() const {
        std::ostringstream out;
        print_check_report(out, ctx, run);
        return out.str();
    }
};

TEST_F(ReportTest, HeaderSaysWhatWasJudged) {
    const auto lines = lines_of(text());
    EXPECT_NE(line_with(lines, "snapshot /tmp/snap"), "");
    EXPECT_NE(line_with(lines, "isolated      2-3,6-7 (from /sys/devices/system/cpu/isolated)"),
              "");
    EXPECT_NE(line_with(lines, "housekeeping  0-1,4-5"), "");
    EXPECT_NE(line_with(lines, "online        0-7"), "");
    EXPECT_NE(line_with(lines, "kernel        6.1.0-qc"), "");
    EXPECT_NE(line_with(lines, "arch          x86_64"), "");
    EXPECT_NE(line_with(lines, "0.5 s apart"), "");
}

TEST_F(ReportTest, HeaderSaysWhenNothingIsIsolated) {
    SystemRoot live("/");
    ctx.sys = &live;
    ctx.isolated = {};
    ctx.isolated_known = false;
    ctx.isolated_source = "/sys/devices/system/cpu/isolated, /sys/devices/system/cpu/nohz_full";
    ctx.interval_seconds = 0;
    const auto lines = lines_of(text());
    EXPECT_NE(line_with(lines, "live system (/)"), "");
    EXPECT_NE(line_with(lines, "isolated      none: no --isolated given and the kernel isolates"),
              "");
    EXPECT_NE(line_with(lines, "no counters sampled"), "");
}

TEST_F(ReportTest, GroupsByAreaAndAlignsStatusWords) {
    const auto lines = lines_of(text());
    std::vector<std::string> check_lines;
    for (const std::string& line : lines) {
        for (std::string_view id :
             {"cmdline.nohz_full", "rates.irq", "cmdline.isolcpus", "mce.poll"}) {
            if (line.find(std::string(id) + " ") != std::string::npos &&
                line.find(':') == std::string::npos) {
                check_lines.push_back(line);
            }
        }
    }
    ASSERT_EQ(check_lines.size(), 4u);
    // cmdline's two checks together, in registry order, before rates.
    EXPECT_EQ(check_lines[0].substr(0, 8), "  fail  ");
    EXPECT_EQ(check_lines[1].substr(0, 8), "  warn  ");
    EXPECT_NE(check_lines[1].find("cmdline.isolcpus"), std::string::npos);
    EXPECT_EQ(check_lines[2].substr(0, 8), "  ok    ");
    EXPECT_EQ(check_lines[3].substr(0, 8), "  skip  ");
    // Titles start in one column.
    const std::size_t column = check_lines[0].find("nohz_full= covers");
    EXPECT_EQ(check_lines[1].find("isolcpus= covers"), column);
    EXPECT_EQ(check_lines[2].find("few interrupts"), column);
    EXPECT_EQ(check_lines[3].find("machine-check"), column);
    // Area headings, each once.
    int cmdline_headings = 0;
    for (const std::string& line : lines) {
        cmdline_headings += line == "cmdline" ? 1 : 0;
    }
    EXPECT_EQ(cmdline_headings, 1);
    EXPECT_NE(std::find(lines.begin(), lines.end(), "rates"), lines.end());
}

TEST_F(ReportTest, EvidenceAndFixes) {
    const std::string report = text();
    EXPECT_NE(report.find("        nohz_full= is not on the kernel command line.\n"
                          "        /proc/cmdline: quiet splash\n"
                          "        fix: add nohz_full=2-3,6-7\n"),
              std::string::npos)
        << report;
    // Multi-line values line up under their first line.
    EXPECT_NE(report.find("        /proc/interrupts: LOC: 1 2\n"
                          "                          RES: 3 4\n"),
              std::string::npos)
        << report;
    // No fix line for ok and skip.
    EXPECT_EQ(report.find("fix: \n"), std::string::npos);
    std::size_t fixes = 0;
    for (std::size_t pos = 0; (pos = report.find("fix: ", pos)) != std::string::npos; ++pos) {
        ++fixes;
    }
    EXPECT_EQ(fixes, 2u);
    EXPECT_NE(report.find("        not x86_64\n"), std::string::npos);
}

TEST_F(ReportTest, CountsLineLast) {
    const auto lines = lines_of(text());
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back(), "4 checks: 1 ok, 1 warn, 1 fail, 1 skip");
    EXPECT_EQ(counts_line({.ok = 1}), "1 check: 1 ok, 0 warn, 0 fail, 0 skip");
}

TEST_F(ReportTest, Json) {
    const nlohmann::ordered_json j = check_report_json(ctx, run);
    EXPECT_EQ(j["root"], "/tmp/snap");
    EXPECT_EQ(j["isolated"], "2-3,6-7");
    EXPECT_EQ(j["isolated_source"], "/sys/devices/system/cpu/isolated");
    EXPECT_EQ(j["housekeeping"], "0-1,4-5");
    EXPECT_EQ(j["online"], "0-7");
    EXPECT_EQ(j["arch"], "x86_64");
    EXPECT_EQ(j["kernel_release"], "6.1.0-qc");
    EXPECT_EQ(j["interval_seconds"], 0.5);
    EXPECT_EQ(j["counts"],
              (nlohmann::ordered_json{{"ok", 1}, {"warn", 1}, {"fail", 1}, {"skip", 1}}));
    EXPECT_EQ(j["exit_status"], kExitChecksFail);
    ASSERT_EQ(j["checks"].size(), 4u);
    const nlohmann::ordered_json& first = j["checks"][0];
    EXPECT_EQ(first["id"], "cmdline.nohz_full");
    EXPECT_EQ(first["title"], "nohz_full= covers the isolated CPUs");
    EXPECT_EQ(first["status"], "fail");
    EXPECT_EQ(first["summary"], "nohz_full= is not on the kernel command line.");
    EXPECT_EQ(
        first["evidence"],
        (nlohmann::ordered_json::array({{{"path", "/proc/cmdline"}, {"value", "quiet splash"}}})));
    EXPECT_EQ(first["fix"], "add nohz_full=2-3,6-7");
    EXPECT_EQ(j["checks"][1]["fix"], "");
    EXPECT_EQ(j["checks"][3]["status"], "skip");
    EXPECT_EQ(j["checks"][3]["evidence"], nlohmann::ordered_json::array());
}

TEST_F(ReportTest, JsonOfNothingIsolatedAndNoChecks) {
    ctx.isolated = {};
    ctx.isolated_known = false;
    ctx.housekeeping = ctx.online;
    run = {};
    const nlohmann::ordered_json j = check_report_json(ctx, run);
    EXPECT_EQ(j["isolated"], "");
    EXPECT_EQ(j["housekeeping"], "0-7");
    EXPECT_EQ(j["checks"], nlohmann::ordered_json::array());
    EXPECT_EQ(j["exit_status"], kExitChecksOk);
}

}  // namespace
}  // namespace qc::monitor
