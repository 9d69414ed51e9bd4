// The list of health checks. Each group lives in its own files and hands
// its checks over through one function, so adding a check touches one group.
#pragma once

#include <string_view>
#include <vector>

#include "check/check_context.hpp"
#include "check/check_result.hpp"

namespace qc::monitor {

struct CheckDef {
    std::string_view id;     // stable, dotted: "cmdline.nohz_full"
    std::string_view title;  // "nohz_full= covers the isolated CPUs"
    CheckResult (*run)(const CheckContext&);
};

// Kernel command line, kernel config, CPUs and topology, IRQ / workqueue /
// task / RCU-thread / PID 1 / RPS affinity (checks_affinity*.cpp, checks_boot*.cpp).
std::vector<CheckDef> boot_and_affinity_checks();
// Watchdogs, clocksource, vmstat, timer migration, memory (THP, KSM, NUMA
// balancing), RT throttling, idle / PM QoS, cpufreq, machine-check polling,
// and the interrupt / softirq rates on isolated CPUs (checks_tunables*.cpp,
// checks_power*.cpp, checks_rates*.cpp).
std::vector<CheckDef> tunable_and_rate_checks();

// Every check, in report order; ids are unique.
std::vector<CheckDef> all_checks();

}  // namespace qc::monitor
