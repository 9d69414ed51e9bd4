#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <ostream>
#include <vector>

#include "allocation_counter.hpp"
#include "frame_bytes.hpp"
#include "quietcore/dataplane/stages.hpp"

namespace qc::dataplane {

void PrintTo(const StageResult& r, std::ostream* os) {
    if (r.forwarded()) {
        *os << "forward(" << r.port << ")";
    } else {
        *os << "drop(" << to_string(r.reason) << ")";
    }
}

namespace {

// ---- Test helpers, independent of the library ------------------------------
// (A frame builder reduced to what these tests vary; the byte helpers are
// shared with test_ipv4.cpp in frame_bytes.hpp.)

constexpr std::size_t kIp = 14;

struct FrameSpec {
    std::uint16_t ethertype = 0x0800;
    std::uint8_t version = 4;
    std::uint8_t ihl = 5;
    std::uint8_t ttl = 64;
    std::uint32_t dst = 0x0a000102;  // 10.0.1.2
    std::optional<std::uint16_t> total_length;
};

// Ethernet II + 20..60-byte IPv4 header + 8-byte UDP header + 4 payload bytes.
std::vector<std::uint8_t> build_frame(const FrameSpec& s) {
    const std::size_t hdr = std::size_t{std::max<std::uint8_t>(s.ihl, 5)} * 4;
    std::vector<std::uint8_t> f(kIp + hdr + 12, 0);
    const std::array<std::uint8_t, 12> macs{0x02, 0x11, 0x22, 0x33, 0x44, 0x55,
                                            0x02, 0x66, 0x77, 0x88, 0x99, 0xaa};
    std::copy(macs.begin(), macs.end(), f.begin());
    put16(&f[12], s.ethertype);
    std::uint8_t* ip = &f[kIp];
    ip[0] = static_cast<std::uint8_t>(s.version << 4 | (s.ihl & 0x0f));
    put16(ip + 2, s.total_length.value_or(static_cast<std::uint16_t>(hdr + 12)));
    put16(ip + 4, 0x4321);
    ip[8] = s.ttl;
    ip[9] = 17;
    put16(ip + 12, 0xc0a8);  // 192.168.0.1
    put16(ip + 14, 0x0001);
    put16(ip + 16, static_cast<std::uint16_t>(s.dst >> 16));
    put16(ip + 18, static_cast<std::uint16_t>(s.dst));
    for (std::size_t i = 20; i < hdr; ++i) {
        ip[i] = 0x01;
    }
    put16(ip + 10, reference_checksum(ip, hdr));
    std::uint8_t* u = ip + hdr;
    put16(u + 0, 1234);
    put16(u + 2, 5678);
    put16(u + 4, 12);
    for (std::size_t i = 0; i < 4; ++i) {
        u[8 + i] = static_cast<std::uint8_t>(0xa0 + i);
    }
    return f;
}

std::vector<std::uint8_t> with_dst(std::uint32_t dst) {
    FrameSpec s;
    s.dst = dst;
    return build_frame(s);
}

// A small longest-prefix-match table, the test's stand-in for DPDK's LPM.
struct Route {
    std::uint32_t prefix;
    unsigned length;
    std::uint16_t port;
};

class SmallTable {
  public:
    explicit SmallTable(std::vector<Route> routes) : routes_(std::move(routes)) {}

    std::optional<std::uint16_t> operator()(std::uint32_t dst) noexcept {
        ++lookups;
        last_dst = dst;
        std::optional<std::uint16_t> best;
        int best_len = -1;
        for (const Route& r : routes_) {
            const std::uint32_t mask = r.length == 0 ? 0 : ~std::uint32_t{0} << (32 - r.length);
            if ((dst & mask) == (r.prefix & mask) && int(r.length) > best_len) {
                best = r.port;
                best_len = int(r.length);
            }
        }
        return best;
    }

    int lookups = 0;
    std::uint32_t last_dst = 0;

