#include "check/check_registry.hpp"

namespace qc::monitor {

std::vector<CheckDef> all_checks() {
    std::vector<CheckDef> checks = boot_and_affinity_checks();
    for (const CheckDef& def : tunable_and_rate_checks()) {
        checks.push_back(def);
    }
    return checks;
}

}  // namespace qc::monitor
