// Starting the command under soft isolation: fork; the child pins itself to
// the CPU, restores the default signal mask, installs the seccomp filter,
// publishes its listener fd in a shared page and execs. Between fork and exec
// the child makes raw syscalls only (the parent is multithreaded).
//
// No mlockall in the child: memory locks are dropped at execve(2), so only the
// command itself can lock its memory.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "quietcore/isolation/soft_filter.hpp"

namespace qc::isolate {

// Lives in a MAP_SHARED page, written by the child before exec.
struct ChildHandoff {
    std::atomic<int> listener_fd;  // isolation::kListenerPending until published
    std::atomic<int> error;        // errno of a failed step, 0 if none
    std::atomic<int> failed_step;  // ChildStep
};

enum ChildStep : int { kNoFailure = 0, kPin = 1, kFilter = 2, kExec = 3 };
const char* describe(ChildStep step);

struct LaunchedChild {
    pid_t pid = -1;
    std::shared_ptr<ChildHandoff> handoff;
};

// The path execve() will run: `name` itself when it contains '/', else the
// first executable match in $PATH. Empty when there is none.
std::string resolve_command(const std::string& name);

// Throws std::system_error when mmap or fork fail; failures in the child are
// reported through the handoff and exit status 127.
LaunchedChild launch(const std::string& path, const std::vector<std::string>& argv, unsigned cpu,
                     const isolation::SeccompFilter& filter);

}  // namespace qc::isolate
