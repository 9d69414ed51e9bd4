// Shared by the dpdk suite's executables: one EAL per process (a function
// static, cleaned up at exit), crafted IPv4/UDP frames with checksums
// computed here (independently of the library), and polling helpers.
#pragma once

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "quietcore/core/thread.hpp"
#include "quietcore/dataplane/eal_session.hpp"
#include "quietcore/dataplane/forwarder.hpp"

namespace qc::dataplane::testing {

using Bytes = std::vector<std::uint8_t>;

// The worker CPU of the tests: the last online CPU (CPU 0 is housekeeping).
inline unsigned worker_cpu() {
    return core::online_cpus().cpus().back();
}

inline EalOptions test_eal_options(const std::string& name, std::vector<std::string> ports = {}) {
    EalOptions o;
    o.ports = std::move(ports);
    o.worker_cpus = {worker_cpu()};
    o.file_prefix = "qc-test-" + name + "-" + std::to_string(::getpid());
    o.extra_args = {"--log-level=lib.eal:error"};
    return o;
}

inline std::uint16_t checksum(const std::uint8_t* p, std::size_t len) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < len; i += 2) {
        sum += (std::uint32_t{p[i]} << 8) | p[i + 1];
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(~sum);
}

struct FrameSpec {
    MacAddress dst{0x02, 0, 0, 0, 0, 0xd1};
    MacAddress src{0x02, 0, 0, 0, 0, 0x51};
    std::uint16_t ethertype = 0x0800;
    std::array<std::uint8_t, 4> src_ip{10, 0, 0, 1};
    std::array<std::uint8_t, 4> dst_ip{10, 0, 1, 1};
    std::uint8_t ttl = 64;
    std::size_t payload = 22;  // 64-byte frame
    std::uint8_t fill = 0xab;
};

// Ethernet + IPv4 (20 bytes, valid checksum) + UDP + payload.
inline Bytes make_frame(const FrameSpec& s) {
    Bytes f(14 + 20 + 8 + s.payload, s.fill);
    std::copy(s.dst.begin(), s.dst.end(), f.begin());
    std::copy(s.src.begin(), s.src.end(), f.begin() + 6);
    f[12] = static_cast<std::uint8_t>(s.ethertype >> 8);
    f[13] = static_cast<std::uint8_t>(s.ethertype);
    std::uint8_t* ip = f.data() + 14;
    const std::size_t total = 20 + 8 + s.payload;
    ip[0] = 0x45;
    ip[1] = 0;
    ip[2] = static_cast<std::uint8_t>(total >> 8);
    ip[3] = static_cast<std::uint8_t>(total);
    ip[4] = 0x12;
    ip[5] = 0x34;
    ip[6] = ip[7] = 0;
    ip[8] = s.ttl;
    ip[9] = 17;
    ip[10] = ip[11] = 0;
    std::copy(s.src_ip.begin(), s.src_ip.end(), ip + 12);
    std::copy(s.dst_ip.begin(), s.dst_ip.end(), ip + 16);
    const std::uint16_t c = checksum(ip, 20);
    ip[10] = static_cast<std::uint8_t>(c >> 8);
    ip[11] = static_cast<std::uint8_t>(c);
    std::uint8_t* udp = ip + 20;
    udp[0] = 0x30;
    udp[1] = 0x39;
    udp[2] = 0x00;
    udp[3] = 0x35;
    udp[4] = static_cast<std::uint8_t>((8 + s.payload) >> 8);
    udp[5] = static_cast<std::uint8_t>(8 + s.payload);
    udp[6] = udp[7] = 0;
    return f;
}

// What l3fwd should make of `f`: TTL - 1, checksum recomputed from scratch,
// destination MAC (when given) and source MAC rewritten.
inline Bytes routed(Bytes f, const std::optional<MacAddress>& dst, const MacAddress& src) {
    std::uint8_t* ip = f.data() + 14;
    ip[8] -= 1;
    ip[10] = ip[11] = 0;
    const std::uint16_t c = checksum(ip, 20);
    ip[10] = static_cast<std::uint8_t>(c >> 8);
    ip[11] = static_cast<std::uint8_t>(c);
    if (dst) {
        std::copy(dst->begin(), dst->end(), f.begin());
    }
    std::copy(src.begin(), src.end(), f.begin() + 6);
    return f;
}

inline Bytes swapped(Bytes f) {
    for (int i = 0; i < 6; ++i) {
        std::swap(f[i], f[6 + i]);
    }
    return f;
}

// Polls `done` every 10 ms until true or `timeout`; returns the last answer.
inline bool wait_until(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

inline std::uint64_t drop_count(const BurstCounters& c, DropReason r) {
    return c.drops[index(r)];
}

inline bool identity_holds(const FwdStats& s) {
    const BurstCounters t = s.totals();
    return t.received == t.forwarded + t.dropped();
}

inline bool all_returned(const FwdStats& s) {
    for (const PoolStats& p : s.pools) {
        if (p.available != p.size) {
            return false;
        }
    }
    return !s.pools.empty();
}

}  // namespace qc::dataplane::testing
