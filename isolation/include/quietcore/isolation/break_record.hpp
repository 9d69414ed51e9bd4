// Why isolation broke, in one trivially copyable record that both back ends
// fill in, that a STRICT signal handler can store without locking, and that
// travels through the core event ring (DESIGN.md "Isolation state machine").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace qc::isolation {

enum class BreakCause : std::uint8_t {
    none,
    syscall,          // syscall_nr, args[]
    page_fault,       // address
    exception,        // vector
    irq,              // irq, vector
    ipi,              // ipi kind in vector, source_cpu
    signal,           // signal
    preemption,       // involuntary context switch
    migration,        // moved to another CPU
    affinity_change,  // allowed CPUs no longer exactly one isolated CPU
    unknown,
};
inline constexpr std::size_t kBreakCauseCount = static_cast<std::size_t>(BreakCause::unknown) + 1;

std::string_view to_string(BreakCause cause) noexcept;

struct BreakRecord {
    BreakCause cause = BreakCause::none;
    std::int32_t cpu = -1;           // where it happened, -1 unknown
    std::uint64_t timestamp_ns = 0;  // CLOCK_MONOTONIC
    std::int32_t syscall_nr = -1;    // syscall
    std::uint64_t args[6] = {};      // syscall arguments, when known
    std::uint64_t address = 0;       // page fault address
    std::uint32_t irq = 0;           // irq number
    std::uint32_t vector = 0;        // hw vector / exception class / IPI kind
    std::int32_t source_cpu = -1;    // IPI sender, -1 unknown
    std::int32_t signal = 0;         // signal
};
static_assert(std::is_trivially_copyable_v<BreakRecord>);

}  // namespace qc::isolation
