// Named threads pinned to one CPU, optionally SCHED_FIFO: the shape of every
// isolated worker (DESIGN.md "Two kinds of thread").
//
// The new thread names, pins and (optionally) promotes itself, then reports
// the result back to the creator before it runs the body: set-up failures are
// thrown by the PinnedThread constructor in the caller's thread, and the body
// never runs on the wrong CPU or with the wrong policy.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "quietcore/core/cpu_set.hpp"

namespace qc::core {

// Linux keeps 15 bytes of a thread name (TASK_COMM_LEN 16 with the NUL).
inline constexpr std::size_t kMaxThreadNameLength = 15;

// Throws qc::core::Error naming the name when it is empty, longer than
// kMaxThreadNameLength bytes, or contains '/' or a control character (they
// would make /proc/<pid>/task/<tid>/comm ambiguous).
void check_thread_name(std::string_view name);

// CPUs the kernel has online (/sys/devices/system/cpu/online). Throws.
CpuSet online_cpus();
// CPUs the calling thread may run on (sched_getaffinity). Throws.
CpuSet allowed_cpus();

// Calling-thread set-up; each throws qc::core::Error (validation) or
// std::system_error (the kernel refused) with a message naming the thread
// name/CPU/priority and the reason.
void set_current_thread_name(std::string_view name);
// Pins to exactly `cpu` and checks that the thread now runs there.
void pin_current_thread(unsigned cpu);
// SCHED_FIFO at `priority` (sched_get_priority_min..max, 1..99 on Linux).
// EPERM explains the need for CAP_SYS_NICE or RLIMIT_RTPRIO >= priority.
void set_current_thread_fifo(int priority);
// Valid SCHED_FIFO priorities.
int fifo_priority_min() noexcept;
int fifo_priority_max() noexcept;

struct ThreadConfig {
    std::string name;                  // required, <= 15 bytes
    std::optional<unsigned> cpu;       // pin to exactly this CPU
    std::optional<int> fifo_priority;  // SCHED_FIFO with this priority
};

class PinnedThread {
  public:
    PinnedThread() noexcept = default;
    // Validates the config (Error), starts the thread, waits until it has
    // applied name, CPU and policy, and rethrows its set-up error if any (the
    // body does not run then). Exceptions escaping `body` terminate the
    // program, as with std::thread.
    PinnedThread(ThreadConfig config, std::function<void()> body);
    PinnedThread(PinnedThread&& other) noexcept;
    // Joins the thread this one held before taking over `other`'s.
    PinnedThread& operator=(PinnedThread&& other) noexcept;
    PinnedThread(const PinnedThread&) = delete;
    PinnedThread& operator=(const PinnedThread&) = delete;
    // Joins, so request the body's cancellation before a PinnedThread goes
    // out of scope.
    ~PinnedThread();

    bool joinable() const noexcept { return thread_.joinable(); }
    void join();
    // Kernel thread id (/proc/self/task/<tid>); 0 if no thread.
    pid_t tid() const noexcept { return tid_; }
    const ThreadConfig& config() const noexcept { return config_; }
    std::thread::native_handle_type native_handle() { return thread_.native_handle(); }

  private:
    ThreadConfig config_;
    pid_t tid_ = 0;
    std::thread thread_;
};

}  // namespace qc::core
