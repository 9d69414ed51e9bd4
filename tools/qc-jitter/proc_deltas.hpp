// Per-CPU deltas of /proc/interrupts and /proc/softirqs between two
// snapshots, and a thread's involuntary context switches: who took time from
// the measured CPUs. Housekeeping only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

#include "quietcore/isolation/soft_proc_parse.hpp"

namespace qc::jitter {

struct ProcSnapshot {
    isolation::InterruptTable interrupts;
    isolation::InterruptTable softirqs;
};

ProcSnapshot take_proc_snapshot();

// Rows whose count on `cpu` grew, by row name. Rows or CPUs missing from
// either table are skipped.
std::map<std::string, std::uint64_t> cpu_deltas(const isolation::InterruptTable& before,
                                                const isolation::InterruptTable& after,
                                                unsigned cpu);

// nonvoluntary_ctxt_switches of /proc/self/task/<tid>/status.
std::uint64_t involuntary_switches(pid_t tid);

}  // namespace qc::jitter
