#include "quietcore/dataplane/stages.hpp"

namespace qc::dataplane {

namespace {
constexpr std::size_t kMacLen = 6;
}  // namespace

bool macswap(std::uint8_t* frame, std::size_t len) noexcept {
    if (len < kEthernetHeaderLen) {
        return false;
    }
    for (std::size_t i = 0; i < kMacLen; ++i) {
        std::swap(frame[i], frame[kMacLen + i]);
    }
    return true;
}

StageResult macswap_stage(std::uint8_t* frame, std::size_t len, std::uint16_t out_port) noexcept {
    if (!macswap(frame, len)) {
        return StageResult::drop(DropReason::truncated);
    }
    return StageResult::forward_to(out_port);
}

}  // namespace qc::dataplane
