#include "checks_tunables/checks_tunables.hpp"

#include "check/check_registry.hpp"

namespace qc::monitor {

std::vector<CheckDef> tunable_and_rate_checks() {
    using namespace tunables;
    return {
        {"watchdog.soft", "the soft lockup watchdog stays off the isolated CPUs",
         check_watchdog_soft},
        {"watchdog.nmi", "the NMI (hard lockup) watchdog stays off the isolated CPUs",
         check_watchdog_nmi},
        {"clocksource.current", "the clocksource is stable and readable without a syscall",
         check_clocksource},
        {"vmstat.interval", "vm.stat_interval keeps vmstat work rare", check_vmstat_interval},
        {"timer.migration", "unpinned timers leave the isolated CPUs", check_timer_migration},
        {"mm.thp", "transparent hugepages do not collapse or compact behind the workers",
         check_thp},
        {"mm.ksm", "KSM does not merge pages", check_ksm},
        {"mm.numa_balancing", "automatic NUMA balancing is off", check_numa_balancing},
        {"sched.rt_throttling", "SCHED_FIFO workers are not throttled", check_rt_throttling},
        {"idle.states", "isolated CPUs have no deep idle state enabled", check_idle_states},
        {"pmqos.resume_latency", "isolated CPUs have a PM QoS resume-latency limit",
         check_pmqos_resume_latency},
        {"cpufreq.governor", "isolated CPUs use the performance governor", check_cpufreq_governor},
        {"cpufreq.range", "isolated CPUs run at one fixed frequency", check_cpufreq_range},
        {"mce.polling", "machine-check polling does not fire on isolated CPUs", check_mce_polling},
        {"rates.local_timer", "the tick is stopped on isolated CPUs", check_local_timer_rate},
        {"rates.other_irqs", "no device IRQs or IPIs reach isolated CPUs", check_other_irq_rate},
        {"rates.softirqs", "no softirqs run on isolated CPUs", check_softirq_rate},
        {"rates.kernel_time", "isolated CPUs spend almost no time in the kernel",
         check_kernel_time},
        {"rates.steal", "the hypervisor does not steal time from isolated CPUs", check_steal_time},
    };
}

}  // namespace qc::monitor
