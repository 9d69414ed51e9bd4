// The group B checks one by one, so tests can run a single check on a
// fixture; tunable_and_rate_checks() (check_registry.hpp) lists them all.
#pragma once

#include "check/check_context.hpp"
#include "check/check_result.hpp"

namespace qc::monitor::tunables {

// Thresholds the checks judge by, with the reasons in the .cpp files.
inline constexpr long kStatIntervalSeconds = 10;  // vm.stat_interval of tuned and OpenShift
inline constexpr long kIdleLatencyLimitUs = 20;   // deepest exit latency allowed on isolated CPUs

// checks_watchdog.cpp
CheckResult check_watchdog_soft(const CheckContext& ctx);
CheckResult check_watchdog_nmi(const CheckContext& ctx);
// checks_sysctl.cpp
CheckResult check_clocksource(const CheckContext& ctx);
CheckResult check_vmstat_interval(const CheckContext& ctx);
CheckResult check_timer_migration(const CheckContext& ctx);
CheckResult check_rt_throttling(const CheckContext& ctx);
// checks_memory.cpp
CheckResult check_thp(const CheckContext& ctx);
CheckResult check_ksm(const CheckContext& ctx);
CheckResult check_numa_balancing(const CheckContext& ctx);
// checks_power.cpp
CheckResult check_idle_states(const CheckContext& ctx);
CheckResult check_pmqos_resume_latency(const CheckContext& ctx);
CheckResult check_cpufreq_governor(const CheckContext& ctx);
CheckResult check_cpufreq_range(const CheckContext& ctx);
CheckResult check_mce_polling(const CheckContext& ctx);
// checks_rates.cpp
CheckResult check_local_timer_rate(const CheckContext& ctx);
CheckResult check_other_irq_rate(const CheckContext& ctx);
CheckResult check_softirq_rate(const CheckContext& ctx);
CheckResult check_kernel_time(const CheckContext& ctx);
CheckResult check_steal_time(const CheckContext& ctx);

}  // namespace qc::monitor::tunables
