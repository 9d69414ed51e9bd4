// RouteTable on real DPDK rte_lpm (suite dpdk): longest match, add/remove/
// replace, routes(), stats, reader slots, and the telemetry callbacks' parsing.
#define _LGPL_SOURCE
#include <gtest/gtest.h>
#include <urcu/urcu-qsbr.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "quietcore/core/error.hpp"
#include "quietcore/dataplane/route_table.hpp"
#include "quietcore/dataplane/route_telemetry.hpp"
#include "route_test_eal.hpp"

namespace qc::dataplane {
namespace {

constexpr std::uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) {
    return (a << 24) | (b << 16) | (c << 8) | d;
}

// The port of the route a lookup found, -1 for none.
int port_of(const RouteTable& t, std::uint32_t dst) {
    const NextHop* nh = t.current()->lookup(dst);
    return nh == nullptr ? -1 : nh->port;
}

TEST(RouteTable, EmptyTableHasNoRoute) {
    RouteTable t(0, 64);
    EXPECT_EQ(port_of(t, ip(10, 0, 0, 1)), -1);
    EXPECT_EQ(t.current()->version(), 0u);
    EXPECT_TRUE(t.routes().empty());
    const RouteStats s = t.stats();
    EXPECT_EQ(s.version, 0u);
    EXPECT_EQ(s.count, 0u);
    EXPECT_EQ(s.updates, 0u);
}

TEST(RouteTable, LongestPrefixWins) {
    RouteTable t(0, 64);
    t.add(parse_route("10.0.0.0/8 port 1"));
    t.add(parse_route("10.1.0.0/16 port 2"));
    t.add(parse_route("10.1.2.0/24 port 3"));
    t.add(parse_route("10.1.2.128/25 port 4"));
    t.add(parse_route("10.1.2.200/32 port 5 mac 02:00:00:00:00:05"));
    EXPECT_EQ(port_of(t, ip(10, 9, 9, 9)), 1);
    EXPECT_EQ(port_of(t, ip(10, 1, 9, 9)), 2);
    EXPECT_EQ(port_of(t, ip(10, 1, 2, 1)), 3);
    EXPECT_EQ(port_of(t, ip(10, 1, 2, 129)), 4);
    EXPECT_EQ(port_of(t, ip(10, 1, 2, 200)), 5);
    EXPECT_EQ(port_of(t, ip(10, 1, 2, 201)), 4);
    EXPECT_EQ(port_of(t, ip(11, 0, 0, 1)), -1);
    const NextHop* nh = t.current()->lookup(ip(10, 1, 2, 200));
    ASSERT_NE(nh, nullptr);
    ASSERT_TRUE(nh->dst_mac.has_value());
    EXPECT_EQ((*nh->dst_mac)[5], 5);
    EXPECT_FALSE(t.current()->lookup(ip(10, 1, 2, 1))->dst_mac.has_value());
    EXPECT_EQ(t.current()->version(), 5u);
    EXPECT_EQ(t.current()->size(), 5u);
}

TEST(RouteTable, DefaultRouteCatchesTheRest) {
    RouteTable t(0, 64);
    t.add(parse_route("0.0.0.0/0 port 9"));
    t.add(parse_route("10.0.0.0/8 port 1"));
    EXPECT_EQ(port_of(t, ip(10, 0, 0, 1)), 1);
    EXPECT_EQ(port_of(t, ip(192, 168, 0, 1)), 9);
    EXPECT_TRUE(t.remove(0, 0));
    EXPECT_EQ(port_of(t, ip(192, 168, 0, 1)), -1);
}

TEST(RouteTable, AddReplacesSamePrefixAndRemoveFallsBack) {
    RouteTable t(0, 64);
    t.add(parse_route("10.0.0.0/8 port 1"));
    t.add(parse_route("10.1.0.0/16 port 2"));
    t.add(parse_route("10.1.0.0/16 port 7 mac 02:00:00:00:00:07"));
    EXPECT_EQ(port_of(t, ip(10, 1, 0, 1)), 7);
    EXPECT_EQ(t.routes().size(), 2u);
    EXPECT_TRUE(t.remove(ip(10, 1, 0, 0), 16));
    EXPECT_EQ(port_of(t, ip(10, 1, 0, 1)), 1);  // falls back to the /8
    EXPECT_FALSE(t.remove(ip(10, 1, 0, 0), 16));
    EXPECT_FALSE(t.remove(ip(10, 0, 0, 0), 9));  // depth is part of the key
    const RouteStats s = t.stats();
    EXPECT_EQ(s.count, 1u);
    EXPECT_EQ(s.updates, 4u);  // three adds, one removal; failed removals publish nothing
    EXPECT_EQ(s.version, 4u);
}

TEST(RouteTable, RoutesAreSortedAndRoundTrip) {
    RouteTable t(0, 64);
    const std::vector<std::string> texts{"10.2.0.0/24 port 1 mac 02:00:00:00:00:02",
                                         "10.1.0.0/16 port 0", "10.1.0.0/24 port 3"};
    for (const std::string& s : texts) {
        t.add(parse_route(s));
    }
    std::vector<std::string> got;
    for (const Route& r : t.routes()) {
        got.push_back(to_string(r));
    }
    EXPECT_EQ(got, (std::vector<std::string>{"10.1.0.0/16 port 0", "10.1.0.0/24 port 3",
                                             "10.2.0.0/24 port 1 mac 02:00:00:00:00:02"}));
}

TEST(RouteTable, ReplaceIsOnePublicationAndLastDuplicateWins) {
    RouteTable t(0, 64);
    t.add(parse_route("10.0.0.0/8 port 1"));
    t.add(parse_route("10.1.0.0/16 port 1"));
    const std::vector<Route> next{parse_route("10.1.0.0/16 port 2"),
                                  parse_route("172.16.0.0/12 port 3"),
                                  parse_route("10.1.0.0/16 port 4")};
    t.replace(next);
    EXPECT_EQ(t.stats().version, 3u);
    EXPECT_EQ(t.stats().count, 2u);
    EXPECT_EQ(port_of(t, ip(10, 1, 0, 1)), 4);
    EXPECT_EQ(port_of(t, ip(10, 2, 0, 1)), -1);  // the /8 is gone
    EXPECT_EQ(port_of(t, ip(172, 20, 0, 1)), 3);
    t.replace({});
    EXPECT_EQ(port_of(t, ip(10, 1, 0, 1)), -1);
    EXPECT_EQ(t.stats().count, 0u);
}

// Many alternations keep both LPMs (active and standby) in step with a
// model of the table; every third update removes the route added before it.
TEST(RouteTable, AlternatingUpdatesStayConsistent) {
    RouteTable t(0, 256);
    std::vector<int> model(50, -1);  // port of 10.j.0.0/16, -1: none
    for (unsigned i = 0; i < 300; ++i) {
        const unsigned j = ((i % 3 == 2 ? i - 1 : i) * 7) % 50;
        const Route r{ip(10, j, 0, 0), 16, NextHop{static_cast<std::uint16_t>(i), {}}};
        if (i % 3 == 2) {
            EXPECT_TRUE(t.remove(r.prefix, r.depth)) << i;
            model[j] = -1;
        } else {
            t.add(r);
            model[j] = static_cast<int>(i);
        }
        for (unsigned k = 0; k < 50; ++k) {
            ASSERT_EQ(port_of(t, ip(10, k, 1, 1)), model[k])
                << "after update " << i << ", 10." << k;
        }
    }
}

TEST(RouteTable, FullTableAndUnmaskedRouteAreErrorsAndChangeNothing) {
    RouteTable t(0, 2);
    t.add(parse_route("10.0.0.0/8 port 1"));
    t.add(parse_route("11.0.0.0/8 port 1"));
    try {
        t.add(parse_route("12.0.0.0/8 port 1"));
        ADD_FAILURE() << "third route accepted in a table of 2";
    } catch (const core::Error& e) {
        EXPECT_NE(std::string(e.what()).find("12.0.0.0/8"), std::string::npos) << e.what();
    }
    t.add(parse_route("11.0.0.0/8 port 2"));  // a replacement still fits
    EXPECT_EQ(port_of(t, ip(11, 0, 0, 1)), 2);
    EXPECT_THROW(t.add(Route{ip(10, 0, 0, 1), 8, {}}), core::Error);
    EXPECT_THROW(t.add(Route{0, 33, {}}), core::Error);
    const std::vector<Route> three{parse_route("1.0.0.0/8 port 1"), parse_route("2.0.0.0/8 port 1"),
                                   parse_route("3.0.0.0/8 port 1")};
    EXPECT_THROW(t.replace(three), core::Error);
    EXPECT_EQ(t.stats().count, 2u);
    EXPECT_EQ(port_of(t, ip(10, 0, 0, 1)), 1);
}

TEST(RouteTable, TelemetryCallbacksParseAndNameTheBadInput) {
    RouteTable t(0, 16);
    EXPECT_EQ(route_telemetry_add(t, "10.1.0.0/16 port 1"), "");
    EXPECT_EQ(port_of(t, ip(10, 1, 0, 1)), 1);
    const std::string bad = route_telemetry_add(t, "10.1.0.0/16 port x");
    EXPECT_NE(bad.find("\"x\""), std::string::npos) << bad;
    const std::string host = route_telemetry_add(t, "10.1.0.1/16 port 1");
    EXPECT_NE(host.find("10.1.0.1/16"), std::string::npos) << host;
    EXPECT_NE(route_telemetry_del(t, "10.2.0.0/16").find("no route"), std::string::npos);
    EXPECT_NE(route_telemetry_del(t, "10.1.0.0/40").find("10.1.0.0/40"), std::string::npos);
    EXPECT_EQ(route_telemetry_del(t, " 10.1.0.0/16\n"), "");
    EXPECT_EQ(port_of(t, ip(10, 1, 0, 1)), -1);
    EXPECT_EQ(t.stats().updates, 2u);
}

// A registered reader with a slot: the writer waits for its quiescent state;
// an offline one is not waited for.
TEST(RouteTable, ReaderSlotSeesEachVersion) {
    RouteTable t(0, 16);
    urcu_qsbr_register_thread();
    const std::size_t slot = t.take_reader_slot();
    t.offline(slot);  // this thread is also the writer: it must not be waited for
    t.add(parse_route("10.0.0.0/8 port 1"));
    t.online(slot);
    t.quiescent_state(slot);
    EXPECT_EQ(port_of(t, ip(10, 0, 0, 1)), 1);
    t.offline(slot);
    t.release_reader_slot(slot);
    urcu_qsbr_unregister_thread();
    EXPECT_EQ(t.grace_stats().grace_periods, 1u);
    EXPECT_EQ(t.grace_stats().slot_waits, 1u);
}

// A slot taken for a worker that has not started (or never will) is offline:
// updates do not wait for it. Once its reader passes a quiescent state, they
// do: here the reader holds a snapshot for 200 ms and the update waits, and
// the snapshot it held stays readable until its next quiescent state.
TEST(RouteTable, WriterWaitsForOnlineSlotsOnly) {
    RouteTable t(0, 16);
    const std::size_t unused = t.take_reader_slot();
    t.add(parse_route("10.0.0.0/8 port 1"));  // would hang if `unused` were waited for

    std::atomic<int> phase{0};
    std::atomic<int> held_port{-2};
    std::thread reader([&] {
        urcu_qsbr_register_thread();
        const std::size_t slot = t.take_reader_slot();
        t.quiescent_state(slot);  // online from here
        const RouteSnapshot* snap = t.current();
        phase = 1;
        while (phase.load() != 2) {
            std::this_thread::yield();  // the writer is publishing now
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        const NextHop* nh = snap->lookup(ip(10, 0, 0, 1));  // old snapshot: still valid
        held_port = nh == nullptr ? -1 : nh->port;
        t.quiescent_state(slot);
        t.offline(slot);
        t.release_reader_slot(slot);
        urcu_qsbr_unregister_thread();
    });
    while (phase.load() != 1) {
        std::this_thread::yield();
    }
    phase = 2;
    const auto t0 = std::chrono::steady_clock::now();
    t.add(parse_route("10.0.0.0/8 port 2"));
    const auto waited = std::chrono::steady_clock::now() - t0;
    reader.join();
    EXPECT_GE(waited, std::chrono::milliseconds(150));
    EXPECT_EQ(held_port.load(), 1);
    EXPECT_EQ(port_of(t, ip(10, 0, 0, 1)), 2);
    t.release_reader_slot(unused);
}

}  // namespace
}  // namespace qc::dataplane

int main(int argc, char** argv) {
    return qc::dataplane::test::run_with_eal(argc, argv, "table");
}