  private:
    std::vector<Route> routes_;
};

SmallTable example_table() {
    return SmallTable({{0x0a000000, 8, 1},     // 10.0.0.0/8     -> 1
                       {0x0a000100, 24, 2},    // 10.0.1.0/24    -> 2
                       {0xc0a80000, 16, 3}});  // 192.168.0.0/16 -> 3
}

// ---- StageResult -----------------------------------------------------------

TEST(StageResult, FactoriesAndEquality) {
    EXPECT_TRUE(StageResult::forward_to(3).forwarded());
    EXPECT_EQ(StageResult::forward_to(3).port, 3);
    EXPECT_FALSE(StageResult::drop(DropReason::no_route).forwarded());
    EXPECT_EQ(StageResult::drop(DropReason::no_route).reason, DropReason::no_route);
    EXPECT_EQ(StageResult::forward_to(3), StageResult::forward_to(3));
    EXPECT_NE(StageResult::forward_to(3), StageResult::forward_to(4));
    EXPECT_NE(StageResult::drop(DropReason::truncated), StageResult::drop(DropReason::no_route));
    EXPECT_NE(StageResult::forward_to(0), StageResult::drop(DropReason::not_ipv4));
}

// ---- macswap -----------------------------------------------------------------

TEST(Macswap, SwapsExactBytesAndLeavesTheRest) {
    auto f = build_frame({});
    const auto before = f;
    ASSERT_TRUE(macswap(f.data(), f.size()));
    const std::array<std::uint8_t, 14> expected{0x02, 0x66, 0x77, 0x88, 0x99, 0xaa, 0x02,
                                                0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x00};
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), f.begin()));
    EXPECT_TRUE(std::equal(before.begin() + 14, before.end(), f.begin() + 14));
}

