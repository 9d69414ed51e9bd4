// What a forwarder's workers do to each packet (contract of issue 6): the
// forwarding mode, and how the workers isolate their CPUs. Stable names, as
// used on the qc-fwd command line, in its TOML config and in JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace qc::dataplane {

enum class FwdMode : std::uint8_t {
    io,       // frames pass unchanged: port 2k <-> 2k+1
    macswap,  // destination and source MAC swapped: port 2k <-> 2k+1
    l3fwd,    // IPv4 LPM, TTL, checksum, MAC rewrite for the next hop
    custom,   // the program's own stage (custom_stage.hpp); not a qc-fwd flag
};

// "io", "macswap", "l3fwd", "custom".
std::string_view to_string(FwdMode mode) noexcept;
// Exact names of the modes a command line or config can choose (io, macswap,
// l3fwd; a custom stage is code, not a name); nothing for anything else.
std::optional<FwdMode> parse_fwd_mode(std::string_view text) noexcept;

enum class IsolationChoice : std::uint8_t {
    auto_detect,  // the kernel back end where the patch runs, else soft
    kernel,       // the task-isolation prctl; an error where the kernel lacks it
    soft,         // soft isolation (seccomp supervisor, entry poller)
    none,         // workers do not enter isolation
};

// "auto", "kernel", "soft", "none".
std::string_view to_string(IsolationChoice choice) noexcept;
std::optional<IsolationChoice> parse_isolation_choice(std::string_view text) noexcept;

}  // namespace qc::dataplane
