#include "quietcore/dataplane/ipv4.hpp"

namespace qc::dataplane {

namespace {

constexpr std::uint16_t load_be16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

constexpr std::uint32_t load_be32(const std::uint8_t* p) noexcept {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

constexpr void store_be16(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v & 0xff);
}

// End-around carry: folds a sum of 16-bit words into 16 bits.
constexpr std::uint16_t fold(std::uint64_t sum) noexcept {
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(sum);
}

constexpr std::size_t kEtherTypeOffset = 12;
constexpr std::size_t kTotalLengthOffset = 2;
constexpr std::size_t kTtlOffset = 8;
constexpr std::size_t kChecksumOffset = 10;
constexpr std::size_t kDstOffset = 16;

Ipv4Verdict drop(DropReason reason) noexcept {
    Ipv4Verdict v;
    v.ok = false;
    v.reason = reason;
    return v;
}

}  // namespace

std::uint16_t ipv4_header_checksum(const std::uint8_t* hdr, std::size_t hdr_len) noexcept {
    std::uint64_t sum = 0;
    std::size_t i = 0;
    for (; i + 1 < hdr_len; i += 2) {
        sum += load_be16(hdr + i);
    }
    if (i < hdr_len) {
        sum += std::uint64_t{hdr[i]} << 8;
    }
    return static_cast<std::uint16_t>(~fold(sum));
}

Ipv4Verdict check_ipv4(const std::uint8_t* frame, std::size_t len) noexcept {
    if (len < kEthernetHeaderLen) {
        return drop(DropReason::truncated);
    }
    if (load_be16(frame + kEtherTypeOffset) != kEtherTypeIpv4) {
        return drop(DropReason::not_ipv4);
    }
    if (len < kEthernetHeaderLen + kIpv4MinHeaderLen) {
        return drop(DropReason::truncated);
    }
    const std::uint8_t* ip = frame + kEthernetHeaderLen;
    if ((ip[0] >> 4) != 4) {
        return drop(DropReason::not_ipv4);
    }
    const std::uint16_t total_length = load_be16(ip + kTotalLengthOffset);
    if (len - kEthernetHeaderLen < total_length) {
        return drop(DropReason::truncated);
    }
    const std::size_t header_len = std::size_t{ip[0] & 0x0fu} * 4;
    if (header_len < kIpv4MinHeaderLen || header_len > total_length) {
        return drop(DropReason::bad_header_length);
    }
    if (ipv4_header_checksum(ip, header_len) != 0) {
        return drop(DropReason::bad_checksum);
    }
    if (ip[kTtlOffset] <= 1) {
        return drop(DropReason::ttl_expired);
    }
    Ipv4Verdict v;
    v.ok = true;
    v.dst = load_be32(ip + kDstOffset);
    v.header_offset = static_cast<std::uint16_t>(kEthernetHeaderLen);
    v.header_len = static_cast<std::uint16_t>(header_len);
    v.total_length = total_length;
    return v;
}

void decrement_ttl(std::uint8_t* ip_header) noexcept {
    const std::uint8_t ttl = ip_header[kTtlOffset];
    if (ttl == 0) {
        return;
    }
    const std::uint16_t old_word = load_be16(ip_header + kTtlOffset);  // TTL << 8 | protocol
    ip_header[kTtlOffset] = static_cast<std::uint8_t>(ttl - 1);
    const std::uint16_t new_word = load_be16(ip_header + kTtlOffset);
    const std::uint16_t old_checksum = load_be16(ip_header + kChecksumOffset);
    // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m').
    const std::uint64_t sum = std::uint64_t{static_cast<std::uint16_t>(~old_checksum)} +
                              std::uint64_t{static_cast<std::uint16_t>(~old_word)} + new_word;
    store_be16(ip_header + kChecksumOffset, static_cast<std::uint16_t>(~fold(sum)));
}

}  // namespace qc::dataplane
