// The counters `qc-monitor watch` and `serve` sample at every interval: per-CPU
// interrupts by kind (/proc/interrupts), softirqs by kind (/proc/softirqs),
// per-CPU context switches, and the per-thread isolation state of the kernel
// patch (/proc/<pid>/task/<tid>/task_isolation). Reading goes through
// SystemRoot, so the same code reads the live system or a directory tree.
//
// Per-CPU context switches: the kernel exports them in /proc/schedstat
// (field 3 of each "cpuN" line: calls to schedule() on that CPU, which also
// counts the calls that picked the same task again) only with
// CONFIG_SCHEDSTATS; /proc/stat has only the machine-wide "ctxt". Without
// /proc/schedstat the count is an APPROXIMATION from the threads: every
// thread's voluntary + involuntary switches (/proc/<pid>/task/<tid>/status)
// that grew in the interval, added to the CPU the thread last ran on
// (field 39 of .../stat). A thread that moved between CPUs in the interval
// has all its switches put on the last one, the idle task's switches are not
// seen, nor those of threads that started and ended inside the interval.
// For a worker pinned to an isolated CPU the figure is its own switches.
//
// None of these reads interrupts another CPU: /proc/interrupts, softirqs,
// schedstat and stat add up per-CPU counters in memory, and a thread's
// stat / status / task_isolation are read from its task struct (the CPU
// times of nohz_full CPUs come from the vtime seqcount, not from an IPI).
// Reads that WOULD interrupt a CPU, and that the monitor therefore never
// makes: scaling_cur_freq of some cpufreq drivers and /proc/cpuinfo's "cpu
// MHz" on older kernels (an IPI to read APERF/MPERF), /dev/cpu/N/msr,
// perf counters bound to another CPU, and /sys/kernel/debug/sched/debug
// (takes each CPU's runqueue lock).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/system_root.hpp"
#include "quietcore/isolation/kernel_task_status.hpp"
#include "quietcore/isolation/soft_proc_parse.hpp"

namespace qc::monitor {

// Where the per-CPU context switch counts come from.
enum class SwitchSource {
    schedstat,  // /proc/schedstat, schedule() calls per CPU: the kernel's own count
    threads,    // per-thread switch counts put on each thread's last CPU (approximation)
};
std::string_view to_string(SwitchSource source) noexcept;

// One thread of /proc/<pid>/task/<tid>.
struct ThreadSample {
    int pid = 0;
    int tid = 0;
    std::string comm;
    int last_cpu = -1;  // field 39 of stat
    // voluntary_ctxt_switches + nonvoluntary_ctxt_switches; nullopt when
    // status was not read (the CPU counts come from /proc/schedstat).
    std::optional<std::uint64_t> context_switches;
    // The kernel patch's state; nullopt on a kernel without it.
    std::optional<isolation::KernelTaskStatus> task_isolation;
};

struct CounterSnapshot {
    double monotonic_seconds = 0;  // CLOCK_MONOTONIC when read
    double wall_seconds = 0;       // unix time when read
    isolation::InterruptTable interrupts;
    isolation::InterruptTable softirqs;  // no CPUs when /proc/softirqs is missing
    SwitchSource switch_source = SwitchSource::threads;
    std::map<unsigned, std::uint64_t> schedstat_switches;  // by CPU, with schedstat
    std::map<int, ThreadSample> threads;                   // by tid
    bool kernel_task_isolation = false;                    // some thread had a task_isolation file
    // The raw text of the counter files read ("/proc/interrupts", ...), for
    // the health checks' rate samples.
    std::map<std::string, std::string, std::less<>> texts;
    // Lines skipped and files that could not be used, said once per snapshot.
    std::vector<std::string> problems;
};

// "cpuN" lines of /proc/schedstat: CPU -> calls to schedule() (field 3
// after the name). Throws core::ParseError naming the bad line.
std::map<unsigned, std::uint64_t> parse_schedstat(std::string_view text);

// A thread from its stat text (required) and optional status and
// task_isolation texts; `source` names the thread's directory in errors.
// Throws core::ParseError for malformed text.
ThreadSample parse_thread(int pid, int tid, std::string_view stat,
                          std::optional<std::string_view> status,
                          std::optional<std::string_view> task_isolation,
                          const std::string& source);

// Reads snapshots from a SystemRoot. Keeps what it learnt on the first read:
// whether the kernel has /proc/schedstat and the task_isolation files, so
// later reads skip the thread walk when nothing needs it.
class CounterReader {
  public:
    // With keep_proc_stat, /proc/stat's text is kept too (for the health
    // checks' rate samples; nothing else needs it).
    explicit CounterReader(const SystemRoot& sys, bool keep_proc_stat = false)
        : sys_(&sys), keep_proc_stat_(keep_proc_stat) {}

    // Throws core::Error naming the file when /proc/interrupts is missing or
    // has no CPU header (nothing can be watched without it).
    CounterSnapshot read();

  private:
    void read_threads(CounterSnapshot& snap, bool want_switches);

    const SystemRoot* sys_;
    bool keep_proc_stat_ = false;
    bool first_ = true;
    bool walk_threads_ = true;
};

}  // namespace qc::monitor
