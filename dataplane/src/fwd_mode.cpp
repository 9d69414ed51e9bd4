#include "quietcore/dataplane/fwd_mode.hpp"

namespace qc::dataplane {

std::string_view to_string(FwdMode mode) noexcept {
    switch (mode) {
        case FwdMode::io:
            return "io";
        case FwdMode::macswap:
            return "macswap";
        case FwdMode::l3fwd:
            return "l3fwd";
        case FwdMode::custom:
            return "custom";
    }
    return "unknown";
}

std::optional<FwdMode> parse_fwd_mode(std::string_view text) noexcept {
    for (const FwdMode m : {FwdMode::io, FwdMode::macswap, FwdMode::l3fwd}) {
        if (text == to_string(m)) {
            return m;
        }
    }
    return std::nullopt;
}

std::string_view to_string(IsolationChoice choice) noexcept {
    switch (choice) {
        case IsolationChoice::auto_detect:
            return "auto";
        case IsolationChoice::kernel:
            return "kernel";
        case IsolationChoice::soft:
            return "soft";
        case IsolationChoice::none:
            return "none";
    }
    return "unknown";
}

std::optional<IsolationChoice> parse_isolation_choice(std::string_view text) noexcept {
    for (const IsolationChoice c : {IsolationChoice::auto_detect, IsolationChoice::kernel,
                                    IsolationChoice::soft, IsolationChoice::none}) {
        if (text == to_string(c)) {
            return c;
        }
    }
    return std::nullopt;
}

}  // namespace qc::dataplane
