// The forwarding stages of dataplane/stages.hpp per packet, as a worker runs
// them over a received burst of 32 frames, each beside a peer in the same run
// (DESIGN.md "Measuring"):
//   io        run_burst with a stage that touches nothing, against a plain
//             loop that writes the same verdicts (the cost of the accounting);
//   macswap   against three memcpy calls swapping the MAC pair;
//   l3fwd     (checks, lookup, TTL update with the incremental checksum)
//             against the same path with the checksum recomputed in full;
//   TTL       decrement_ttl alone against a full recompute;
//   drops     one benchmark per drop reason, against the forward path;
//   run_burst with the l3fwd stage against l3fwd called in a plain loop.
// Every iteration is one burst of 32 frames of 60 bytes (a 64-byte frame
// without FCS) in a 4 KiB buffer, so the data are cache-hot, as a burst the
// NIC just wrote is. Counters per packet: "cycles/pkt" (core::CycleCounter
// around the whole timed loop) and "ns/pkt"; items_per_second counts packets.
// The ratios at the end compare real time per iteration, i.e. per burst.
// Pure stages: no DPDK, no EAL.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "peer_ratio.hpp"
#include "quietcore/core/cycle_counter.hpp"
#include "quietcore/dataplane/drop_reason.hpp"
#include "quietcore/dataplane/ipv4.hpp"
#include "quietcore/dataplane/stages.hpp"

namespace {

namespace dp = qc::dataplane;
using qc::core::CycleCounter;

constexpr std::size_t kBurst = 32;
constexpr std::size_t kFrameLen = 60;      // 64-byte frame on the wire, no FCS
constexpr std::size_t kFrameStride = 128;  // two cache lines per frame
constexpr std::size_t kIp = dp::kEthernetHeaderLen;
constexpr std::uint16_t kOutPort = 1;
constexpr std::uint8_t kTtl = 64;

void store16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}

// A UDP/IPv4 frame to 10.1.x.y with a correct header checksum.
void write_udp_frame(std::uint8_t* f, std::uint8_t host) {
    std::memset(f, 0, kFrameLen);
    const std::uint8_t dst_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
    const std::uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
    std::memcpy(f, dst_mac, 6);
    std::memcpy(f + 6, src_mac, 6);
    store16(f + 12, dp::kEtherTypeIpv4);
    std::uint8_t* ip = f + kIp;
    ip[0] = 0x45;
    store16(ip + 2, kFrameLen - kIp);  // total length 46
    store16(ip + 4, host);             // identification
    ip[8] = kTtl;
    ip[9] = 17;  // UDP
    const std::uint8_t src[4] = {10, 0, 0, 1};
    const std::uint8_t dst[4] = {10, 1, 0, host};
    std::memcpy(ip + 12, src, 4);
    std::memcpy(ip + 16, dst, 4);
    store16(ip + 10, dp::ipv4_header_checksum(ip, dp::kIpv4MinHeaderLen));
    store16(ip + 20, 1024);                                     // UDP source port
    store16(ip + 22, 1025);                                     // UDP destination port
    store16(ip + 24, kFrameLen - kIp - dp::kIpv4MinHeaderLen);  // UDP length
}

// Recomputes the header checksum after a hand-made change to the header.
void refresh_checksum(std::uint8_t* f) {
    std::uint8_t* ip = f + kIp;
    const std::size_t ihl = static_cast<std::size_t>(ip[0] & 0x0f) * 4;
    store16(ip + 10, 0);
    store16(ip + 10, dp::ipv4_header_checksum(ip, ihl < dp::kIpv4MinHeaderLen ? 20 : ihl));
}

// 32 frames and their FrameRefs; all identical but for the destination host.
class Burst {
  public:
    Burst() {
        for (std::size_t i = 0; i < kBurst; ++i) {
            write_udp_frame(frame(i), static_cast<std::uint8_t>(i + 1));
            refs_[i] = dp::FrameRef{frame(i), kFrameLen};
        }
    }
    std::uint8_t* frame(std::size_t i) { return bytes_.data() + i * kFrameStride; }
    std::span<const dp::FrameRef> refs() const { return refs_; }
    void set_len(std::size_t len) {
        for (auto& r : refs_) {
            r.len = len;
        }
    }
    // Puts back the TTL and checksum an l3fwd pass decremented.
    void reset_ttl() {
        for (std::size_t i = 0; i < kBurst; ++i) {
            frame(i)[kIp + 8] = kTtl;
            refresh_checksum(frame(i));
        }
    }

