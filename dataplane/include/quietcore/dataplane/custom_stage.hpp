// A forwarder author's own stage (FwdMode::custom): the workers call it once
// per received frame and send the frame where it says, or free it and count
// the drop under the reason it gives.
//
// It runs on the isolated worker CPUs, so the worker loop's rules are its
// rules: no syscall, no allocation, no lock that can sleep, no log. One stage
// serves every worker at once: what it writes through `context` must be
// per worker (index it by the worker's own data) or not written at all.
//
// Ports are indexes in the forwarder's port list (ForwarderConfig::port_names),
// not ethdev ids: `in_port` is where the frame came from, forward_to(i) sends
// it out of port i. An index outside the list drops the frame as no_route.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "quietcore/dataplane/stages.hpp"

namespace qc::dataplane {

struct CustomStage {
    using Function = StageResult (*)(void* context, std::uint8_t* frame, std::size_t len,
                                     std::uint16_t in_port) noexcept;
    Function function = nullptr;
    void* context = nullptr;

    explicit operator bool() const noexcept { return function != nullptr; }
    StageResult operator()(std::uint8_t* frame, std::size_t len,
                           std::uint16_t in_port) const noexcept {
        return function(context, frame, len, in_port);
    }
};

// A stage that calls `stage(frame, len, in_port)`; `stage` must outlive the
// forwarder that runs it.
template <typename Stage>
requires std::is_nothrow_invocable_r_v<StageResult, Stage&, std::uint8_t*, std::size_t,
                                       std::uint16_t>
    CustomStage make_custom_stage(Stage& stage)
noexcept {
    return CustomStage{[](void* context, std::uint8_t* frame, std::size_t len,
                          std::uint16_t in_port) noexcept -> StageResult {
                           return (*static_cast<Stage*>(context))(frame, len, in_port);
                       },
                       &stage};
}

}  // namespace qc::dataplane
