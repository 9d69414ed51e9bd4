// Why a packet was dropped (DESIGN.md "Data plane": every packet is accounted
// for, received = transmitted + dropped by reason). The enumerator values are
// dense from 0, so a reason indexes a std::array<std::uint64_t,
// kDropReasonCount> of counters; to_string() gives the stable names used in
// stats and JSON, which must never change once published.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace qc::dataplane {

enum class DropReason : std::uint8_t {
    not_ipv4,           // ethertype is not 0x0800, or the IP version is not 4
    truncated,          // frame shorter than its headers or its IPv4 total_length
    bad_header_length,  // IHL < 5, or IHL * 4 > total_length
    bad_checksum,       // IPv4 header checksum does not verify
    ttl_expired,        // TTL <= 1: forwarding would make it 0
    no_route,           // the route lookup found no next hop
    tx_full,            // the NIC queue refused it (counted by the worker)
};

inline constexpr std::size_t kDropReasonCount = 7;

// The counter slot of a reason: 0 .. kDropReasonCount - 1.
constexpr std::size_t index(DropReason reason) noexcept {
    return static_cast<std::size_t>(reason);
}

// Stable name of a reason ("not_ipv4", ...); "unknown" for a value outside the
// enumeration (only reachable through a cast).
constexpr std::string_view to_string(DropReason reason) noexcept {
    switch (reason) {
        case DropReason::not_ipv4:
            return "not_ipv4";
        case DropReason::truncated:
            return "truncated";
        case DropReason::bad_header_length:
            return "bad_header_length";
        case DropReason::bad_checksum:
            return "bad_checksum";
        case DropReason::ttl_expired:
            return "ttl_expired";
        case DropReason::no_route:
            return "no_route";
        case DropReason::tx_full:
            return "tx_full";
    }
    return "unknown";
}

static_assert(index(DropReason::tx_full) + 1 == kDropReasonCount,
              "kDropReasonCount must follow the last enumerator");

}  // namespace qc::dataplane