  private:
    alignas(64) std::array<std::uint8_t, kBurst * kFrameStride> bytes_{};
    std::array<dp::FrameRef, kBurst> refs_{};
};

// The TTL starts at 64 and a forwarded packet leaves with TTL - 1, so the
// frames are put back every kResetEvery bursts (cost amortised to well under
// a cycle per packet, the same on both sides of a comparison).
constexpr unsigned kResetEvery = kTtl - 4;

// Times the benchmark loop with the cycle counter and the steady clock and
// reports both per packet; `body` processes one burst.
template <typename Body>
void per_packet_loop(benchmark::State& state, Body&& body) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::uint64_t c0 = CycleCounter::read_start();
    for (auto _ : state) {
        body();
        benchmark::ClobberMemory();
    }
    const std::uint64_t c1 = CycleCounter::read_end();
    const auto t1 = std::chrono::steady_clock::now();
    const double packets = static_cast<double>(state.iterations()) * kBurst;
    state.SetItemsProcessed(static_cast<std::int64_t>(packets));
    if (packets > 0) {
        state.counters["cycles/pkt"] = static_cast<double>(c1 - c0) / packets;
        state.counters["ns/pkt"] =
            std::chrono::duration<double, std::nano>(t1 - t0).count() / packets;
    }
}

// The "simple lookup functor": 10.1.0.0/16 -> port 1, nothing else routed.
struct SlashSixteen {
    std::optional<std::uint16_t> operator()(std::uint32_t dst) const noexcept {
        if ((dst & 0xffff0000u) == 0x0a010000u) {
            return kOutPort;
        }
        return std::nullopt;
    }
};

// io: forward every frame untouched, with run_burst's verdicts and counters.
void BM_Io_RunBurst(benchmark::State& state) {
    Burst burst;
    std::array<dp::StageResult, kBurst> verdicts{};
    dp::BurstCounters counters;
    auto io = [](std::uint8_t*, std::size_t) noexcept {
        return dp::StageResult::forward_to(kOutPort);
    };
    per_packet_loop(state, [&] {
        benchmark::DoNotOptimize(dp::run_burst(burst.refs(), verdicts, counters, io));
    });
    benchmark::DoNotOptimize(counters);
    if (counters.received != counters.forwarded) {
        state.SkipWithError("io dropped a packet");
    }
}
BENCHMARK(BM_Io_RunBurst);

// Peer: the same verdicts written by a plain loop, one forwarded counter.
void BM_Io_PlainLoop(benchmark::State& state) {
    Burst burst;
    std::array<dp::StageResult, kBurst> verdicts{};
    std::uint64_t forwarded = 0;
    per_packet_loop(state, [&] {
        const std::size_t n = std::min(burst.refs().size(), verdicts.size());
        for (std::size_t i = 0; i < n; ++i) {
            verdicts[i] = dp::StageResult::forward_to(kOutPort);
            ++forwarded;
        }
        benchmark::DoNotOptimize(verdicts);
    });
    benchmark::DoNotOptimize(forwarded);
}
BENCHMARK(BM_Io_PlainLoop);

void BM_Macswap(benchmark::State& state) {
    Burst burst;
    per_packet_loop(state, [&] {
        for (const dp::FrameRef& f : burst.refs()) {
            benchmark::DoNotOptimize(dp::macswap(f.data, f.len));
        }
    });
}
BENCHMARK(BM_Macswap);

// Peer: the MAC pair swapped by three memcpy calls through a temporary.
void BM_Macswap_PeerMemcpy(benchmark::State& state) {
    Burst burst;
    per_packet_loop(state, [&] {
        for (const dp::FrameRef& f : burst.refs()) {
            std::uint8_t tmp[6];
            std::memcpy(tmp, f.data, 6);
            std::memcpy(f.data, f.data + 6, 6);
            std::memcpy(f.data + 6, tmp, 6);
            benchmark::DoNotOptimize(f.data);
        }
    });
}
BENCHMARK(BM_Macswap_PeerMemcpy);

