// Group A of `qc-monitor check`: what the kernel was booted with and where
// IRQs, workqueues, tasks and packets are allowed to run.
#include "checks_boot/checks_boot.hpp"

namespace qc::monitor {

std::vector<CheckDef> boot_and_affinity_checks() {
    std::vector<CheckDef> checks;
    for (auto group :
         {boot::cmdline_checks, boot::kconfig_checks, boot::cpu_checks, boot::irq_checks,
          boot::workqueue_checks, boot::task_checks, boot::rps_checks}) {
        for (const CheckDef& def : group()) {
            checks.push_back(def);
        }
    }
    return checks;
}

}  // namespace qc::monitor
