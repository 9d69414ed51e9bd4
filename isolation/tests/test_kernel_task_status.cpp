#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "quietcore/core/error.hpp"
#include "quietcore/isolation/kernel_task_status.hpp"

namespace qc::isolation {
namespace {

const std::string kIsolated =
    "state: isolated\nflags: 0x103\nsignal: 10\nbreaks: 7\nbreaks_syscall: 3\n"
    "breaks_page_fault: 1\nbreaks_exception: 0\nbreaks_irq: 2\nbreaks_ipi: 1\n"
    "breaks_signal: 0\nbreaks_preemption: 0\nbreaks_migration: 0\nbreaks_affinity: 0\n"
    "quiesce_eagain: 4\n";

std::string replace(std::string text, const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
    return text;
}

std::string error_of(const std::string& text) {
    try {
        parse_kernel_task_status(text, "/proc/1/task/1/task_isolation");
    } catch (const core::ParseError& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(KernelTaskStatus, ParsesEveryField) {
    const KernelTaskStatus st = parse_kernel_task_status(kIsolated, "x");
    EXPECT_TRUE(st.isolated);
    EXPECT_EQ(st.flags, 0x103u);
    EXPECT_EQ(st.signal, 10);
    EXPECT_EQ(st.breaks, 7u);
    EXPECT_EQ(st.breaks_of(BreakCause::syscall), 3u);
    EXPECT_EQ(st.breaks_of(BreakCause::page_fault), 1u);
    EXPECT_EQ(st.breaks_of(BreakCause::irq), 2u);
    EXPECT_EQ(st.breaks_of(BreakCause::ipi), 1u);
    EXPECT_EQ(st.breaks_of(BreakCause::affinity_change), 0u);
    EXPECT_EQ(st.quiesce_eagain, 4u);
}

TEST(KernelTaskStatus, OffIsNotIsolated) {
    EXPECT_FALSE(parse_kernel_task_status(replace(kIsolated, "isolated", "off"), "x").isolated);
}

TEST(KernelTaskStatus, MalformedLinesAreErrorsNamingTheFileAndToken) {
    EXPECT_NE(error_of(replace(kIsolated, "breaks_irq: 2", "breaks_irq: two"))
                  .find("/proc/1/task/1/task_isolation \"breaks_irq: two\": bad token \"two\""),
              std::string::npos);
    EXPECT_NE(error_of(replace(kIsolated, "flags: 0x103", "flags: 103")).find("hexadecimal"),
              std::string::npos);
    EXPECT_NE(error_of(replace(kIsolated, "state: isolated", "state: maybe")).find("\"maybe\""),
              std::string::npos);
    EXPECT_NE(error_of(replace(kIsolated, "signal: 10", "signal 10")).find("key: value"),
              std::string::npos);
}

TEST(KernelTaskStatus, UnknownRepeatedAndMissingKeysAreErrors) {
    EXPECT_NE(error_of(kIsolated + "breaks_cosmic_ray: 1\n").find("unknown key"),
              std::string::npos);
    EXPECT_NE(error_of(kIsolated + "breaks_irq: 1\n").find("key repeated"), std::string::npos);
    EXPECT_NE(error_of(replace(kIsolated, "quiesce_eagain: 4\n", "")).find("\"quiesce_eagain\""),
              std::string::npos);
}

TEST(KernelTaskStatus, AbsentFileIsNulloptNotAnError) {
    // On this kernel (or any without the patch) the file does not exist.
    const auto st = read_kernel_task_status(getpid(), gettid(), "/nonexistent-proc");
    EXPECT_FALSE(st.has_value());
}

}  // namespace
}  // namespace qc::isolation
