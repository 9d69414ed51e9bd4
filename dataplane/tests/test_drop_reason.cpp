#include <gtest/gtest.h>

#include <set>
#include <string>

#include "quietcore/dataplane/drop_reason.hpp"

namespace qc::dataplane {
namespace {

TEST(DropReason, StableNames) {
    EXPECT_EQ(to_string(DropReason::not_ipv4), "not_ipv4");
    EXPECT_EQ(to_string(DropReason::truncated), "truncated");
    EXPECT_EQ(to_string(DropReason::bad_header_length), "bad_header_length");
    EXPECT_EQ(to_string(DropReason::bad_checksum), "bad_checksum");
    EXPECT_EQ(to_string(DropReason::ttl_expired), "ttl_expired");
    EXPECT_EQ(to_string(DropReason::no_route), "no_route");
    EXPECT_EQ(to_string(DropReason::tx_full), "tx_full");
}

TEST(DropReason, DenseIndicesAndCount) {
    EXPECT_EQ(kDropReasonCount, 7u);
    EXPECT_EQ(index(DropReason::not_ipv4), 0u);
    EXPECT_EQ(index(DropReason::truncated), 1u);
    EXPECT_EQ(index(DropReason::bad_header_length), 2u);
    EXPECT_EQ(index(DropReason::bad_checksum), 3u);
    EXPECT_EQ(index(DropReason::ttl_expired), 4u);
    EXPECT_EQ(index(DropReason::no_route), 5u);
    EXPECT_EQ(index(DropReason::tx_full), 6u);
}

TEST(DropReason, NamesAreDistinctAndKnown) {
    std::set<std::string> names;
    for (std::size_t i = 0; i < kDropReasonCount; ++i) {
        const auto name = to_string(static_cast<DropReason>(i));
        EXPECT_NE(name, "unknown") << i;
        EXPECT_FALSE(name.empty()) << i;
        names.emplace(name);
    }
    EXPECT_EQ(names.size(), kDropReasonCount);
}

TEST(DropReason, OutOfRangeIsUnknown) {
    EXPECT_EQ(to_string(static_cast<DropReason>(kDropReasonCount)), "unknown");
    EXPECT_EQ(to_string(static_cast<DropReason>(255)), "unknown");
}

TEST(DropReason, UsableAtCompileTime) {
    static_assert(to_string(DropReason::no_route) == "no_route");
    static_assert(index(DropReason::tx_full) == kDropReasonCount - 1);
    SUCCEED();
}

}  // namespace
}  // namespace qc::dataplane
