#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "quietcore/core/error.hpp"
#include "quietcore/dataplane/route_table.hpp"

namespace qc::dataplane {
namespace {

// Expects a ParseError whose token() is `token` and whose message names the
// input and the token.
void expect_bad(std::string_view text, std::string_view token) {
    try {
        const Route r = parse_route(text);
        ADD_FAILURE() << "parsed \"" << text << "\" as \"" << to_string(r) << "\"";
    } catch (const core::ParseError& e) {
        EXPECT_EQ(e.token(), token) << e.what();
        EXPECT_EQ(e.input(), text);
        const std::string what = e.what();
        EXPECT_NE(what.find("\"" + std::string(token) + "\""), std::string::npos) << what;
        EXPECT_NE(what.find(std::string(text)), std::string::npos) << what;
    }
}

TEST(RouteParse, PrefixAndPort) {
    const Route r = parse_route("10.1.0.0/16 port 1");
    EXPECT_EQ(r.prefix, 0x0a010000u);
    EXPECT_EQ(r.depth, 16);
    EXPECT_EQ(r.next_hop.port, 1);
    EXPECT_FALSE(r.next_hop.dst_mac.has_value());
}

TEST(RouteParse, WithMacInAnyOrderAndSpacing) {
    const Route r = parse_route("  192.168.7.128/25\tmac 02:00:0a:Bc:00:ff   port 65535 ");
    EXPECT_EQ(r.prefix, 0xc0a80780u);
    EXPECT_EQ(r.depth, 25);
    EXPECT_EQ(r.next_hop.port, 65535);
    ASSERT_TRUE(r.next_hop.dst_mac.has_value());
    const MacAddress want{0x02, 0x00, 0x0a, 0xbc, 0x00, 0xff};
    EXPECT_EQ(*r.next_hop.dst_mac, want);
}

TEST(RouteParse, DefaultRouteAndHostRoute) {
    const Route d = parse_route("0.0.0.0/0 port 3");
    EXPECT_EQ(d.prefix, 0u);
    EXPECT_EQ(d.depth, 0);
    const Route h = parse_route("255.255.255.255/32 port 0");
    EXPECT_EQ(h.prefix, 0xffffffffu);
    EXPECT_EQ(h.depth, 32);
}

TEST(RouteParse, ToStringRoundTrips) {
    for (const std::string_view text :
         {"10.1.0.0/16 port 1", "10.2.0.0/24 port 1 mac 02:00:00:00:00:02", "0.0.0.0/0 port 0",
          "1.2.3.4/32 port 9 mac ff:ee:dd:cc:bb:aa"}) {
        EXPECT_EQ(to_string(parse_route(text)), text);
    }
    EXPECT_EQ(to_string(parse_route("10.2.0.0/24 mac 02:00:00:00:00:0A port 1")),
              "10.2.0.0/24 port 1 mac 02:00:00:00:00:0a");
}

TEST(RouteParse, BadPrefix) {
    expect_bad("10.1.0/16 port 1", "10.1.0/16");
    expect_bad("10.1.0.256/32 port 1", "10.1.0.256/32");
    expect_bad("10.1.0.0.0/8 port 1", "10.1.0.0.0/8");
    expect_bad("10.1.0.-1/32 port 1", "10.1.0.-1/32");
    expect_bad("10.1.0.0 port 1", "10.1.0.0");
    expect_bad("ten.1.0.0/16 port 1", "ten.1.0.0/16");
    expect_bad("10.1.0.0/ port 1", "10.1.0.0/");
}

TEST(RouteParse, DepthAbove32) {
    expect_bad("10.1.0.0/33 port 1", "10.1.0.0/33");
    expect_bad("10.1.0.0/100 port 1", "10.1.0.0/100");
    expect_bad("10.1.0.0/-1 port 1", "10.1.0.0/-1");
}

TEST(RouteParse, HostBitsSetNamesTheFix) {
    try {
        parse_route("10.1.2.0/16 port 1");
        ADD_FAILURE() << "host bits accepted";
    } catch (const core::ParseError& e) {
        EXPECT_EQ(e.token(), "10.1.2.0/16");
        EXPECT_NE(std::string(e.what()).find("10.1.0.0/16"), std::string::npos) << e.what();
    }
    expect_bad("0.0.0.1/0 port 1", "0.0.0.1/0");
}

TEST(RouteParse, PortNotANumber) {
    expect_bad("10.1.0.0/16 port one", "one");
    expect_bad("10.1.0.0/16 port 1x", "1x");
    expect_bad("10.1.0.0/16 port 65536", "65536");
    expect_bad("10.1.0.0/16 port -1", "-1");
    expect_bad("10.1.0.0/16 port", "port");
    expect_bad("10.1.0.0/16", "10.1.0.0/16");  // no port at all
}

TEST(RouteParse, BadMac) {
    expect_bad("10.1.0.0/16 port 1 mac 02:00:00:00:00", "02:00:00:00:00");
    expect_bad("10.1.0.0/16 port 1 mac 02:00:00:00:00:0g", "02:00:00:00:00:0g");
    expect_bad("10.1.0.0/16 port 1 mac 02-00-00-00-00-02", "02-00-00-00-00-02");
    expect_bad("10.1.0.0/16 port 1 mac 002:00:00:00:00:2", "002:00:00:00:00:2");
    expect_bad("10.1.0.0/16 port 1 mac", "mac");
}

TEST(RouteParse, TrailingGarbageAndRepeats) {
    expect_bad("10.1.0.0/16 port 1 via", "via");
    expect_bad("10.1.0.0/16 port 1 x y", "x");
    expect_bad("10.1.0.0/16 port 1 port 2", "port");
    expect_bad("10.1.0.0/16 port 1 mac 02:00:00:00:00:02 mac 02:00:00:00:00:03", "mac");
}

TEST(RouteParse, Empty) {
    EXPECT_THROW(parse_route(""), core::ParseError);
    EXPECT_THROW(parse_route("   "), core::ParseError);
}

TEST(RouteParse, PrefixOnly) {
    const RoutePrefix p = parse_route_prefix(" 10.1.0.0/16 ");
    EXPECT_EQ(p.prefix, 0x0a010000u);
    EXPECT_EQ(p.depth, 16);
    try {
        parse_route_prefix("10.1.0.0/16 port 1");
        ADD_FAILURE() << "trailing words accepted";
    } catch (const core::ParseError& e) {
        EXPECT_EQ(e.token(), "port");
    }
    EXPECT_THROW(parse_route_prefix("10.1.0.1/16"), core::ParseError);
    EXPECT_THROW(parse_route_prefix(""), core::ParseError);
}

TEST(RouteParse, FormatIpv4) {
    EXPECT_EQ(format_ipv4(0x0a000102u), "10.0.1.2");
    EXPECT_EQ(format_ipv4(0), "0.0.0.0");
    EXPECT_EQ(format_ipv4(0xffffffffu), "255.255.255.255");
}

}  // namespace
}  // namespace qc::dataplane
