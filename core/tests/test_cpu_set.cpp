// CpuSet: the kernel's cpulist and hex-mask forms, and the set operations.
// Expected sets for the list syntax come from bitmap_parselist() in Linux 6.1
// and its own test table (lib/test_bitmap.c).
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "quietcore/core/cpu_set.hpp"
#include "quietcore/core/error.hpp"

namespace qc::core {

// Lets gtest print a set in a failure message.
void PrintTo(const CpuSet& s, std::ostream* os) {
    *os << "{" << s.to_list() << "}";
}

namespace {

using Cpus = std::vector<unsigned>;

Cpus range(unsigned first, unsigned last) {
    Cpus out;
    for (unsigned c = first; c <= last; ++c) {
        out.push_back(c);
    }
    return out;
}

// --- cpulist parsing --------------------------------------------------------

TEST(CpuSetParseList, EmptyTextAndSysfsNewlineAreTheEmptySet) {
    EXPECT_TRUE(CpuSet::parse_list("").empty());
    EXPECT_TRUE(CpuSet::parse_list("\n").empty());
    EXPECT_TRUE(CpuSet::parse_list(" ,  ,, \n").empty());
}

TEST(CpuSetParseList, SingleCpusAndRanges) {
    EXPECT_EQ(CpuSet::parse_list("5").cpus(), (Cpus{5}));
    EXPECT_EQ(CpuSet::parse_list("0-3,8,10-11").cpus(), (Cpus{0, 1, 2, 3, 8, 10, 11}));
    EXPECT_EQ(CpuSet::parse_list("7-7").cpus(), (Cpus{7}));
    EXPECT_EQ(CpuSet::parse_list("007").cpus(), (Cpus{7}));
    EXPECT_EQ(CpuSet::parse_list("3,1-2,2,0").cpus(), (Cpus{0, 1, 2, 3}));
    EXPECT_EQ(CpuSet::parse_list("8191").cpus(), (Cpus{8191}));
}

TEST(CpuSetParseList, StridesTakeUsedCpusOfEveryGroup) {
    EXPECT_EQ(CpuSet::parse_list("0-15:2/4").cpus(), (Cpus{0, 1, 4, 5, 8, 9, 12, 13}));
    EXPECT_EQ(CpuSet::parse_list("0-1023:2/256").cpus(),
              (Cpus{0, 1, 256, 257, 512, 513, 768, 769}));
    // The last group is cut at the range's end.
    EXPECT_EQ(CpuSet::parse_list("0-9:3/4").cpus(), (Cpus{0, 1, 2, 4, 5, 6, 8, 9}));
    EXPECT_EQ(CpuSet::parse_list("9-38:4/10").cpus(),
              (Cpus{9, 10, 11, 12, 19, 20, 21, 22, 29, 30, 31, 32}));
    EXPECT_EQ(CpuSet::parse_list("2-7:6/6").cpus(), range(2, 7));
}

TEST(CpuSetParseList, WhitespaceAndNewlinesAsTheKernelTakesThem) {
    EXPECT_EQ(CpuSet::parse_list("2-3\n").cpus(), (Cpus{2, 3}));
    EXPECT_EQ(CpuSet::parse_list("  1 , 3-4\t\n").cpus(), (Cpus{1, 3, 4}));
    // Spaces separate regions just like commas.
    EXPECT_EQ(CpuSet::parse_list("1 2").cpus(), (Cpus{1, 2}));
    EXPECT_EQ(CpuSet::parse_list("0-31:3/4 ,, 32-63:4/4", 64).count(), 24u + 32u);
    // A newline right after a region ends the list, whatever follows it.
    EXPECT_EQ(CpuSet::parse_list("2-3\nnot parsed").cpus(), (Cpus{2, 3}));
}

// bitmap_parselist() skips any run of commas and spaces before a region, and
// a stride may use no CPU of its group: Linux's own test table accepts
// ",,  ,,  , ,  ," and "0-31:0/3". We accept what the kernel accepts.
TEST(CpuSetParseList, RepeatedSeparatorsAndZeroUsedStrideAreKernelValid) {
    EXPECT_EQ(CpuSet::parse_list("1,,2").cpus(), (Cpus{1, 2}));
    EXPECT_EQ(CpuSet::parse_list(",1,").cpus(), (Cpus{1}));
    EXPECT_TRUE(CpuSet::parse_list("0-15:0/4").empty());
    EXPECT_EQ(CpuSet::parse_list("1-10:8/12,8-31:24/29,0-31:0/3", 32),
              CpuSet::parse_list("1-8,8-31", 32));
}

TEST(CpuSetParseList, NIsTheLastCpuBelowTheLimit) {
    EXPECT_EQ(CpuSet::parse_list("0-N", 4).cpus(), range(0, 3));
    EXPECT_EQ(CpuSet::parse_list("N", 4).cpus(), (Cpus{3}));
    EXPECT_EQ(CpuSet::parse_list("2-N:1/2", 8).cpus(), (Cpus{2, 4, 6}));
    EXPECT_EQ(CpuSet::parse_list("0-15:16/N", 32).cpus(), range(0, 15));
    EXPECT_EQ(CpuSet::parse_list("0-N").count(), std::size_t{CpuSet::kMaxCpus});
}

TEST(CpuSetParseList, AllIsEveryCpuBelowTheLimit) {
    EXPECT_EQ(CpuSet::parse_list("all", 4).cpus(), range(0, 3));
    EXPECT_EQ(CpuSet::parse_list("ALL:1/2", 8).cpus(), (Cpus{0, 2, 4, 6}));
    EXPECT_EQ(CpuSet::parse_list("0, 1, all,  ", 6).cpus(), range(0, 5));
}

TEST(CpuSetParseList, LimitAboveKMaxCpusIsCappedThere) {
    EXPECT_THROW(CpuSet::parse_list("8192", 100000), ParseError);
    EXPECT_EQ(CpuSet::parse_list("0-N", 100000).end(), CpuSet::kMaxCpus);
}

struct BadText {
    const char* text;
    unsigned limit;
    const char* token;   // the exact token ParseError must name
    const char* reason;  // a fragment of the reason
};

void expect_rejected(bool list, const BadText& bad) {
    SCOPED_TRACE(std::string(list ? "list " : "mask ") + "\"" + bad.text + "\"");
    try {
        if (list) {
            (void)CpuSet::parse_list(bad.text, bad.limit);
        } else {
            (void)CpuSet::parse_mask(bad.text, bad.limit);
        }
        ADD_FAILURE() << "accepted";
    } catch (const ParseError& e) {
        const std::string message = e.what();
        EXPECT_EQ(e.input(), bad.text);
        EXPECT_EQ(e.token(), bad.token);
        EXPECT_NE(message.find(std::string("\"") + bad.text + "\""), std::string::npos) << message;
        EXPECT_NE(message.find(std::string("bad token \"") + bad.token + "\""), std::string::npos)
            << message;
        EXPECT_NE(message.find(bad.reason), std::string::npos) << message;
    }
}

TEST(CpuSetParseList, MalformedListsNameTheBadToken) {
    constexpr unsigned kMax = CpuSet::kMaxCpus;
    const BadText cases[] = {
        {"1-", kMax, "1-", "range has no end"},
        {"0-\n", kMax, "0-", "range has no end"},
        {"a", kMax, "a", "expected a CPU number"},
        {"1,2-x", kMax, "2-x", "range has no end"},
        {"3-1", kMax, "3-1", "start is above its end"},
        {"10-1", 8, "10-1", "start is above its end"},
        {"-1", kMax, "-1", "expected a CPU number"},
        {"+1", kMax, "+1", "expected a CPU number"},
        {"1.5", kMax, "1.5", "expected '-'"},
        {"0x1", kMax, "0x1", "expected '-'"},
        {"1-3x", kMax, "1-3x", "expected ':'"},
        {"0-15:5/4", kMax, "0-15:5/4", "more CPUs than its group"},
        {"0-31:10/1", 32, "0-31:10/1", "more CPUs than its group"},
        {"0-15:2/0", kMax, "0-15:2/0", "group size is zero"},
        {"1-3:2", kMax, "1-3:2", "used/group"},
        {"0-31:", 32, "0-31:", "used count"},
        {"0-31:0/", 32, "0-31:0/", "group size"},
        {"0-31:a/1", 32, "0-31:a/1", "used count"},
        {"al", kMax, "al", "expected a CPU number"},
        {"alll", kMax, "alll", "expected ':'"},
        {"0-3,8", 8, "8", "CPU 8 is at or beyond the limit of 8"},
        {"0-8", 8, "0-8", "beyond the limit"},
        {"8192", kMax, "8192", "CPU 8192 is at or beyond the limit of 8192"},
        {"N", 0, "N", "beyond the limit"},
        {"4294967296", kMax, "4294967296", "does not fit in 32 bits"},
        {"0-98765432123456789:10/1", 8, "0-98765432123456789:10/1", "does not fit"},
        {"99999999999999999999999", kMax, "99999999999999999999999", "does not fit"},
    };
    for (const BadText& bad : cases) {
        expect_rejected(true, bad);
    }
}

// --- hex masks --------------------------------------------------------------

TEST(CpuSetParseMask, GroupsAreMostSignificantFirst) {
    Cpus expected{0};
    const Cpus high = range(32, 39);
    expected.insert(expected.end(), high.begin(), high.end());
    EXPECT_EQ(CpuSet::parse_mask("ff,00000001").cpus(), expected);
    EXPECT_EQ(CpuSet::parse_mask("000000ff,00000001\n").cpus(), expected);
    EXPECT_EQ(CpuSet::parse_mask("3").cpus(), (Cpus{0, 1}));
    EXPECT_EQ(CpuSet::parse_mask("DeadBeef").to_mask(), "deadbeef");
    EXPECT_EQ(CpuSet::parse_mask("80000000,00000000,00000000").cpus(), (Cpus{95}));
}

TEST(CpuSetParseMask, PrefixNewlineAndEmptyForms) {
    EXPECT_EQ(CpuSet::parse_mask("0x3").cpus(), (Cpus{0, 1}));
    EXPECT_EQ(CpuSet::parse_mask("0X10,00000000\n").cpus(), (Cpus{36}));
    EXPECT_TRUE(CpuSet::parse_mask("").empty());
    EXPECT_TRUE(CpuSet::parse_mask("\n").empty());
    EXPECT_TRUE(CpuSet::parse_mask("00000000,00000000\n").empty());
    // Like the kernel, nothing after the first newline is read.
    EXPECT_EQ(CpuSet::parse_mask("1\nzz").cpus(), (Cpus{0}));
}

// bitmap_parse() documents "1,,5", ",44" and embedded whitespace as valid.
TEST(CpuSetParseMask, KernelGroupingQuirks) {
    EXPECT_EQ(CpuSet::parse_mask("1,,5").cpus(), (Cpus{0, 2, 32}));
    EXPECT_EQ(CpuSet::parse_mask(",44").cpus(), (Cpus{2, 6}));
    EXPECT_EQ(CpuSet::parse_mask(" 1 00000000 ").cpus(), (Cpus{32}));
}

TEST(CpuSetParseMask, MaskUpToTheLimitIsAccepted) {
    EXPECT_EQ(CpuSet::parse_mask("ff,00000001", 40).count(), 9u);
    EXPECT_EQ(CpuSet::parse_mask("ff", 8).count(), 8u);
    EXPECT_EQ(CpuSet::parse_mask("80000000", 32).cpus(), (Cpus{31}));
}

TEST(CpuSetParseMask, MalformedMasksNameTheBadGroup) {
    constexpr unsigned kMax = CpuSet::kMaxCpus;
    const BadText cases[] = {
        {"fg", kMax, "fg", "not a hex digit: 'g'"},
        {"ff,0000z001", kMax, "0000z001", "not a hex digit: 'z'"},
        {"-1", kMax, "-1", "not a hex digit: '-'"},
        {"123456789", kMax, "123456789", "longer than 8 hex digits"},
        {"1,000000001", kMax, "000000001", "longer than 8 hex digits"},
        {"0x", kMax, "0x", "0x prefix without hex digits"},
        {"0x,1", kMax, "0x", "0x prefix without hex digits"},
        {"0x0x1", kMax, "0x1", "not a hex digit: 'x'"},
        {"100", 8, "100", "sets CPU 8, at or beyond the limit of 8"},
        {"100,00000000", 40, "100", "sets CPU 40"},
        {"1,00000000", 32, "1", "more than 1 32-bit groups"},
        {"0,0,0", 64, "0", "more than 2 32-bit groups"},
        {"1", 0, "1", "more than 0 32-bit groups"},
    };
    for (const BadText& bad : cases) {
        expect_rejected(false, bad);
    }
}

// --- formatting -------------------------------------------------------------

TEST(CpuSetFormat, ListCollapsesRanges) {
    EXPECT_EQ(CpuSet{}.to_list(), "");
    EXPECT_EQ((CpuSet{5}).to_list(), "5");
    EXPECT_EQ((CpuSet{0, 1}).to_list(), "0-1");
    EXPECT_EQ((CpuSet{11, 0, 2, 1, 3, 8, 10}).to_list(), "0-3,8,10-11");
    EXPECT_EQ(CpuSet::parse_list("0-15:2/4").to_list(), "0-1,4-5,8-9,12-13");
    EXPECT_EQ(CpuSet::parse_list("63-64,8191").to_list(), "63-64,8191");
}

TEST(CpuSetFormat, MaskHasEightDigitsPerGroup) {
    EXPECT_EQ(CpuSet{}.to_mask(), "00000000");
    EXPECT_EQ((CpuSet{0}).to_mask(), "00000001");
    EXPECT_EQ((CpuSet{0, 8}).to_mask(), "00000101");
    EXPECT_EQ(CpuSet::parse_list("0,32-39").to_mask(), "000000ff,00000001");
    EXPECT_EQ((CpuSet{63}).to_mask(), "80000000,00000000");
    EXPECT_EQ((CpuSet{64}).to_mask(), "00000001,00000000,00000000");

    const std::string top = (CpuSet{CpuSet::kMaxCpus - 1}).to_mask();
    EXPECT_EQ(top.size(), 256u * 9 - 1);
    EXPECT_EQ(top.substr(0, 9), "80000000,");
    EXPECT_EQ(std::count(top.begin(), top.end(), ','), 255);
}

// --- the set itself ---------------------------------------------------------

TEST(CpuSet, AddRemoveContains) {
    CpuSet s{1, 100};
    EXPECT_TRUE(s.contains(1));
    EXPECT_TRUE(s.contains(100));
    EXPECT_FALSE(s.contains(2));
    EXPECT_FALSE(s.contains(4000000000u));
    EXPECT_EQ(s.end(), 101u);

    s.remove(100);
    s.remove(7000);  // beyond the highest word: nothing to do
    EXPECT_EQ(s, (CpuSet{1}));
    EXPECT_EQ(s.end(), 2u);

    s.remove(1);
    EXPECT_TRUE(s.empty());
    EXPECT_EQ(s, CpuSet{});
}

TEST(CpuSet, AddBeyondKMaxCpusThrows) {
    CpuSet s;
    EXPECT_THROW(s.add(CpuSet::kMaxCpus), Error);
    EXPECT_THROW((CpuSet{1, CpuSet::kMaxCpus}), Error);
    EXPECT_NO_THROW(s.add(CpuSet::kMaxCpus - 1));
    EXPECT_EQ(s.end(), CpuSet::kMaxCpus);
}

TEST(CpuSet, CountFirstEnd) {
    const CpuSet empty;
    EXPECT_EQ(empty.count(), 0u);
    EXPECT_EQ(empty.first(), -1);
    EXPECT_EQ(empty.end(), 0u);
    EXPECT_TRUE(empty.cpus().empty());

    const CpuSet s = CpuSet::parse_list("70,3-5,4000");
    EXPECT_EQ(s.count(), 5u);
    EXPECT_EQ(s.first(), 3);
    EXPECT_EQ(s.end(), 4001u);
    EXPECT_EQ(s.cpus(), (Cpus{3, 4, 5, 70, 4000}));
}

TEST(CpuSet, SetOperations) {
    const CpuSet a = CpuSet::parse_list("0-3,64,200");
    const CpuSet b = CpuSet::parse_list("2-5,200");

    EXPECT_EQ((a | b).to_list(), "0-5,64,200");
    EXPECT_EQ((a & b).to_list(), "2-3,200");
    EXPECT_EQ((a - b).to_list(), "0-1,64");
    EXPECT_EQ((b - a).to_list(), "4-5");
    EXPECT_EQ((a & CpuSet{64}).end(), 65u);  // high words dropped, not kept as zero
    EXPECT_EQ(a - a, CpuSet{});

    EXPECT_TRUE(a.intersects(b));
    EXPECT_FALSE(a.intersects(CpuSet{6, 65}));
    EXPECT_FALSE(CpuSet{}.intersects(a));

    EXPECT_TRUE((a & b).is_subset_of(a));
    EXPECT_TRUE(CpuSet{}.is_subset_of(a));
    EXPECT_TRUE(a.is_subset_of(a));
    EXPECT_FALSE(a.is_subset_of(b));
    EXPECT_FALSE((CpuSet{300}).is_subset_of(a));

    EXPECT_EQ(a, CpuSet::parse_list("200,64,0-3"));
    EXPECT_FALSE(a == b);
}

// --- randomized: round trips and a std::set model ---------------------------

// Runs of random length at random places, so both scattered CPUs and long
// ranges appear; a third of the sets reach up to kMaxCpus-1.
CpuSet random_set(std::mt19937& rng) {
    const unsigned span = std::uniform_int_distribution<unsigned>(0, 2)(rng) == 0
                              ? CpuSet::kMaxCpus
                              : std::uniform_int_distribution<unsigned>(1, 300)(rng);
    const unsigned runs = std::uniform_int_distribution<unsigned>(0, 20)(rng);
    CpuSet s;
    for (unsigned r = 0; r < runs; ++r) {
        const unsigned start = std::uniform_int_distribution<unsigned>(0, span - 1)(rng);
        const unsigned length = std::uniform_int_distribution<unsigned>(1, 70)(rng);
        for (unsigned c = start; c < std::min(span, start + length); ++c) {
            s.add(c);
        }
    }
    if (std::uniform_int_distribution<unsigned>(0, 9)(rng) == 0) {
        s.add(CpuSet::kMaxCpus - 1);
    }
    return s;
}

std::set<unsigned> model(const CpuSet& s) {
    const Cpus v = s.cpus();
    return {v.begin(), v.end()};
}

Cpus as_cpus(const std::set<unsigned>& m) {
    return {m.begin(), m.end()};
}

TEST(CpuSetRandom, ListAndMaskRoundTrip) {
    std::mt19937 rng(20240611);
    for (int i = 0; i < 2000; ++i) {
        const CpuSet s = random_set(rng);
        const std::string list = s.to_list();
        const std::string mask = s.to_mask();
        ASSERT_EQ(CpuSet::parse_list(list), s) << list;
        ASSERT_EQ(CpuSet::parse_mask(mask), s) << mask;
        ASSERT_EQ(CpuSet::parse_list(list + "\n"), s) << list;
        ASSERT_EQ(CpuSet::parse_mask("0x" + mask + "\n"), s) << mask;
    }
}

TEST(CpuSetRandom, OperationsMatchStdSet) {
    std::mt19937 rng(7);
    for (int i = 0; i < 1000; ++i) {
        const CpuSet a = random_set(rng);
        const CpuSet b = random_set(rng);
        const std::set<unsigned> ma = model(a);
        const std::set<unsigned> mb = model(b);

        std::set<unsigned> uni;
        std::set<unsigned> inter;
        std::set<unsigned> diff;
        std::set_union(ma.begin(), ma.end(), mb.begin(), mb.end(), std::inserter(uni, uni.end()));
        std::set_intersection(ma.begin(), ma.end(), mb.begin(), mb.end(),
                              std::inserter(inter, inter.end()));
        std::set_difference(ma.begin(), ma.end(), mb.begin(), mb.end(),
                            std::inserter(diff, diff.end()));

        ASSERT_EQ((a | b).cpus(), as_cpus(uni));
        ASSERT_EQ((a & b).cpus(), as_cpus(inter));
        ASSERT_EQ((a - b).cpus(), as_cpus(diff));
        ASSERT_EQ(a.intersects(b), !inter.empty());
        ASSERT_EQ(a.is_subset_of(b), diff.empty());
        ASSERT_EQ((a & b).is_subset_of(a), true);
        ASSERT_EQ(a.count(), ma.size());
        ASSERT_EQ(a.first(), ma.empty() ? -1 : static_cast<int>(*ma.begin()));
        ASSERT_EQ(a.end(), ma.empty() ? 0u : *ma.rbegin() + 1);
        for (unsigned c : {0u, 1u, 63u, 64u, 4095u, CpuSet::kMaxCpus - 1}) {
            ASSERT_EQ(a.contains(c), ma.count(c) == 1) << c;
        }
        // Equality is by content, whichever way the set was built.
        ASSERT_EQ((a | b) - b, a - b);
        ASSERT_EQ((a | b) == (b | a), true);
    }
}

}  // namespace
}  // namespace qc::core
