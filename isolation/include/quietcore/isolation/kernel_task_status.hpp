// /proc/<pid>/task/<tid>/task_isolation of the kernel patch: whether a thread
// is isolated now and its breaks by cause (kernel/README.md). Read by the
// housekeeping side (qc-jitter --isolate, qc-monitor), never by the isolated
// thread itself: reading a file is a syscall.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "quietcore/isolation/break_record.hpp"

namespace qc::isolation {

struct KernelTaskStatus {
    bool isolated = false;
    unsigned flags = 0;
    int signal = 0;
    std::uint64_t breaks = 0;
    std::array<std::uint64_t, kBreakCauseCount> breaks_by_cause{};  // index: BreakCause
    std::uint64_t quiesce_eagain = 0;

    std::uint64_t breaks_of(BreakCause cause) const noexcept {
        return breaks_by_cause[static_cast<std::size_t>(cause)];
    }
};

// Parses the file's text; `source` names it in errors. Throws
// core::ParseError naming the line for a malformed line, an unknown key or a
// missing one. Keys this build does not know are errors, so a changed kernel
// ABI is noticed rather than misread.
KernelTaskStatus parse_kernel_task_status(std::string_view text, const std::string& source);

// Reads /proc/<pid>/task/<tid>/task_isolation (under `proc_root`); nullopt
// when the file does not exist (a kernel without the patch, or a gone thread).
std::optional<KernelTaskStatus> read_kernel_task_status(pid_t pid, pid_t tid,
                                                        const std::string& proc_root = "/proc");

}  // namespace qc::isolation
