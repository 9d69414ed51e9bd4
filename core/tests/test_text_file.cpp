#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "quietcore/core/error.hpp"
#include "quietcore/core/text_file.hpp"

namespace qc::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> lines_of(std::string_view text) {
    std::vector<std::string> lines;
    for_each_line(text, [&](std::string_view line) { lines.emplace_back(line); });
    return lines;
}

TEST(ForEachLine, SplitsOnNewlinesKeepingEmptyAndUnterminatedLines) {
    EXPECT_THAT(lines_of(""), ElementsAre());
    EXPECT_THAT(lines_of("\n"), ElementsAre(""));
    EXPECT_THAT(lines_of("a\nb"), ElementsAre("a", "b"));
    EXPECT_THAT(lines_of("a\n\nb\n"), ElementsAre("a", "", "b"));
}

TEST(ForEachLine, StopsWhenTheCallbackReturnsFalse) {
    std::vector<std::string> seen;
    for_each_line("one\ntwo\nthree\n", [&](std::string_view line) {
        seen.emplace_back(line);
        return line != "two";
    });
    EXPECT_THAT(seen, ElementsAre("one", "two"));
}

TEST(ReadTextFile, ReadsAWholeFileLargerThanOneBuffer) {
    char path[] = "/tmp/qc-text-file-XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::close(fd);
    std::string content;
    for (int i = 0; i < 3000; ++i) {
        content += "line " + std::to_string(i) + "\n";
    }
    std::ofstream(path) << content;
    EXPECT_EQ(read_text_file(path), content);
    EXPECT_EQ(read_text_file_if_exists(path), content);
    std::remove(path);
}

TEST(ReadTextFile, ReadsProcFilesWhoseSizeIsZeroOnDisk) {
    EXPECT_THAT(read_text_file("/proc/self/status"), HasSubstr("VmSize:"));
}

TEST(ReadTextFile, MissingFileIsNulloptOrAnErrorNamingThePath) {
    const std::string missing = "/nonexistent/qc-text-file";
    EXPECT_EQ(read_text_file_if_exists(missing), std::nullopt);
    try {
        read_text_file(missing);
        FAIL() << "no error for a missing file";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr(missing));
    }
}

TEST(ReadTextFile, OtherFailuresThrowNamingThePath) {
    // A directory opens but cannot be read as a file: EISDIR on read.
    try {
        read_text_file_if_exists("/proc/self");
        FAIL() << "no error for a directory";
    } catch (const Error& e) {
        EXPECT_THAT(e.what(), HasSubstr("/proc/self"));
    }
}

TEST(SplitWords, SplitsOnRunsOfBlanksAndKeepsNoEmptyWord) {
    EXPECT_EQ(split_words("  CPU0\tCPU1 \r\n  LOC:  12 3\n"),
              (std::vector<std::string_view>{"CPU0", "CPU1", "LOC:", "12", "3"}));
    EXPECT_TRUE(split_words(" \t\n").empty());
    EXPECT_TRUE(split_words("").empty());
}

TEST(TrimSpace, RemovesBlanksAtBothEndsOnly) {
    EXPECT_EQ(trim_space(" \t 2-3,6 7\n"), "2-3,6 7");
    EXPECT_EQ(trim_space("\n\r "), "");
}

TEST(ParseNumber, AcceptsOnlyAWholeNumberThatFits) {
    EXPECT_EQ(parse_number<std::uint64_t>("18446744073709551615"), UINT64_MAX);
    EXPECT_EQ(parse_number<unsigned>("ff", 16), 255u);
    EXPECT_EQ(parse_number<int>("-1"), -1);
    EXPECT_EQ(parse_number<std::uint64_t>(""), std::nullopt);
    EXPECT_EQ(parse_number<std::uint64_t>("12a"), std::nullopt);
    EXPECT_EQ(parse_number<std::uint64_t>(" 12"), std::nullopt);
    EXPECT_EQ(parse_number<std::uint64_t>("-1"), std::nullopt);
    EXPECT_EQ(parse_number<std::uint8_t>("256"), std::nullopt);
}

}  // namespace
}  // namespace qc::core