// macswap as the worker runs it: the stage through run_burst.
void BM_Macswap_RunBurst(benchmark::State& state) {
    Burst burst;
    std::array<dp::StageResult, kBurst> verdicts{};
    dp::BurstCounters counters;
    auto stage = [](std::uint8_t* f, std::size_t len) noexcept {
        return dp::macswap_stage(f, len, kOutPort);
    };
    per_packet_loop(state, [&] {
        benchmark::DoNotOptimize(dp::run_burst(burst.refs(), verdicts, counters, stage));
    });
    if (counters.received != counters.forwarded) {
        state.SkipWithError("macswap dropped a packet");
    }
}
BENCHMARK(BM_Macswap_RunBurst);

// l3fwd forwarding every frame (checks, lookup, TTL and incremental checksum).
void BM_L3fwd_Forward(benchmark::State& state) {
    Burst burst;
    SlashSixteen lookup;
    std::uint64_t forwarded = 0;
    unsigned n = 0;
    per_packet_loop(state, [&] {
        for (const dp::FrameRef& f : burst.refs()) {
            forwarded += dp::l3fwd(f.data, f.len, lookup).forwarded() ? 1 : 0;
        }
        if (++n == kResetEvery) {
            burst.reset_ttl();
            n = 0;
        }
    });
    benchmark::DoNotOptimize(forwarded);
    if (forwarded != state.iterations() * kBurst) {
        state.SkipWithError("l3fwd did not forward every frame");
    }
}
BENCHMARK(BM_L3fwd_Forward);

// The TTL update by full recompute: what decrement_ttl's RFC 1624 update saves.
void ttl_full_recompute(std::uint8_t* ip, std::size_t ihl) {
    --ip[8];
    ip[10] = 0;
    ip[11] = 0;
    store16(ip + 10, dp::ipv4_header_checksum(ip, ihl));
}

// Peer: the same path (check_ipv4, the same lookup) with a full recompute.
void BM_L3fwd_PeerFullChecksum(benchmark::State& state) {
    Burst burst;
    SlashSixteen lookup;
    std::uint64_t forwarded = 0;
    unsigned n = 0;
    per_packet_loop(state, [&] {
        for (const dp::FrameRef& f : burst.refs()) {
            const dp::Ipv4Verdict v = dp::check_ipv4(f.data, f.len);
            if (!v.ok || !lookup(v.dst)) {
                continue;
            }
            ttl_full_recompute(f.data + v.header_offset, v.header_len);
            ++forwarded;
        }
        if (++n == kResetEvery) {
            burst.reset_ttl();
            n = 0;
        }
    });
    benchmark::DoNotOptimize(forwarded);
    if (forwarded != state.iterations() * kBurst) {
        state.SkipWithError("peer did not forward every frame");
    }
}
BENCHMARK(BM_L3fwd_PeerFullChecksum);

// The TTL update alone.
void BM_DecrementTtl(benchmark::State& state) {
    Burst burst;
    unsigned n = 0;
    per_packet_loop(state, [&] {
        for (const dp::FrameRef& f : burst.refs()) {
            dp::decrement_ttl(f.data + kIp);
        }
        if (++n == kResetEvery) {
            burst.reset_ttl();
            n = 0;
        }
    });
}
BENCHMARK(BM_DecrementTtl);

void BM_TtlPeerFullRecompute(benchmark::State& state) {
    Burst burst;
    unsigned n = 0;
    per_packet_loop(state, [&] {
        for (const dp::FrameRef& f : burst.refs()) {
            ttl_full_recompute(f.data + kIp, dp::kIpv4MinHeaderLen);
        }
        if (++n == kResetEvery) {
            burst.reset_ttl();
            n = 0;
        }
    });
}
BENCHMARK(BM_TtlPeerFullRecompute);

