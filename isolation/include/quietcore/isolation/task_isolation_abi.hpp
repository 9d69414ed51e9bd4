// Userspace's own copy of the task-isolation prctl ABI (DESIGN.md "Kernel
// ABI"). The kernel patch's uapi header defines the same numbers and layout;
// the kernel back end checks at run time whether the running kernel has them.
#pragma once

#include <cstdint>

namespace qc::isolation::abi {

inline constexpr int kPrSetTaskIsolation = 48;
inline constexpr int kPrGetTaskIsolation = 49;
// arg2 of PR_GET_TASK_ISOLATION: copy the last break record to arg3 (size arg4).
inline constexpr unsigned long kGetBreak = 1;

inline constexpr unsigned kEnable = 1u << 0;   // isolate; re-quiesce on every return
inline constexpr unsigned kStrict = 1u << 1;   // any kernel entry ends isolation + signal
inline constexpr unsigned kOneshot = 1u << 2;  // isolation ends at the next kernel entry
constexpr unsigned set_signal(int sig) {
    return (static_cast<unsigned>(sig) & 0x7f) << 8;
}
constexpr int get_signal(unsigned flags) {
    return static_cast<int>((flags >> 8) & 0x7f);
}

// Causes as the kernel reports them in task_isolation_break::cause.
enum KernelBreakCause : std::uint32_t {
    kCauseNone = 0,
    kCauseSyscall = 1,
    kCausePageFault = 2,
    kCauseException = 3,
    kCauseIrq = 4,
    kCauseIpi = 5,
    kCauseSignal = 6,
    kCausePreemption = 7,
    kCauseMigration = 8,
    kCauseAffinity = 9,
};

// struct task_isolation_break, as copied by PR_GET_TASK_ISOLATION /
// PR_TASK_ISOLATION_GET_BREAK. Fixed-size fields only, so 32- and 64-bit
// layouts agree; `size` lets the kernel and userspace grow it later.
struct TaskIsolationBreak {
    std::uint32_t size;           // bytes the kernel filled in
    std::uint32_t cause;          // KernelBreakCause
    std::int32_t cpu;             // CPU the break happened on
    std::int32_t syscall_nr;      // kCauseSyscall
    std::uint64_t fault_address;  // kCausePageFault
    std::uint32_t irq;            // kCauseIrq: Linux IRQ number
    std::uint32_t vector;         // kCauseIrq/kCauseException: hw vector or ESR class
    std::int32_t source_cpu;      // kCauseIpi: sending CPU, -1 unknown
    std::int32_t signal;          // kCauseSignal: signal number
    std::uint64_t timestamp_ns;   // CLOCK_MONOTONIC at the break
    std::uint64_t count;          // breaks of this task so far
};
static_assert(sizeof(TaskIsolationBreak) == 56);

}  // namespace qc::isolation::abi
