#include "check/check_registry.hpp"
namespace qc::monitor {
std::vector<CheckDef> boot_and_affinity_checks() {
    return {};
}
}  // namespace qc::monitor
