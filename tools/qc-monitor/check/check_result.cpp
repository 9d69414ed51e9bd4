#include "check/check_result.hpp"

namespace qc::monitor {

std::string_view to_string(CheckStatus status) noexcept {
    switch (status) {
        case CheckStatus::ok:
            return "ok";
        case CheckStatus::warn:
            return "warn";
        case CheckStatus::fail:
            return "fail";
        case CheckStatus::skip:
            return "skip";
    }
    return "skip";
}

}  // namespace qc::monitor
