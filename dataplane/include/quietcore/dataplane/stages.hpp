// Per-packet forwarding stages and the burst helper the worker loop calls
// (DESIGN.md "Data plane": stages are small, composable and testable without
// DPDK; every packet is accounted for). Everything here is for an isolated
// CPU: noexcept (when the lookup is), no allocation, no syscall, no lock.
//
// A stage is any callable `StageResult(std::uint8_t* frame, std::size_t len)`
// that may rewrite the frame in place and decides forward (to a port) or drop
// (with a reason).
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <utility>

#include "quietcore/dataplane/drop_reason.hpp"
#include "quietcore/dataplane/ipv4.hpp"

namespace qc::dataplane {

enum class StageAction : std::uint8_t { forward, drop };

// A stage's verdict on one packet. Built only through forward_to() and
// drop(), so the field that does not apply always holds its default and
// defaulted equality compares verdicts exactly.
struct StageResult {
    StageAction action = StageAction::drop;
    DropReason reason = DropReason::not_ipv4;  // meaningful when action == drop
    std::uint16_t port = 0;                    // meaningful when action == forward

    static constexpr StageResult forward_to(std::uint16_t out_port) noexcept {
        return StageResult{StageAction::forward, DropReason::not_ipv4, out_port};
    }
    static constexpr StageResult drop(DropReason why) noexcept {
        return StageResult{StageAction::drop, why, 0};
    }
    constexpr bool forwarded() const noexcept { return action == StageAction::forward; }

    friend constexpr bool operator==(const StageResult&, const StageResult&) = default;
};

// Swaps the destination and source MAC addresses in place. Returns false, and
// leaves the frame untouched, when it is shorter than an Ethernet header (14
// bytes); true otherwise. `frame` may be null when len is 0. Inline: out of
// line and byte by byte it cost 2.4-3x a memcpy swap (bench_stages).
inline bool macswap(std::uint8_t* frame, std::size_t len) noexcept {
    constexpr std::size_t kMac = 6;
    if (len < kEthernetHeaderLen) {
        return false;
    }
    if constexpr (std::endian::native == std::endian::little) {
        // The 12 address bytes as one 8-byte and one 4-byte load and store, the
        // swap in registers. Three 6-byte memcpys went through a stack
        // temporary: qc-fwd macswap ran at 140 against 275 Mpps on a 2 x
        // net_ring loop and 46 against 54 on net_null (2026-12-07).
        std::uint64_t head = 0;  // dst0..dst5 src0 src1
        std::uint32_t tail = 0;  // src2..src5
        std::memcpy(&head, frame, sizeof head);
        std::memcpy(&tail, frame + sizeof head, sizeof tail);
        const std::uint64_t new_head = (head >> 48) | (std::uint64_t{tail} << 16) | (head << 48);
        const auto new_tail = static_cast<std::uint32_t>(head >> 16);  // dst2..dst5
        std::memcpy(frame, &new_head, sizeof new_head);
        std::memcpy(frame + sizeof head, &new_tail, sizeof new_tail);
    } else {
        std::uint8_t dst[kMac];
        std::memcpy(dst, frame, kMac);
        std::memcpy(frame, frame + kMac, kMac);
        std::memcpy(frame + kMac, dst, kMac);
    }
    return true;
}

// macswap as a stage (testpmd's "macswap" mode): forward to `out_port`, or
// drop as truncated when the frame has no Ethernet header.
inline StageResult macswap_stage(std::uint8_t* frame, std::size_t len,
                                 std::uint16_t out_port) noexcept {
    if (!macswap(frame, len)) {
        return StageResult::drop(DropReason::truncated);
    }
    return StageResult::forward_to(out_port);
}

// A route lookup: called with the IPv4 destination (host order), returns the
// next hop's port, or nothing when there is no route.
template <typename Lookup>
concept RouteLookup = requires(Lookup& lookup, std::uint32_t dst) {
    { lookup(dst) } -> std::convertible_to<std::optional<std::uint16_t>>;
};

// IPv4 forwarding: check_ipv4 (its drop reasons and their order), then
// lookup(dst); no next hop -> no_route (frame untouched); else decrement the
// TTL with an incremental checksum update and forward to the next hop's port.
// The lookup is not called for a packet that fails check_ipv4. MAC rewriting
// for the next hop is not done here (it belongs with the port table).
template <RouteLookup Lookup>
StageResult l3fwd(std::uint8_t* frame, std::size_t len,
                  Lookup&& lookup) noexcept(noexcept(lookup(std::uint32_t{}))) {
    const Ipv4Verdict v = check_ipv4(frame, len);
    if (!v.ok) {
        return StageResult::drop(v.reason);
    }
    const std::optional<std::uint16_t> port = lookup(v.dst);
    if (!port) {
        return StageResult::drop(DropReason::no_route);
    }
    decrement_ttl(frame + v.header_offset);
    return StageResult::forward_to(*port);
}

// One packet of a burst: its bytes and length (for DPDK later, an mbuf's data
// pointer and data length).
struct FrameRef {
    std::uint8_t* data = nullptr;
    std::size_t len = 0;
};

// Packet accounting. Every counted packet is either forwarded or dropped for
// exactly one reason, so received == forwarded + dropped() holds after every
// call, by construction.
struct BurstCounters {
    std::uint64_t received = 0;
    std::uint64_t forwarded = 0;
    std::array<std::uint64_t, kDropReasonCount> drops{};

    constexpr std::uint64_t dropped() const noexcept {
        std::uint64_t sum = 0;
        for (const std::uint64_t d : drops) {
            sum += d;
        }
        return sum;
    }

    constexpr void count(const StageResult& r) noexcept {
        ++received;
        if (r.forwarded()) {
            ++forwarded;
        } else {
            ++drops[index(r.reason)];
        }
    }

    // The NIC queue accepted fewer packets than were forwarded: moves `n` of
    // them from forwarded to drops[tx_full] (at most `forwarded`, so the
    // identity still holds). Returns how many were moved.
    constexpr std::uint64_t tx_refused(std::uint64_t n) noexcept {
        const std::uint64_t moved = std::min(n, forwarded);
        forwarded -= moved;
        drops[index(DropReason::tx_full)] += moved;
        return moved;
    }
};

// Applies `stage` to each frame in order, writes verdict i to verdicts[i] and
// counts it. Processes min(frames.size(), verdicts.size()) frames and returns
// that number; frames beyond it are neither touched nor counted.
template <typename Stage>
requires std::invocable<Stage&, std::uint8_t*, std::size_t> std::size_t run_burst(
    std::span<const FrameRef> frames, std::span<StageResult> verdicts, BurstCounters& counters,
    Stage&& stage)
noexcept(noexcept(stage(static_cast<std::uint8_t*>(nullptr), std::size_t{}))) {
    const std::size_t n = std::min(frames.size(), verdicts.size());
    for (std::size_t i = 0; i < n; ++i) {
        const StageResult r = stage(frames[i].data, frames[i].len);
        verdicts[i] = r;
        counters.count(r);
    }
    return n;
}

}  // namespace qc::dataplane
