#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "frame_bytes.hpp"
#include "quietcore/dataplane/ipv4.hpp"

namespace qc::dataplane {
namespace {

// ---- Test helpers, independent of the library ------------------------------

struct FrameSpec {
    std::uint16_t ethertype = 0x0800;
    std::uint8_t version = 4;
    std::uint8_t ihl = 5;
    std::uint8_t ttl = 64;
    std::uint8_t protocol = 17;                 // UDP
    std::uint32_t src = 0xc0a80001;             // 192.168.0.1
    std::uint32_t dst = 0x0a000102;             // 10.0.1.2
    std::size_t udp_payload = 4;                // bytes after the 8-byte UDP header
    std::optional<std::uint16_t> total_length;  // default: IP header + UDP
    std::size_t eth_padding = 0;                // bytes after the IP packet
};

constexpr std::size_t kIp = 14;  // IPv4 header offset

// Ethernet II + IPv4 (+ NOP options when IHL > 5) + UDP + payload, with a
// correct checksum over max(IHL, 5) * 4 header bytes.
std::vector<std::uint8_t> build_frame(const FrameSpec& s) {
    const std::size_t hdr = std::size_t{std::max<std::uint8_t>(s.ihl, 5)} * 4;
    const std::size_t udp = 8 + s.udp_payload;
    std::vector<std::uint8_t> f(kIp + hdr + udp + s.eth_padding, 0);
    const std::array<std::uint8_t, 12> macs{0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02};
    std::copy(macs.begin(), macs.end(), f.begin());
    put16(&f[12], s.ethertype);
    std::uint8_t* ip = &f[kIp];
    ip[0] = static_cast<std::uint8_t>(s.version << 4 | (s.ihl & 0x0f));
    ip[1] = 0;
    put16(ip + 2, s.total_length.value_or(static_cast<std::uint16_t>(hdr + udp)));
    put16(ip + 4, 0x1234);  // identification
    put16(ip + 6, 0x4000);  // DF
    ip[8] = s.ttl;
    ip[9] = s.protocol;
    put16(ip + 12, static_cast<std::uint16_t>(s.src >> 16));
    put16(ip + 14, static_cast<std::uint16_t>(s.src));
    put16(ip + 16, static_cast<std::uint16_t>(s.dst >> 16));
    put16(ip + 18, static_cast<std::uint16_t>(s.dst));
    for (std::size_t i = 20; i < hdr; ++i) {
        ip[i] = 0x01;  // NOP option
    }
    put16(ip + 10, reference_checksum(ip, hdr));
    std::uint8_t* u = ip + hdr;
    put16(u + 0, 1234);
    put16(u + 2, 5678);
    put16(u + 4, static_cast<std::uint16_t>(udp));
    for (std::size_t i = 0; i < s.udp_payload; ++i) {
        u[8 + i] = static_cast<std::uint8_t>(0xa0 + i);
    }
    return f;
}

DropReason reason_of(const std::vector<std::uint8_t>& f, std::size_t len) {
    const Ipv4Verdict v = check_ipv4(f.data(), len);
    EXPECT_FALSE(v.ok);
    return v.reason;
}
DropReason reason_of(const std::vector<std::uint8_t>& f) {
    return reason_of(f, f.size());
}

// The IPv4 header of Wikipedia's checksum example (192.168.0.1 -> .199).
constexpr std::array<std::uint8_t, 20> kKnownHeader{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
                                                    0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
                                                    0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

// ---- ipv4_header_checksum ----------------------------------------------------

TEST(Ipv4Checksum, KnownHeaderVerifiesToZero) {
    EXPECT_EQ(ipv4_header_checksum(kKnownHeader.data(), kKnownHeader.size()), 0x0000);
}

TEST(Ipv4Checksum, KnownHeaderComputeWithZeroedField) {
    auto h = kKnownHeader;
    h[10] = 0;
    h[11] = 0;
    EXPECT_EQ(ipv4_header_checksum(h.data(), h.size()), 0xb861);
    EXPECT_EQ(reference_checksum(kKnownHeader.data(), kKnownHeader.size()), 0xb861);
}

TEST(Ipv4Checksum, OddLengthPadsWithZero) {
    const std::uint8_t one[1] = {0x12};
    EXPECT_EQ(ipv4_header_checksum(one, 1), 0xedff);  // ~0x1200
    const std::uint8_t three[3] = {0x12, 0x34, 0x56};
    EXPECT_EQ(ipv4_header_checksum(three, 3), static_cast<std::uint16_t>(~(0x1234 + 0x5600)));
    EXPECT_EQ(ipv4_header_checksum(nullptr, 0), 0xffff);  // empty sum is 0
}

TEST(Ipv4Checksum, EndAroundCarry) {
    // 0xffff + 0x0001 = 0x10000 -> folds to 0x0001 -> checksum 0xfffe.
    const std::uint8_t words[4] = {0xff, 0xff, 0x00, 0x01};
    EXPECT_EQ(ipv4_header_checksum(words, 4), 0xfffe);
    // 0xffff + 0xffff + 0x0001 = 0x1ffff: one fold gives 0x10000, which needs a
    // second fold to 0x0001 -> checksum 0xfffe.
    const std::uint8_t twice[6] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x01};
    EXPECT_EQ(ipv4_header_checksum(twice, 6), 0xfffe);
    // 30 words of 0xffff (a 60-byte header's worth) fold to 0xffff -> 0.
    std::array<std::uint8_t, 60> ff{};
    ff.fill(0xff);
    EXPECT_EQ(ipv4_header_checksum(ff.data(), ff.size()), 0x0000);
}

TEST(Ipv4Checksum, MatchesReferenceOnRandomHeaders) {
    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> ihl(5, 15);
    for (int n = 0; n < 10000; ++n) {
        std::vector<std::uint8_t> h(std::size_t(ihl(rng)) * 4);
        for (auto& b : h) {
            b = static_cast<std::uint8_t>(byte(rng));
        }
        h[10] = 0;
        h[11] = 0;
        const std::uint16_t c = ipv4_header_checksum(h.data(), h.size());
        ASSERT_EQ(c, reference_checksum(h.data(), h.size())) << n;
        put16(&h[10], c);
        ASSERT_EQ(ipv4_header_checksum(h.data(), h.size()), 0) << n;
    }
}

// ---- check_ipv4: accepted frames ----------------------------------------------

TEST(CheckIpv4, KnownFrameAccepted) {
    std::vector<std::uint8_t> f(14 + 0x73, 0);
    f[12] = 0x08;
    f[13] = 0x00;
    std::copy(kKnownHeader.begin(), kKnownHeader.end(), f.begin() + 14);
    const Ipv4Verdict v = check_ipv4(f.data(), f.size());
    ASSERT_TRUE(v.ok);
    EXPECT_EQ(v.dst, 0xc0a800c7u);
    EXPECT_EQ(v.header_offset, 14);
    EXPECT_EQ(v.header_len, 20);
    EXPECT_EQ(v.total_length, 0x73);
    // One byte short of total_length.
    EXPECT_EQ(reason_of(f, f.size() - 1), DropReason::truncated);
}

TEST(CheckIpv4, BuiltFrameAccepted) {
    const auto f = build_frame({});
    ASSERT_EQ(f.size(), 14u + 20 + 8 + 4);
    const Ipv4Verdict v = check_ipv4(f.data(), f.size());
    ASSERT_TRUE(v.ok) << to_string(v.reason);
    EXPECT_EQ(v.dst, 0x0a000102u);
    EXPECT_EQ(v.header_offset, 14);
    EXPECT_EQ(v.header_len, 20);
    EXPECT_EQ(v.total_length, 32);
}

TEST(CheckIpv4, OptionsUpToIhl15Accepted) {
    for (std::uint8_t ihl = 5; ihl <= 15; ++ihl) {
        FrameSpec s;
        s.ihl = ihl;
        const auto f = build_frame(s);
        const Ipv4Verdict v = check_ipv4(f.data(), f.size());
        ASSERT_TRUE(v.ok) << int(ihl) << " " << to_string(v.reason);
        EXPECT_EQ(v.header_len, ihl * 4);
    }
}

TEST(CheckIpv4, EthernetPaddingAllowed) {
    FrameSpec s;
    s.udp_payload = 0;
    s.eth_padding = 60 - (14 + 20 + 8);  // minimum Ethernet frame
    const auto f = build_frame(s);
    ASSERT_EQ(f.size(), 60u);
    const Ipv4Verdict v = check_ipv4(f.data(), f.size());
    ASSERT_TRUE(v.ok);
    EXPECT_EQ(v.total_length, 28);
}

TEST(CheckIpv4, AcceptsStoredChecksumFfffAsNegativeZero) {
    // Choose the identification so the data sum is 0xffff: canonical checksum 0.
    auto f = build_frame({});
    std::uint8_t* ip = &f[kIp];
    put16(ip + 4, 0);
    put16(ip + 10, 0);
    const std::uint16_t c = reference_checksum(ip, 20);  // ~S
    put16(ip + 4, static_cast<std::uint16_t>(c));        // S + ~S = 0xffff
    ASSERT_EQ(reference_checksum(ip, 20), 0x0000);
    put16(ip + 10, 0x0000);
    EXPECT_TRUE(check_ipv4(f.data(), f.size()).ok);
    put16(ip + 10, 0xffff);
    EXPECT_TRUE(check_ipv4(f.data(), f.size()).ok);
}

// ---- check_ipv4: one test per drop reason and its edge cases ------------------

TEST(CheckIpv4, TruncatedBelowEthernetHeader) {
    EXPECT_EQ(reason_of({}, 0), DropReason::truncated);
    EXPECT_FALSE(check_ipv4(nullptr, 0).ok);
    EXPECT_EQ(check_ipv4(nullptr, 0).reason, DropReason::truncated);
    const auto f = build_frame({});
    EXPECT_EQ(reason_of(f, 13), DropReason::truncated);
    EXPECT_EQ(reason_of(f, 1), DropReason::truncated);
}

TEST(CheckIpv4, TruncatedBelowMinimalIpv4Header) {
    const auto f = build_frame({});
    EXPECT_EQ(reason_of(f, 14), DropReason::truncated);
    EXPECT_EQ(reason_of(f, 33), DropReason::truncated);
    EXPECT_TRUE(check_ipv4(f.data(), f.size()).ok);
}

TEST(CheckIpv4, TruncatedWhenTotalLengthExceedsFrame) {
    FrameSpec s;
    s.total_length = 33;  // one byte more than the 32 present
    EXPECT_EQ(reason_of(build_frame(s)), DropReason::truncated);
    s.total_length = 0xffff;
    EXPECT_EQ(reason_of(build_frame(s)), DropReason::truncated);
    // Cut one byte off a valid frame.
    const auto f = build_frame({});
    EXPECT_EQ(reason_of(f, f.size() - 1), DropReason::truncated);
    EXPECT_EQ(reason_of(f, 34), DropReason::truncated);
}

TEST(CheckIpv4, NotIpv4Ethertypes) {
    for (const std::uint16_t et : {0x86dd, 0x8100, 0x0806, 0x0000, 0x0008}) {
        FrameSpec s;
        s.ethertype = et;
        EXPECT_EQ(reason_of(build_frame(s)), DropReason::not_ipv4) << std::hex << et;
    }
}

TEST(CheckIpv4, NotIpv4Version) {
    for (const std::uint8_t ver : {6, 0, 5, 15}) {
        FrameSpec s;
        s.version = ver;
        EXPECT_EQ(reason_of(build_frame(s)), DropReason::not_ipv4) << int(ver);
    }
}

TEST(CheckIpv4, OrderEthertypeBeforeLengthChecks) {
    // A 14..33-byte frame with a foreign ethertype is not_ipv4, not truncated.
    FrameSpec s;
    s.ethertype = 0x86dd;
    const auto f = build_frame(s);
    EXPECT_EQ(reason_of(f, 14), DropReason::not_ipv4);
    EXPECT_EQ(reason_of(f, 33), DropReason::not_ipv4);
    // Below 14 bytes the ethertype is not there: truncated.
    EXPECT_EQ(reason_of(f, 13), DropReason::truncated);
}

TEST(CheckIpv4, OrderMinimalLengthBeforeVersion) {
    // Version 6 under ethertype 0x0800 in a 33-byte frame: truncated (step 3
    // before step 4); in the full frame: not_ipv4.
    FrameSpec s;
    s.version = 6;
    const auto f = build_frame(s);
    EXPECT_EQ(reason_of(f, 33), DropReason::truncated);
    EXPECT_EQ(reason_of(f), DropReason::not_ipv4);
}

TEST(CheckIpv4, BadHeaderLengthIhlBelowFive) {
    for (const std::uint8_t ihl : {0, 1, 4}) {
        FrameSpec s;
        s.ihl = ihl;
        EXPECT_EQ(reason_of(build_frame(s)), DropReason::bad_header_length) << int(ihl);
    }
}

TEST(CheckIpv4, BadHeaderLengthIhlBeyondTotalLength) {
    FrameSpec s;
    s.ihl = 15;           // 60-byte header present in the frame
    s.total_length = 40;  // but total_length says 40
    const auto f = build_frame(s);
    ASSERT_GE(f.size(), 14u + 60);
    EXPECT_EQ(reason_of(f), DropReason::bad_header_length);
    s.total_length = 59;  // one short of the header
    EXPECT_EQ(reason_of(build_frame(s)), DropReason::bad_header_length);
    s.total_length = 60;  // exactly the header, no payload: fine
    EXPECT_TRUE(check_ipv4(build_frame(s).data(), build_frame(s).size()).ok);
}

TEST(CheckIpv4, BadHeaderLengthTotalLengthBelowTwenty) {
    for (const std::uint16_t tl : {0, 1, 19}) {
        FrameSpec s;
        s.total_length = tl;
        EXPECT_EQ(reason_of(build_frame(s)), DropReason::bad_header_length) << tl;
    }
    FrameSpec s;
    s.ihl = 4;
    s.total_length = 16;  // IHL 4 and a total_length that "fits" it
    EXPECT_EQ(reason_of(build_frame(s)), DropReason::bad_header_length);
}

TEST(CheckIpv4, OrderTruncatedBeforeBadHeaderLength) {
    // IHL 15 with total_length 60 but only 14 + 40 bytes of frame: truncated.
    FrameSpec s;
    s.ihl = 15;
    s.total_length = 60;
    const auto f = build_frame(s);
    EXPECT_EQ(reason_of(f, 14 + 40), DropReason::truncated);
    // IHL 4 with total_length larger than the frame: truncated as well.
    FrameSpec t;
    t.ihl = 4;
    t.total_length = 200;
    EXPECT_EQ(reason_of(build_frame(t)), DropReason::truncated);
}

TEST(CheckIpv4, BadChecksumEveryBitOfTheChecksumField) {
    const auto good = build_frame({});
    ASSERT_TRUE(check_ipv4(good.data(), good.size()).ok);
    for (int bit = 0; bit < 16; ++bit) {
        auto f = good;
        f[kIp + 10 + bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        EXPECT_EQ(reason_of(f), DropReason::bad_checksum) << bit;
    }
}

TEST(CheckIpv4, BadChecksumOneBitAnywhereInTheHeader) {
    FrameSpec s;
    s.ihl = 6;  // one option word, covered too
    const auto good = build_frame(s);
    for (std::size_t byte = 0; byte < 24; ++byte) {
        if (byte == 0 || byte == 2 || byte == 3) {
            continue;  // version/IHL and total_length: other checks fire first
        }
        for (int bit = 0; bit < 8; ++bit) {
            auto f = good;
            f[kIp + byte] ^= static_cast<std::uint8_t>(1u << bit);
            EXPECT_EQ(reason_of(f), DropReason::bad_checksum) << byte << ":" << bit;
        }
    }
}

TEST(CheckIpv4, PayloadNotCoveredByHeaderChecksum) {
    auto f = build_frame({});
    f.back() ^= 0xff;  // UDP payload
    EXPECT_TRUE(check_ipv4(f.data(), f.size()).ok);
}

TEST(CheckIpv4, TtlExpired) {
    for (const std::uint8_t ttl : {0, 1}) {
        FrameSpec s;
        s.ttl = ttl;
        EXPECT_EQ(reason_of(build_frame(s)), DropReason::ttl_expired) << int(ttl);
    }
    FrameSpec s;
    s.ttl = 2;
    const auto f = build_frame(s);
    EXPECT_TRUE(check_ipv4(f.data(), f.size()).ok);
    s.ttl = 255;
    const auto g = build_frame(s);
    EXPECT_TRUE(check_ipv4(g.data(), g.size()).ok);
}

TEST(CheckIpv4, OrderChecksumBeforeTtl) {
    FrameSpec s;
    s.ttl = 1;
    auto f = build_frame(s);
    f[kIp + 11] ^= 0x01;
    EXPECT_EQ(reason_of(f), DropReason::bad_checksum);
}

TEST(CheckIpv4, DoesNotModifyTheFrame) {
    const auto f = build_frame({});
    const auto copy = f;
    (void)check_ipv4(f.data(), f.size());
    EXPECT_EQ(f, copy);
}

// ---- decrement_ttl -------------------------------------------------------------

TEST(DecrementTtl, KnownHeaderExactBytes) {
    auto h = kKnownHeader;
    decrement_ttl(h.data());
    const std::array<std::uint8_t, 20> expected{0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
                                                0x00, 0x3f, 0x11, 0xb9, 0x61, 0xc0, 0xa8,
                                                0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    EXPECT_EQ(h, expected);
}

TEST(DecrementTtl, TtlZeroLeftUntouched) {
    auto h = kKnownHeader;
    h[8] = 0;
    put16(&h[10], reference_checksum(h.data(), 20));
    const auto before = h;
    decrement_ttl(h.data());
    EXPECT_EQ(h, before);
}

TEST(DecrementTtl, OneToZero) {
    auto h = kKnownHeader;
    h[8] = 1;
    put16(&h[10], reference_checksum(h.data(), 20));
    decrement_ttl(h.data());
    EXPECT_EQ(h[8], 0);
    EXPECT_EQ(get16(&h[10]), reference_checksum(h.data(), 20));
}

// Random IPv4 header of 20..60 bytes with TTL in [1, 255] and a correct
// (reference) checksum.
std::vector<std::uint8_t> random_header(std::mt19937& rng) {
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> ihl(5, 15);
    std::uniform_int_distribution<int> ttl(1, 255);
    const int n = ihl(rng);
    std::vector<std::uint8_t> h(std::size_t(n) * 4);
    for (auto& b : h) {
        b = static_cast<std::uint8_t>(byte(rng));
    }
    h[0] = static_cast<std::uint8_t>(0x40 | n);
    h[8] = static_cast<std::uint8_t>(ttl(rng));
    put16(&h[10], reference_checksum(h.data(), h.size()));
    return h;
}

// Decrements and checks against a full recompute; only TTL and checksum change.
void expect_decrement_matches_recompute(std::vector<std::uint8_t> h, int n) {
    const auto before = h;
    decrement_ttl(h.data());
    ASSERT_EQ(h[8], before[8] - 1) << n;
    ASSERT_EQ(get16(&h[10]), reference_checksum(h.data(), h.size())) << n;
    ASSERT_EQ(ipv4_header_checksum(h.data(), h.size()), 0) << n;
    for (std::size_t i = 0; i < h.size(); ++i) {
        if (i != 8 && i != 10 && i != 11) {
            ASSERT_EQ(h[i], before[i]) << n << " byte " << i;
        }
    }
}

TEST(DecrementTtl, MatchesFullRecomputeOn100000RandomHeaders) {
    std::mt19937 rng(20240601);
    for (int n = 0; n < 100000; ++n) {
        expect_decrement_matches_recompute(random_header(rng), n);
        if (HasFatalFailure()) {
            return;
        }
    }
}

TEST(DecrementTtl, CornerChecksumZeroBeforeAndStoredFfff) {
    // Identification chosen so the canonical checksum before is 0x0000; the
    // same header with 0xffff stored ("-0") must decrement to the same result.
    std::mt19937 rng(7);
    for (int n = 0; n < 2000; ++n) {
        auto h = random_header(rng);
        put16(&h[4], 0);
        put16(&h[4], reference_checksum(h.data(), h.size()));  // data sum -> 0xffff
        put16(&h[10], reference_checksum(h.data(), h.size()));
        ASSERT_EQ(get16(&h[10]), 0x0000) << n;
        expect_decrement_matches_recompute(h, n);
        put16(&h[10], 0xffff);
        ASSERT_EQ(ipv4_header_checksum(h.data(), h.size()), 0) << n;
        expect_decrement_matches_recompute(h, n);
        if (HasFatalFailure()) {
            return;
        }
    }
}

TEST(DecrementTtl, CornerChecksumZeroAfter) {
    // Identification chosen so the canonical checksum after the decrement is
    // 0x0000 (its data sum is 0xffff).
    std::mt19937 rng(8);
    for (int n = 0; n < 2000; ++n) {
        auto h = random_header(rng);
        h[8] = static_cast<std::uint8_t>(h[8] - 1);  // the state after
        put16(&h[4], 0);
        put16(&h[4], reference_checksum(h.data(), h.size()));
        h[8] = static_cast<std::uint8_t>(h[8] + 1);  // back to the state before
        put16(&h[10], reference_checksum(h.data(), h.size()));
        auto after = h;
        decrement_ttl(after.data());
        ASSERT_EQ(get16(&after[10]), 0x0000) << n;
        expect_decrement_matches_recompute(h, n);
        if (HasFatalFailure()) {
            return;
        }
    }
}

TEST(DecrementTtl, CheckedFrameStillVerifiesAfterDecrement) {
    for (int ttl = 2; ttl <= 255; ++ttl) {
        FrameSpec s;
        s.ttl = static_cast<std::uint8_t>(ttl);
        auto f = build_frame(s);
        const Ipv4Verdict v = check_ipv4(f.data(), f.size());
        ASSERT_TRUE(v.ok);
        decrement_ttl(f.data() + v.header_offset);
        EXPECT_EQ(f[kIp + 8], ttl - 1);
        EXPECT_EQ(ipv4_header_checksum(f.data() + kIp, 20), 0) << ttl;
    }
}

}  // namespace
}  // namespace qc::dataplane
