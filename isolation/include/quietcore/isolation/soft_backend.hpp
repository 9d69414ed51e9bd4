// Soft isolation: the Backend for stock kernels (DESIGN.md "Two back ends").
// enter() checks the thread is pinned to exactly one CPU, locks all memory,
// pre-faults the stack, and on a thread's first entry installs the seccomp
// filter (soft_filter.hpp) whose notifications `supervisor` receives and
// registers the thread with `poller` (optional) for the other kernel entries.
// From then on entering and leaving only flip an atomic.
//
// Modes: off without oneshot installs no filter (nothing is reported); log
// records every syscall and stays isolated; signal ends isolation at the
// first kernel entry, posts the cause to the mailbox and sends the signal
// after the syscall was let through; kill sends SIGKILL instead of letting it
// through. oneshot ends isolation at the first entry without a signal (signal
// and kill modes still post the cause).
//
// The supervisor runs in this process, so a monitored thread must not hold a
// lock across a syscall that the supervisor thread needs (glibc's malloc
// gives each thread its own arena while there are fewer than 8 per core).
#pragma once

#include <cstddef>
#include <memory>

#include "quietcore/isolation/backend.hpp"
#include "quietcore/isolation/entry_poller.hpp"
#include "quietcore/isolation/seccomp_monitor.hpp"
#include "quietcore/isolation/soft_filter.hpp"

namespace qc::isolation {

struct SoftBackendOptions {
    FilterOptions filter{};
    // Stack below the caller touched by enter(), so steady state takes no
    // stack page fault (the main thread's stack grows on demand).
    std::size_t stack_prefault_bytes = 64 * 1024;
};

// The supervisor (and poller) must outlive every thread that entered through
// the back end. Throws qc::core::Error when the filter cannot be built.
std::unique_ptr<Backend> make_soft_backend(SoftSupervisor& supervisor,
                                           EntryPoller* poller = nullptr,
                                           SoftBackendOptions options = {});

// The calling thread's record, null before its first filtered entry.
std::shared_ptr<MonitoredThread> current_soft_thread() noexcept;

}  // namespace qc::isolation
