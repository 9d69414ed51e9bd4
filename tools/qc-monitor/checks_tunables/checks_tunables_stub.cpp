#include "check/check_registry.hpp"
namespace qc::monitor {
std::vector<CheckDef> tunable_and_rate_checks() {
    return {};
}
}  // namespace qc::monitor
