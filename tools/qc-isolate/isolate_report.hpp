// What qc-isolate found: the kernel entries of the command, split into the
// start-up window (--settle) and steady state, as text and as JSON.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "quietcore/isolation/seccomp_monitor.hpp"

namespace qc::isolate {

struct EntryCounts {
    std::map<std::string, std::uint64_t> syscalls;  // by name
    std::uint64_t preemptions = 0;                  // involuntary context switches
    std::uint64_t migrations = 0;
    std::uint64_t affinity_changes = 0;
    std::map<std::string, std::uint64_t> interrupts;  // /proc/interrupts row -> count on the CPU
};

struct BreakSummary {
    std::string cause;   // "syscall", "preemption", ...
    std::string detail;  // syscall name, irq name, ...
    double at_ms = 0;    // since the command started
};

struct Report {
    std::vector<std::string> command;
    unsigned cpu = 0;
    std::string strict;
    bool oneshot = false;
    unsigned settle_ms = 0;
    bool irq_breaks = false;  // interrupts on the CPU break isolation (nohz_full CPU)
    double duration_ms = 0;
    std::optional<int> exit_code;    // exited normally
    std::optional<int> term_signal;  // killed by a signal
    int status = 0;                  // qc-isolate's exit status
    EntryCounts startup;
    EntryCounts steady;
    std::optional<BreakSummary> first_break;
    std::vector<pid_t> processes;  // every monitored process/thread id
    isolation::SupervisorStats supervisor;
};

void print_text(const Report& report, std::ostream& out);
nlohmann::json to_json(const Report& report);

}  // namespace qc::isolate
