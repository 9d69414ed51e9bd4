// IPv4 header checks and the TTL update on raw Ethernet frames (DESIGN.md
// "Data plane": the l3fwd stage). Pure functions for the worker loop of an
// isolated CPU: noexcept, no allocation, no syscall; every multi-byte field is
// read byte by byte (frames need not be aligned).
//
// Frames are untagged Ethernet II: 6 bytes destination MAC, 6 bytes source
// MAC, 2 bytes ethertype (0x0800 for IPv4), then the IPv4 header at offset 14.
// A VLAN tag (ethertype 0x8100) is not parsed: such a frame is not_ipv4.
#pragma once

#include <cstddef>
#include <cstdint>

#include "quietcore/dataplane/drop_reason.hpp"

namespace qc::dataplane {

inline constexpr std::size_t kEthernetHeaderLen = 14;
inline constexpr std::size_t kIpv4MinHeaderLen = 20;
inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;

// The Internet checksum (RFC 1071) of `hdr_len` bytes: the ones' complement of
// the ones' complement sum of the big-endian 16-bit words, the checksum field
// included as stored; an odd trailing byte is padded with a zero byte.
//
// - Verifying: a header whose stored checksum is right gives 0.
// - Computing: with the checksum field (bytes 10..11) set to zero, the result
//   is the checksum to store, big-endian: hdr[10] = v >> 8, hdr[11] = v & 0xff.
//
// The value returned is a number (host order), never 0xffff for a header with
// a non-zero word; a stored 0xffff is ones' complement "-0", equal to 0x0000,
// and verifies the same way.
std::uint16_t ipv4_header_checksum(const std::uint8_t* hdr, std::size_t hdr_len) noexcept;

// Result of check_ipv4. When ok, reason is meaningless and the other fields
// describe the packet; when not ok, only reason is meaningful.
struct Ipv4Verdict {
    bool ok = false;
    DropReason reason = DropReason::not_ipv4;
    std::uint32_t dst = 0;            // destination address, host order
    std::uint16_t header_offset = 0;  // of the IPv4 header in the frame (14)
    std::uint16_t header_len = 0;     // IHL * 4: 20 .. 60
    std::uint16_t total_length = 0;   // IPv4 total_length field
};

// Checks an Ethernet frame of `len` bytes for forwarding as IPv4. Checks run in
// this order; the first that fails gives the reason:
//   1. len < 14                                 -> truncated (no Ethernet header)
//   2. ethertype != 0x0800                      -> not_ipv4
//   3. len < 14 + 20                            -> truncated (no minimal IPv4 header)
//   4. version != 4                             -> not_ipv4
//   5. len < 14 + total_length                  -> truncated
//   6. IHL < 5, or IHL * 4 > total_length       -> bad_header_length
//   7. checksum over IHL * 4 bytes != 0         -> bad_checksum
//   8. TTL <= 1                                 -> ttl_expired
// Bytes after 14 + total_length (Ethernet padding) are allowed and ignored.
// `frame` may be null when len is 0. Never reads outside [frame, frame + len).
Ipv4Verdict check_ipv4(const std::uint8_t* frame, std::size_t len) noexcept;

// Decrements the TTL of the IPv4 header at `ip_header` and updates its
// checksum incrementally (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m'), m the
// TTL/protocol word), never by a full recompute. For a header whose checksum
// verified, the result equals a full recompute (including a stored 0xffff,
// which becomes the canonical value). Precondition: TTL >= 1 (check_ipv4
// guarantees >= 2); with TTL 0 the header is left untouched.
void decrement_ttl(std::uint8_t* ip_header) noexcept;

}  // namespace qc::dataplane