// run_burst with the l3fwd stage: verdicts and per-reason counters on top of
// BM_L3fwd_Forward's plain loop.
void BM_L3fwd_RunBurst(benchmark::State& state) {
    Burst burst;
    SlashSixteen lookup;
    std::array<dp::StageResult, kBurst> verdicts{};
    dp::BurstCounters counters;
    auto stage = [&lookup](std::uint8_t* f, std::size_t len) noexcept {
        return dp::l3fwd(f, len, lookup);
    };
    unsigned n = 0;
    per_packet_loop(state, [&] {
        benchmark::DoNotOptimize(dp::run_burst(burst.refs(), verdicts, counters, stage));
        if (++n == kResetEvery) {
            burst.reset_ttl();
            n = 0;
        }
    });
    if (counters.forwarded != counters.received) {
        state.SkipWithError("l3fwd did not forward every frame");
    }
}
BENCHMARK(BM_L3fwd_RunBurst);

// One drop path: every frame of the burst is made to fail the same way.
// The frames are not changed by a dropping l3fwd, so no reset is needed.
void prepare_drop(Burst& burst, dp::DropReason reason) {
    for (std::size_t i = 0; i < kBurst; ++i) {
        std::uint8_t* f = burst.frame(i);
        switch (reason) {
            case dp::DropReason::not_ipv4:
                store16(f + 12, 0x86dd);
                break;
            case dp::DropReason::truncated:
                break;  // set_len below: shorter than the IPv4 total length
            case dp::DropReason::bad_header_length:
                f[kIp] = 0x44;
                refresh_checksum(f);
                break;
            case dp::DropReason::bad_checksum:
                f[kIp + 10] ^= 0x5a;
                break;
            case dp::DropReason::ttl_expired:
                f[kIp + 8] = 1;
                refresh_checksum(f);
                break;
            case dp::DropReason::no_route:
                f[kIp + 17] = 2;  // 10.2.0.x
                refresh_checksum(f);
                break;
            case dp::DropReason::tx_full:
                break;  // not a stage verdict
        }
    }
    if (reason == dp::DropReason::truncated) {
        burst.set_len(kIp + dp::kIpv4MinHeaderLen + 4);
    }
}

void BM_L3fwd_Drop(benchmark::State& state, dp::DropReason reason) {
    Burst burst;
    prepare_drop(burst, reason);
    SlashSixteen lookup;
    for (const dp::FrameRef& f : burst.refs()) {
        if (dp::l3fwd(f.data, f.len, lookup) != dp::StageResult::drop(reason)) {
            state.SkipWithError("frame not dropped for the intended reason");
            return;
        }
    }
    std::uint64_t dropped = 0;
    per_packet_loop(state, [&] {
        for (const dp::FrameRef& f : burst.refs()) {
            dropped += dp::l3fwd(f.data, f.len, lookup).forwarded() ? 0 : 1;
        }
    });
    benchmark::DoNotOptimize(dropped);
}

constexpr std::array kStageDrops = {
    dp::DropReason::not_ipv4,     dp::DropReason::truncated,   dp::DropReason::bad_header_length,
    dp::DropReason::bad_checksum, dp::DropReason::ttl_expired, dp::DropReason::no_route,
};

}  // namespace

int main(int argc, char** argv) {
    std::vector<qc::bench::Comparison> comparisons = {
        {"BM_Io_RunBurst", "BM_Io_PlainLoop"},
        {"BM_Macswap", "BM_Macswap_PeerMemcpy"},
        {"BM_Macswap_RunBurst", "BM_Macswap"},
        {"BM_L3fwd_Forward", "BM_L3fwd_PeerFullChecksum"},
        {"BM_DecrementTtl", "BM_TtlPeerFullRecompute"},
        {"BM_L3fwd_RunBurst", "BM_L3fwd_Forward"},
    };
    for (const dp::DropReason reason : kStageDrops) {
        const std::string name = "BM_L3fwd_Drop_" + std::string(dp::to_string(reason));
        benchmark::RegisterBenchmark(name.c_str(), BM_L3fwd_Drop, reason);
        comparisons.push_back({name, "BM_L3fwd_Forward"});
    }
    return qc::bench::run_with_ratios(argc, argv, comparisons);
}
