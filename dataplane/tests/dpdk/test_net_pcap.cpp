// net_pcap ports: crafted pcap files in (written here before EAL starts),
// io and l3fwd, the output pcap compared with the expected packets.
#include <gtest/gtest.h>
#include <rte_ethdev.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "dpdk_test_support.hpp"

namespace qc::dataplane {
namespace {

using namespace qc::dataplane::testing;

const std::filesystem::path& dir() {
    static const std::filesystem::path d =
        std::filesystem::temp_directory_path() / ("qc-pcap-" + std::to_string(::getpid()));
    return d;
}

void put32(std::ofstream& out, std::uint32_t v) {
    out.write(reinterpret_cast<const char*>(&v), 4);  // native order, magic says which
}

void write_pcap(const std::filesystem::path& path, const std::vector<Bytes>& frames) {
    std::ofstream out(path, std::ios::binary);
    put32(out, 0xa1b2c3d4);
    put32(out, 2 | (4U << 16));  // version 2.4
    put32(out, 0);               // thiszone
    put32(out, 0);               // sigfigs
    put32(out, 65535);           // snaplen
    put32(out, 1);               // LINKTYPE_ETHERNET
    std::uint32_t t = 1;
    for (const Bytes& f : frames) {
        put32(out, t++);
        put32(out, 0);
        put32(out, static_cast<std::uint32_t>(f.size()));
        put32(out, static_cast<std::uint32_t>(f.size()));
        out.write(reinterpret_cast<const char*>(f.data()), static_cast<std::streamsize>(f.size()));
    }
}

std::vector<Bytes> read_pcap(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<std::uint8_t> all((std::istreambuf_iterator<char>(in)), {});
    std::vector<Bytes> frames;
    if (all.size() < 24) {
        ADD_FAILURE() << path << " is not a pcap file (" << all.size() << " bytes)";
        return frames;
    }
    auto u32 = [&](std::size_t at) {
        std::uint32_t v;
        std::memcpy(&v, all.data() + at, 4);
        return v;
    };
    EXPECT_TRUE(u32(0) == 0xa1b2c3d4 || u32(0) == 0xa1b23c4d) << std::hex << u32(0);
    for (std::size_t at = 24; at + 16 <= all.size();) {
        const std::uint32_t len = u32(at + 8);
        at += 16;
        if (at + len > all.size()) {
            ADD_FAILURE() << path << ": record runs past the end";
            break;
        }
        frames.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(at),
                            all.begin() + static_cast<std::ptrdiff_t>(at + len));
        at += len;
    }
    return frames;
}

std::vector<Bytes> io_frames() {
    std::vector<Bytes> frames;
    for (int i = 0; i < 20; ++i) {
        FrameSpec s;
        s.payload = 22 + static_cast<std::size_t>(i) * 37;
        s.fill = static_cast<std::uint8_t>(i);
        s.dst_ip = {10, 0, static_cast<std::uint8_t>(i), 1};
        frames.push_back(make_frame(s));
    }
    return frames;
}

const MacAddress kNextHop{0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

std::vector<Bytes> l3_frames() {
    std::vector<Bytes> frames;
    for (int i = 0; i < 10; ++i) {
        FrameSpec s;
        s.ttl = static_cast<std::uint8_t>(2 + i * 25);
        s.dst_ip = {10, 0, 1, static_cast<std::uint8_t>(i)};
        frames.push_back(make_frame(s));
    }
    FrameSpec expired;
    expired.ttl = 1;
    frames.push_back(make_frame(expired));
    Bytes bad = make_frame(FrameSpec{});
    bad[14 + 11] ^= 0x80;
    frames.push_back(bad);
    FrameSpec elsewhere;
    elsewhere.dst_ip = {172, 16, 0, 1};
    frames.push_back(make_frame(elsewhere));
    return frames;
}

EalSession& eal() {
    static EalSession session([] {
        std::filesystem::create_directories(dir());
        write_pcap(dir() / "in_io.pcap", io_frames());
        write_pcap(dir() / "in_l3.pcap", l3_frames());
        const auto spec = [](const char* port, const char* in, const char* out) {
            return std::string(port) + ",rx_pcap=" + (dir() / in).string() +
                   ",tx_pcap=" + (dir() / out).string();
        };
        return test_eal_options("pcap", {spec("net_pcap0", "in_io.pcap", "out_io.pcap"),
                                         spec("net_pcap1", "in_l3.pcap", "out_l3.pcap")});
    }());
    return session;
}

struct PcapTest : ::testing::Test {
    static void TearDownTestSuite() { std::filesystem::remove_all(dir()); }
};

ForwarderConfig pcap_config(const std::string& port, FwdMode mode) {
    eal();
    ForwarderConfig c;
    c.port_names = {port};
    c.worker_cpus = {worker_cpu()};
    c.mode = mode;
    c.mbufs_per_pool = 1024;
    c.rx_descriptors = c.tx_descriptors = 256;
    c.isolation = IsolationChoice::none;  // the pcap PMD reads and writes files: syscalls
    return c;
}

FwdStats run_until(Forwarder& fwd, std::uint64_t expected) {
    fwd.start();
    EXPECT_TRUE(wait_until([&] { return fwd.stats().totals().received >= expected; }));
    fwd.stop();
    const FwdStats s = fwd.stats();
    EXPECT_EQ(s.totals().received, expected);
    EXPECT_TRUE(identity_holds(s));
    EXPECT_TRUE(all_returned(s));
    return s;
}

TEST_F(PcapTest, IoWritesTheFramesUnchanged) {
    Forwarder fwd(pcap_config("net_pcap0", FwdMode::io));  // one port: sends to itself
    const FwdStats s = run_until(fwd, io_frames().size());
    EXPECT_EQ(s.totals().forwarded, io_frames().size());
    EXPECT_EQ(read_pcap(dir() / "out_io.pcap"), io_frames());
}

TEST_F(PcapTest, L3fwdWritesRoutedFramesOnly) {
    std::uint16_t id = 0;
    ForwarderConfig c = pcap_config("net_pcap1", FwdMode::l3fwd);
    ASSERT_EQ(rte_eth_dev_get_port_by_name("net_pcap1", &id), 0);
    c.routes = {
        parse_route("10.0.1.0/24 port " + std::to_string(id) + " mac " + to_string(kNextHop))};
    Forwarder fwd(c);
    const std::vector<Bytes> in = l3_frames();
    const FwdStats s = run_until(fwd, in.size());
    std::vector<Bytes> expected;
    for (std::size_t i = 0; i < 10; ++i) {
        expected.push_back(routed(in[i], kNextHop, fwd.ports().mac(0)));
    }
    EXPECT_EQ(read_pcap(dir() / "out_l3.pcap"), expected);
    const BurstCounters t = s.totals();
    EXPECT_EQ(t.forwarded, 10U);
    EXPECT_EQ(drop_count(t, DropReason::ttl_expired), 1U);
    EXPECT_EQ(drop_count(t, DropReason::bad_checksum), 1U);
    EXPECT_EQ(drop_count(t, DropReason::no_route), 1U);
}

}  // namespace
}  // namespace qc::dataplane
