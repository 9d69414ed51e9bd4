// Byte helpers for the stage tests, independent of the library under test:
// big-endian 16-bit access and a reference IPv4 header checksum.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qc::dataplane {

// Straightforward 32-bit sum of the big-endian words with the checksum field
// (bytes 10..11) taken as zero, folded, complemented.
inline std::uint16_t reference_checksum(const std::uint8_t* hdr, std::size_t len) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < len; i += 2) {
        if (i == 10) {
            continue;
        }
        sum += static_cast<std::uint32_t>(hdr[i] << 8 | hdr[i + 1]);
    }
    while (sum > 0xffff) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return static_cast<std::uint16_t>(~sum & 0xffff);
}

inline void put16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}

inline std::uint16_t get16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

}  // namespace qc::dataplane
