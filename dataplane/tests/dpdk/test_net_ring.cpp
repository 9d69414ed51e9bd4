// net_ring ports (rte_eth_from_rings): crafted frames in through an rx ring,
// what leaves through the tx rings compared byte for byte, drop counters by
// reason (tx_full from a full tx ring too); io, macswap, l3fwd and a custom stage; tx_first traffic
// circulating on a ring loop.
#include <gtest/gtest.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>

#include "dpdk_test_support.hpp"
#include "quietcore/dataplane/mempools.hpp"

namespace qc::dataplane {
namespace {

using namespace qc::dataplane::testing;

EalSession& eal() {
    static EalSession session(test_eal_options("ring"));
    return session;
}

struct RingPort {
    rte_ring* rx = nullptr;
    rte_ring* tx = nullptr;
    std::uint16_t id = 0;
    std::string name;
    MacAddress mac{};
};

rte_ring* make_ring(const std::string& name) {
    rte_ring* r = rte_ring_create(name.c_str(), 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    EXPECT_NE(r, nullptr) << name;
    return r;
}

RingPort ring_port(const std::string& name, rte_ring* rx, rte_ring* tx) {
    RingPort p;
    p.rx = rx;
    p.tx = tx;
    const int id = rte_eth_from_rings(name.c_str(), &p.rx, 1, &p.tx, 1, 0);
    EXPECT_GE(id, 0) << name;
    p.id = static_cast<std::uint16_t>(id);
    char buf[RTE_ETH_NAME_MAX_LEN] = {};
    rte_eth_dev_get_name_by_port(p.id, buf);
    p.name = buf;
    rte_ether_addr a{};
    rte_eth_macaddr_get(p.id, &a);
    std::memcpy(p.mac.data(), a.addr_bytes, 6);
    return p;
}

// Two ports with rings of their own, so the test feeds rx and reads tx.
struct RingFixture : ::testing::Test {
    static void SetUpTestSuite() {
        eal();
        pool = rte_pktmbuf_pool_create("test_frames", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
        ASSERT_NE(pool, nullptr);
        a = ring_port("ring_a", make_ring("a_rx"), make_ring("a_tx"));
        b = ring_port("ring_b", make_ring("b_rx"), make_ring("b_tx"));
    }

    static void feed(const RingPort& port, const std::vector<Bytes>& frames) {
        for (const Bytes& f : frames) {
            rte_mbuf* m = rte_pktmbuf_alloc(pool);
            ASSERT_NE(m, nullptr);
            auto* p = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, f.size()));
            ASSERT_NE(p, nullptr);
            std::memcpy(p, f.data(), f.size());
            ASSERT_EQ(rte_ring_enqueue(port.rx, m), 0);
        }
    }

    static std::vector<Bytes> collect(const RingPort& port) {
        std::vector<Bytes> out;
        void* obj = nullptr;
        while (rte_ring_dequeue(port.tx, &obj) == 0) {
            auto* m = static_cast<rte_mbuf*>(obj);
            const auto* p = rte_pktmbuf_mtod(m, const std::uint8_t*);
            out.emplace_back(p, p + rte_pktmbuf_data_len(m));
            rte_pktmbuf_free(m);
        }
        return out;
    }

    static ForwarderConfig config(FwdMode mode) {
        ForwarderConfig c;
        c.port_names = {a.name, b.name};
        c.worker_cpus = {worker_cpu()};
        c.mode = mode;
        c.mbufs_per_pool = 1024;
        c.rx_descriptors = c.tx_descriptors = 256;
        c.isolation = IsolationChoice::none;
        return c;
    }

    // Runs the forwarder until it has received `expected` packets.
    static FwdStats run(Forwarder& fwd, std::uint64_t expected) {
        fwd.start();
        EXPECT_TRUE(wait_until([&] { return fwd.stats().totals().received >= expected; }))
            << "received " << fwd.stats().totals().received << " of " << expected;
        fwd.stop();
        const FwdStats s = fwd.stats();
        EXPECT_EQ(s.totals().received, expected);
        EXPECT_TRUE(identity_holds(s));
        EXPECT_TRUE(all_returned(s));
        return s;
    }

    static inline rte_mempool* pool = nullptr;
    static inline RingPort a, b;
};

TEST_F(RingFixture, L3fwdRewritesAndDropsByReason) {
    const MacAddress next_hop_b{0x02, 0xbb, 0, 0, 0, 0x0b};
    ForwarderConfig c = config(FwdMode::l3fwd);
    c.routes = {
        parse_route("10.0.1.0/24 port " + std::to_string(b.id) + " mac " + to_string(next_hop_b)),
        parse_route("10.0.2.0/24 port " + std::to_string(a.id))};
    Forwarder fwd(c);

    FrameSpec to_b;  // 10.0.1.1
    FrameSpec to_a;
    to_a.dst_ip = {10, 0, 2, 7};
    to_a.ttl = 2;
    FrameSpec ttl1 = to_b;
    ttl1.ttl = 1;
    FrameSpec v6 = to_b;
    v6.ethertype = 0x86dd;
    FrameSpec unrouted = to_b;
    unrouted.dst_ip = {192, 168, 1, 1};
    Bytes bad_sum = make_frame(to_b);
    bad_sum[14 + 10] ^= 0x01;
    Bytes truncated = make_frame(to_b);
    truncated.resize(30);
    Bytes big = make_frame([&] {
        FrameSpec s = to_b;
        s.payload = 1000;
        s.ttl = 200;
        return s;
    }());

    const std::vector<Bytes> in = {
        make_frame(to_b), make_frame(to_a), make_frame(ttl1),     bad_sum,
        truncated,        make_frame(v6),   make_frame(unrouted), big};
    feed(a, in);
    const FwdStats s = run(fwd, in.size());

    const std::vector<Bytes> out_b = collect(b);
    const std::vector<Bytes> out_a = collect(a);
    ASSERT_EQ(out_b.size(), 2U);
    EXPECT_EQ(out_b[0], routed(in[0], next_hop_b, b.mac));
    EXPECT_EQ(out_b[1], routed(big, next_hop_b, b.mac));
    ASSERT_EQ(out_a.size(), 1U);
    EXPECT_EQ(out_a[0], routed(in[1], std::nullopt, a.mac));  // no mac: destination kept

    const BurstCounters t = s.totals();
    EXPECT_EQ(t.forwarded, 3U);
    EXPECT_EQ(drop_count(t, DropReason::ttl_expired), 1U);
    EXPECT_EQ(drop_count(t, DropReason::bad_checksum), 1U);
    EXPECT_EQ(drop_count(t, DropReason::truncated), 1U);
    EXPECT_EQ(drop_count(t, DropReason::not_ipv4), 1U);
    EXPECT_EQ(drop_count(t, DropReason::no_route), 1U);
    EXPECT_EQ(drop_count(t, DropReason::tx_full), 0U);
    EXPECT_EQ(s.workers.at(0).latency.count, 3U);
    EXPECT_EQ(s.routes.count, 2U);
}

TEST_F(RingFixture, IoPassesFramesUnchangedBothWays) {
    Forwarder fwd(config(FwdMode::io));
    Bytes odd = make_frame(FrameSpec{});
    odd.resize(10);  // not even an Ethernet header: io does not look
    const std::vector<Bytes> in_a = {make_frame(FrameSpec{}), odd};
    FrameSpec s;
    s.ethertype = 0x86dd;
    const std::vector<Bytes> in_b = {make_frame(s)};
    feed(a, in_a);
    feed(b, in_b);
    const FwdStats st = run(fwd, 3);
    EXPECT_EQ(collect(b), in_a);
    EXPECT_EQ(collect(a), in_b);
    EXPECT_EQ(st.totals().forwarded, 3U);
    // Port counters agree with the worker's.
    EXPECT_EQ(st.ports.at(0).rx + st.ports.at(1).rx, 3U);
    EXPECT_EQ(st.ports.at(0).tx + st.ports.at(1).tx, 3U);
}

// io sends each burst whole to the peer: what the peer's tx queue refuses is
// freed and counted as tx_full, so received = transmitted + tx_full.
TEST_F(RingFixture, IoCountsWhatAFullTxQueueRefusesAsTxFull) {
    const RingPort in = ring_port("full_in", make_ring("full_in_rx"), make_ring("full_in_tx"));
    // Holds 15 frames and nothing drains it while the forwarder runs.
    rte_ring* tiny = rte_ring_create("full_out_tx", 16, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
    ASSERT_NE(tiny, nullptr);
    const RingPort out = ring_port("full_out", make_ring("full_out_rx"), tiny);
    ForwarderConfig c = config(FwdMode::io);
    c.port_names = {in.name, out.name};
    Forwarder fwd(c);
    const std::vector<Bytes> frames(100, make_frame(FrameSpec{}));
    feed(in, frames);
    const FwdStats s = run(fwd, frames.size());
    EXPECT_EQ(collect(out), std::vector<Bytes>(15, frames[0]));
    EXPECT_EQ(s.totals().forwarded, 15U);
    EXPECT_EQ(drop_count(s.totals(), DropReason::tx_full), 85U);
    EXPECT_TRUE(collect(in).empty());  // nothing went the other way
}

TEST_F(RingFixture, MacswapSwapsAndDropsTruncated) {
    Forwarder fwd(config(FwdMode::macswap));
    Bytes runt = make_frame(FrameSpec{});
    runt.resize(13);
    FrameSpec longer;
    longer.payload = 300;
    FrameSpec other;
    other.dst_ip = {10, 9, 8, 7};
    // The frames after the drop close its gap, in order.
    const std::vector<Bytes> in = {make_frame(FrameSpec{}), runt, make_frame(longer),
                                   make_frame(other)};
    feed(b, in);
    const FwdStats s = run(fwd, in.size());
    EXPECT_EQ(collect(a), (std::vector<Bytes>{swapped(in[0]), swapped(in[2]), swapped(in[3])}));
    EXPECT_EQ(drop_count(s.totals(), DropReason::truncated), 1U);
}

// A program's own stage, steered by each frame's last byte: 0 sends it to
// the other port (marked: first byte 0xee), 1 back where it came from, 2 to a
// port index the forwarder lacks (no_route), 3 drops it as not_ipv4.
struct SteerByLastByte {
    std::uint64_t calls = 0;  // one worker in this test: no other writer
    StageResult operator()(std::uint8_t* frame, std::size_t len, std::uint16_t in) noexcept {
        ++calls;
        switch (frame[len - 1]) {
            case 0:
                frame[0] = 0xee;
                return StageResult::forward_to(static_cast<std::uint16_t>(in ^ 1U));
            case 1:
                return StageResult::forward_to(in);
            case 2:
                return StageResult::forward_to(7);
            default:
                return StageResult::drop(DropReason::not_ipv4);
        }
    }
};

TEST_F(RingFixture, CustomStageSteersRewritesAndDrops) {
    SteerByLastByte stage;
    ForwarderConfig c = config(FwdMode::custom);
    c.custom_stage = make_custom_stage(stage);
    Forwarder fwd(c);
    const auto frame_ending = [](std::uint8_t last) {
        Bytes f = make_frame(FrameSpec{});
        f.back() = last;
        return f;
    };
    const std::vector<Bytes> in = {frame_ending(0), frame_ending(1), frame_ending(2),
                                   frame_ending(3), frame_ending(0)};
    feed(a, in);
    const FwdStats s = run(fwd, in.size());
    EXPECT_EQ(stage.calls, in.size());

    Bytes marked = in[0];
    marked[0] = 0xee;
    EXPECT_EQ(collect(b), (std::vector<Bytes>{marked, marked}));
    EXPECT_EQ(collect(a), (std::vector<Bytes>{in[1]}));
    const BurstCounters t = s.totals();
    EXPECT_EQ(t.forwarded, 3U);
    EXPECT_EQ(drop_count(t, DropReason::no_route), 1U);
    EXPECT_EQ(drop_count(t, DropReason::not_ipv4), 1U);
}

TEST_F(RingFixture, ConfigErrorsNameTheirInput) {
    ForwarderConfig c = config(FwdMode::l3fwd);
    c.routes = {parse_route("10.9.0.0/16 port 17")};
    try {
        Forwarder fwd(c);
        FAIL() << "a route to a port the forwarder lacks was accepted";
    } catch (const core::Error& e) {
        EXPECT_NE(std::string(e.what()).find("port 17"), std::string::npos) << e.what();
    }
    c = config(FwdMode::io);
    c.port_names = {a.name, "no_such_port"};
    try {
        Forwarder fwd(c);
        FAIL() << "an unknown port was accepted";
    } catch (const core::Error& e) {
        EXPECT_NE(std::string(e.what()).find("no_such_port"), std::string::npos) << e.what();
    }
    c = config(FwdMode::custom);  // and no stage
    try {
        Forwarder fwd(c);
        FAIL() << "mode custom without a stage was accepted";
    } catch (const core::Error& e) {
        EXPECT_NE(std::string(e.what()).find("custom needs a stage"), std::string::npos)
            << e.what();
    }
    c = config(FwdMode::io);
    c.worker_cpus = {eal().main_lcore()};
    try {
        Forwarder fwd(c);
        FAIL() << "the main lcore was accepted as a worker";
    } catch (const core::Error& e) {
        EXPECT_NE(std::string(e.what()).find("worker CPU " + std::to_string(eal().main_lcore())),
                  std::string::npos)
            << e.what();
    }
}

// tx_first frames circulate on a loop of rings in l3fwd mode: every frame is
// forwarded until its TTL runs out (64 -> 1: 63 hops), then dropped.
TEST_F(RingFixture, TxFirstCirculatesUntilTtlExpires) {
    rte_ring* ab = make_ring("loop_ab");
    rte_ring* ba = make_ring("loop_ba");
    const RingPort x = ring_port("loop_x", ba, ab);
    const RingPort y = ring_port("loop_y", ab, ba);
    ForwarderConfig c = config(FwdMode::l3fwd);
    c.port_names = {x.name, y.name};
    c.tx_first_bursts = 4;
    c.routes = {parse_route("10.0.1.0/24 port " + std::to_string(y.id))};
    Forwarder fwd(c);
    const std::uint64_t injected = 2 * 4 * c.burst;
    fwd.start();
    EXPECT_TRUE(wait_until(
        [&] { return drop_count(fwd.stats().totals(), DropReason::ttl_expired) == injected; }));
    fwd.stop();
    const FwdStats s = fwd.stats();
    const BurstCounters t = s.totals();
    EXPECT_EQ(t.forwarded, 63 * injected);
    EXPECT_EQ(t.received, 64 * injected);
    EXPECT_EQ(t.dropped(), injected);
    EXPECT_TRUE(identity_holds(s));
    EXPECT_TRUE(all_returned(s)) << s.pools.at(0).available << " of " << s.pools.at(0).size;
    EXPECT_GT(s.workers.at(0).latency.count, 0U);
}

}  // namespace
}  // namespace qc::dataplane