TEST(Macswap, ExactlyFourteenBytes) {
    std::array<std::uint8_t, 14> f{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
    ASSERT_TRUE(macswap(f.data(), f.size()));
    const std::array<std::uint8_t, 14> expected{7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 13, 14};
    EXPECT_EQ(f, expected);
}

TEST(Macswap, TwiceRestores) {
    auto f = build_frame({});
    const auto before = f;
    ASSERT_TRUE(macswap(f.data(), f.size()));
    EXPECT_NE(f, before);
    ASSERT_TRUE(macswap(f.data(), f.size()));
    EXPECT_EQ(f, before);
}

TEST(Macswap, ShortFramesUntouched) {
    std::array<std::uint8_t, 13> f{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
    const auto before = f;
    EXPECT_FALSE(macswap(f.data(), 13));
    EXPECT_EQ(f, before);
    EXPECT_FALSE(macswap(f.data(), 0));
    EXPECT_FALSE(macswap(nullptr, 0));
    EXPECT_EQ(f, before);
}

TEST(Macswap, StageVerdicts) {
    auto f = build_frame({});
    EXPECT_EQ(macswap_stage(f.data(), f.size(), 7), StageResult::forward_to(7));
    EXPECT_EQ(f[0], 0x02);
    EXPECT_EQ(f[1], 0x66);
    EXPECT_EQ(macswap_stage(f.data(), 13, 7), StageResult::drop(DropReason::truncated));
    EXPECT_EQ(f[1], 0x66);  // untouched
}

// ---- l3fwd -------------------------------------------------------------------

TEST(L3fwd, RouteFoundForwardsAndDecrementsTtl) {
    auto table = example_table();
    auto f = with_dst(0x0a000102);  // 10.0.1.2 -> /24 -> port 2
    const auto before = f;
    EXPECT_EQ(l3fwd(f.data(), f.size(), table), StageResult::forward_to(2));
    EXPECT_EQ(table.lookups, 1);
    EXPECT_EQ(table.last_dst, 0x0a000102u);
    EXPECT_EQ(f[kIp + 8], 63);
    EXPECT_EQ(get16(&f[kIp + 10]), reference_checksum(&f[kIp], 20));
    // Exact checksum: one TTL step lowers the sum by 0x100, raising the checksum by 0x100.
    EXPECT_EQ(get16(&f[kIp + 10]), static_cast<std::uint16_t>(get16(&before[kIp + 10]) + 0x100));
    for (std::size_t i = 0; i < f.size(); ++i) {
        if (i != kIp + 8 && i != kIp + 10 && i != kIp + 11) {
            EXPECT_EQ(f[i], before[i]) << i;
        }
    }
}

TEST(L3fwd, LongestPrefixChoosesThePort) {
    auto table = example_table();
    auto a = with_dst(0x0a090909);  // 10.9.9.9 -> /8
    auto b = with_dst(0xc0a80505);  // 192.168.5.5 -> /16
    auto c = with_dst(0x0a0001ff);  // 10.0.1.255 -> /24
    EXPECT_EQ(l3fwd(a.data(), a.size(), table), StageResult::forward_to(1));
    EXPECT_EQ(l3fwd(b.data(), b.size(), table), StageResult::forward_to(3));
    EXPECT_EQ(l3fwd(c.data(), c.size(), table), StageResult::forward_to(2));
}

TEST(L3fwd, NoRouteDropsAndLeavesFrameUntouched) {
    auto table = example_table();
    auto f = with_dst(0xac100001);  // 172.16.0.1
    const auto before = f;
    EXPECT_EQ(l3fwd(f.data(), f.size(), table), StageResult::drop(DropReason::no_route));
    EXPECT_EQ(table.lookups, 1);
    EXPECT_EQ(table.last_dst, 0xac100001u);
    EXPECT_EQ(f, before);
}

TEST(L3fwd, CheckFailuresSkipTheLookupAndKeepTheReason) {
    auto table = example_table();
    FrameSpec v6;
    v6.ethertype = 0x86dd;
    FrameSpec ihl4;
    ihl4.ihl = 4;
    FrameSpec ttl1;
    ttl1.ttl = 1;
    auto not_ipv4 = build_frame(v6);
    auto bad_hl = build_frame(ihl4);
    auto expired = build_frame(ttl1);
    auto bad_sum = build_frame({});
    bad_sum[kIp + 19] ^= 0x80;
    auto whole = build_frame({});
    const auto expired_before = expired;

    EXPECT_EQ(l3fwd(not_ipv4.data(), not_ipv4.size(), table),
              StageResult::drop(DropReason::not_ipv4));
    EXPECT_EQ(l3fwd(whole.data(), 33, table), StageResult::drop(DropReason::truncated));
    EXPECT_EQ(l3fwd(bad_hl.data(), bad_hl.size(), table),
              StageResult::drop(DropReason::bad_header_length));
    EXPECT_EQ(l3fwd(bad_sum.data(), bad_sum.size(), table),
              StageResult::drop(DropReason::bad_checksum));
    EXPECT_EQ(l3fwd(expired.data(), expired.size(), table),
              StageResult::drop(DropReason::ttl_expired));
    EXPECT_EQ(l3fwd(nullptr, 0, table), StageResult::drop(DropReason::truncated));
    EXPECT_EQ(table.lookups, 0);
    EXPECT_EQ(expired, expired_before);
}

TEST(L3fwd, AcceptsLambdaLookupAndIsNoexceptWhenItIs) {
    auto f = with_dst(0x01020304);
    auto lookup = [](std::uint32_t dst) noexcept -> std::optional<std::uint16_t> {
        return dst == 0x01020304 ? std::optional<std::uint16_t>{9} : std::nullopt;
    };
    static_assert(noexcept(l3fwd(f.data(), f.size(), lookup)));
    EXPECT_EQ(l3fwd(f.data(), f.size(), lookup), StageResult::forward_to(9));
    EXPECT_EQ(f[kIp + 8], 63);
}

// ---- run_burst and accounting ----------------------------------------------------

void expect_identity(const BurstCounters& c) {
    std::uint64_t drops = 0;
    for (const auto d : c.drops) {
        drops += d;
    }
    EXPECT_EQ(drops, c.dropped());
    EXPECT_EQ(c.received, c.forwarded + c.dropped());
}

// A mixed burst with a known verdict per packet.
struct MixedBurst {
    std::vector<std::vector<std::uint8_t>> storage;
    std::vector<StageResult> expected;

    void add(std::vector<std::uint8_t> f, StageResult r, std::size_t len = SIZE_MAX) {
        if (len != SIZE_MAX) {
            f.resize(len);
        }
        storage.push_back(std::move(f));
        expected.push_back(r);
    }

    std::vector<FrameRef> refs() {
        std::vector<FrameRef> out;
        for (auto& f : storage) {
            out.push_back(FrameRef{f.empty() ? nullptr : f.data(), f.size()});
        }
        return out;
    }
};

MixedBurst mixed_burst() {
    using R = StageResult;
    using D = DropReason;
    MixedBurst b;
    FrameSpec s;
    // 6 forwarded: 3 to port 2, 2 to port 1, 1 to port 3.
    for (int i = 0; i < 3; ++i) {
        b.add(with_dst(0x0a000100 + std::uint32_t(i)), R::forward_to(2));
    }
    b.add(with_dst(0x0a7f0001), R::forward_to(1));
    b.add(with_dst(0x0affffff), R::forward_to(1));
    b.add(with_dst(0xc0a80101), R::forward_to(3));
    // 3 not_ipv4: IPv6 ethertype, VLAN tag, version 6 under 0x0800.
    s = {};
    s.ethertype = 0x86dd;
    b.add(build_frame(s), R::drop(D::not_ipv4));
    s.ethertype = 0x8100;
    b.add(build_frame(s), R::drop(D::not_ipv4));
    s = {};
    s.version = 6;
    b.add(build_frame(s), R::drop(D::not_ipv4));
    // 4 truncated: 0, 13 and 33 bytes, total_length beyond the frame.
    b.add(build_frame({}), R::drop(D::truncated), 0);
    b.add(build_frame({}), R::drop(D::truncated), 13);
    b.add(build_frame({}), R::drop(D::truncated), 33);
    s = {};
    s.total_length = 500;
    b.add(build_frame(s), R::drop(D::truncated));
    // 2 bad_header_length: IHL 4, IHL 15 with total_length 40.
    s = {};
    s.ihl = 4;
    b.add(build_frame(s), R::drop(D::bad_header_length));
    s = {};
    s.ihl = 15;
    s.total_length = 40;
    b.add(build_frame(s), R::drop(D::bad_header_length));
    // 1 bad_checksum.
    auto bad = build_frame({});
    bad[kIp + 10] ^= 0x01;
    b.add(bad, R::drop(D::bad_checksum));
    // 5 ttl_expired: TTL 0 and 1, for routable and unroutable destinations.
    for (const std::uint8_t ttl : {0, 1, 1, 0, 1}) {
        s = {};
        s.ttl = ttl;
        s.dst = ttl == 0 ? 0x0a000102 : 0x08080808;
        b.add(build_frame(s), R::drop(D::ttl_expired));
    }
    // 2 no_route.
    b.add(with_dst(0x08080808), R::drop(D::no_route));
    b.add(with_dst(0xac100001), R::drop(D::no_route));
    // Interleave so kinds are not grouped: rotate by a stride coprime to the size.
    MixedBurst mixed;
    const std::size_t n = b.storage.size();
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t j = (i * 7) % n;
        mixed.storage.push_back(b.storage[j]);
        mixed.expected.push_back(b.expected[j]);
    }
    return mixed;
}

TEST(RunBurst, MixedBurstExactVerdictsAndCounts) {
    auto table = example_table();
    MixedBurst b = mixed_burst();
    ASSERT_EQ(b.storage.size(), 23u);  // 7 is coprime to 23: a permutation
    const auto refs = b.refs();
    std::array<StageResult, 32> verdicts{};
    BurstCounters c;
    const std::size_t n = run_burst(
        refs, verdicts, c,
        [&](std::uint8_t* frame, std::size_t len) noexcept { return l3fwd(frame, len, table); });
    ASSERT_EQ(n, 23u);
    for (std::size_t i = 0; i < n; ++i) {
        EXPECT_EQ(verdicts[i], b.expected[i]) << "packet " << i;
    }
    EXPECT_EQ(c.received, 23u);
    EXPECT_EQ(c.forwarded, 6u);
    EXPECT_EQ(c.drops[index(DropReason::not_ipv4)], 3u);
    EXPECT_EQ(c.drops[index(DropReason::truncated)], 4u);
    EXPECT_EQ(c.drops[index(DropReason::bad_header_length)], 2u);
    EXPECT_EQ(c.drops[index(DropReason::bad_checksum)], 1u);
    EXPECT_EQ(c.drops[index(DropReason::ttl_expired)], 5u);
    EXPECT_EQ(c.drops[index(DropReason::no_route)], 2u);
    EXPECT_EQ(c.drops[index(DropReason::tx_full)], 0u);
    EXPECT_EQ(c.dropped(), 17u);
    expect_identity(c);
    EXPECT_EQ(table.lookups, 8);  // only packets that passed check_ipv4

    // The NIC takes only 2 of the 6 forwarded: 4 become tx_full.
    EXPECT_EQ(c.tx_refused(4), 4u);
    EXPECT_EQ(c.forwarded, 2u);
    EXPECT_EQ(c.drops[index(DropReason::tx_full)], 4u);
    EXPECT_EQ(c.received, 23u);
    expect_identity(c);
}

TEST(RunBurst, AllocatesNothing) {
    // The worker loop runs this on an isolated CPU: no allocation allowed.
    auto table = example_table();
    MixedBurst b = mixed_burst();
    const auto refs = b.refs();
    std::array<StageResult, 32> verdicts{};
    BurstCounters c;
    std::uint64_t allocations = 0;
    {
        qc::test::AllocationCounter counter;
        run_burst(refs, verdicts, c, [&](std::uint8_t* frame, std::size_t len) noexcept {
            return l3fwd(frame, len, table);
        });
        run_burst(refs, verdicts, c, [](std::uint8_t* frame, std::size_t len) noexcept {
            return macswap_stage(frame, len, 1);
        });
        allocations = counter.allocations();
    }
    EXPECT_EQ(allocations, 0u);
    EXPECT_EQ(c.received, 46u);
    expect_identity(c);
}

TEST(RunBurst, CountersAccumulateOverBursts) {
    auto table = example_table();
    BurstCounters c;
    std::array<StageResult, 32> verdicts{};
    for (int round = 0; round < 3; ++round) {
        MixedBurst b = mixed_burst();  // fresh frames: TTLs not yet decremented
        const auto refs = b.refs();
        run_burst(refs, verdicts, c,
                  [&](std::uint8_t* f, std::size_t l) { return l3fwd(f, l, table); });
        expect_identity(c);
    }
    EXPECT_EQ(c.received, 69u);
    EXPECT_EQ(c.forwarded, 18u);
    EXPECT_EQ(c.drops[index(DropReason::ttl_expired)], 15u);
    EXPECT_EQ(c.drops[index(DropReason::no_route)], 6u);
}

TEST(RunBurst, TxRefusedNeverExceedsForwarded) {
    BurstCounters c;
    c.count(StageResult::forward_to(1));
    c.count(StageResult::drop(DropReason::no_route));
    EXPECT_EQ(c.tx_refused(5), 1u);
    EXPECT_EQ(c.forwarded, 0u);
    EXPECT_EQ(c.drops[index(DropReason::tx_full)], 1u);
    EXPECT_EQ(c.received, 2u);
    expect_identity(c);
    EXPECT_EQ(c.tx_refused(1), 0u);
    expect_identity(c);
}

TEST(RunBurst, VerdictSpanShorterThanBurst) {
    MixedBurst b = mixed_burst();
    const auto refs = b.refs();
    std::array<StageResult, 5> verdicts{};
    BurstCounters c;
    int calls = 0;
    const std::size_t n = run_burst(refs, verdicts, c, [&](std::uint8_t* f, std::size_t l) {
        ++calls;
        return macswap_stage(f, l, 0);
    });
    EXPECT_EQ(n, 5u);
    EXPECT_EQ(calls, 5);
    EXPECT_EQ(c.received, 5u);
    expect_identity(c);
}

TEST(RunBurst, EmptyBurst) {
    BurstCounters c;
    std::array<StageResult, 1> verdicts{StageResult::forward_to(42)};
    const std::size_t n =
        run_burst(std::span<const FrameRef>{}, verdicts, c,
                  [](std::uint8_t* f, std::size_t l) { return macswap_stage(f, l, 0); });
    EXPECT_EQ(n, 0u);
    EXPECT_EQ(c.received, 0u);
    EXPECT_EQ(verdicts[0], StageResult::forward_to(42));  // untouched
    expect_identity(c);
}

TEST(RunBurst, MacswapStageBurst) {
    std::vector<std::vector<std::uint8_t>> frames{build_frame({}), build_frame({}),
                                                  std::vector<std::uint8_t>(10, 0xee)};
    std::vector<FrameRef> refs;
    for (auto& f : frames) {
        refs.push_back({f.data(), f.size()});
    }
    std::array<StageResult, 3> verdicts{};
    BurstCounters c;
    run_burst(refs, verdicts, c,
              [](std::uint8_t* f, std::size_t l) noexcept { return macswap_stage(f, l, 5); });
    EXPECT_EQ(verdicts[0], StageResult::forward_to(5));
    EXPECT_EQ(verdicts[1], StageResult::forward_to(5));
    EXPECT_EQ(verdicts[2], StageResult::drop(DropReason::truncated));
    EXPECT_EQ(frames[0][1], 0x66);
    EXPECT_EQ(frames[2], std::vector<std::uint8_t>(10, 0xee));
    EXPECT_EQ(c.forwarded, 2u);
    EXPECT_EQ(c.drops[index(DropReason::truncated)], 1u);
    expect_identity(c);
}

}  // namespace
}  // namespace qc::dataplane
