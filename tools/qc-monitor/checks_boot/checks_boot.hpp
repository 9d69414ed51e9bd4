// The boot and affinity checks by area; boot_and_affinity_checks() lists
// them in report order.
#pragma once

#include <vector>

#include "check/check_registry.hpp"

namespace qc::monitor::boot {

std::vector<CheckDef> cmdline_checks();    // cmdline.*  (checks_cmdline.cpp)
std::vector<CheckDef> kconfig_checks();    // kconfig.*  (checks_kconfig.cpp)
std::vector<CheckDef> cpu_checks();        // cpus.*     (checks_cpus.cpp)
std::vector<CheckDef> irq_checks();        // irq.*      (checks_irq.cpp)
std::vector<CheckDef> workqueue_checks();  // workqueue.* (checks_workqueue.cpp)
std::vector<CheckDef> task_checks();       // tasks.*, rcu.*, pid1.* (checks_tasks.cpp)
std::vector<CheckDef> rps_checks();        // rps.*      (checks_rps.cpp)

}  // namespace qc::monitor::boot
