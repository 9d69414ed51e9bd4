// Kernel entries of soft-isolated threads that seccomp cannot see, found by a
// housekeeping thread that polls /proc: involuntary context switches
// (preemption), the CPU the thread last ran on (migration), its allowed CPUs
// (affinity change), and the interrupt counters of its CPU (irq). While the
// thread is isolated a change is a break handled per its mode, exactly as the
// seccomp supervisor handles a syscall (MonitoredThread::on_entry); every
// change is also kept as an observation for reports.
//
// Interrupts: without nohz_full (this project's stock test machines) the
// local timer of every CPU ticks at HZ, so in signal mode every poll would
// break isolation. IRQ breaks are therefore automatic by default: they break
// isolation only when the thread's CPU is in the kernel's nohz_full set, and
// are reported only (observation, no break) otherwise.
#pragma once

#include <sys/types.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "quietcore/core/cancellation.hpp"
#include "quietcore/isolation/break_record.hpp"
#include "quietcore/isolation/soft_monitored_thread.hpp"
#include "quietcore/isolation/soft_proc_parse.hpp"

namespace qc::isolation {

enum class IrqBreaks {
    automatic,        // break only on nohz_full CPUs, else report only
    report_only,      // never break, always observe
    break_isolation,  // any interrupt on the CPU breaks isolation
};

struct PollerOptions {
    std::chrono::milliseconds interval{10};
    IrqBreaks irq_breaks = IrqBreaks::automatic;
    bool softirqs = false;  // also observe /proc/softirqs (never a break)
    std::string proc_root = "/proc";
    std::string sysfs_root = "/sys";  // for nohz_full
    std::size_t max_observations = 4096;
    std::string thread_name = "qc-entry-poll";
};

// One change the poller saw. For irq, `source` is the row name ("LOC", "24",
// "TIMER" for a softirq) and `delta` how much it grew.
struct EntryObservation {
    std::uint64_t time_ns = 0;
    pid_t tid = 0;
    BreakCause cause = BreakCause::none;
    int cpu = -1;
    std::string source;
    std::uint64_t delta = 0;
    bool softirq = false;
    bool broke_isolation = false;
};

// IRQ row names that are not numbers ("LOC", "IPI0") travel in a BreakRecord
// as irq = kNamedIrq and their first four characters packed into `vector`.
inline constexpr std::uint32_t kNamedIrq = 0xffffffffu;
std::uint32_t pack_irq_name(std::string_view name) noexcept;
std::string unpack_irq_name(std::uint32_t packed);

class EntryPoller {
  public:
    // Reads nothing yet. Throws qc::core::Error if irq_breaks is automatic
    // and the nohz_full set cannot be read.
    explicit EntryPoller(PollerOptions options = {});
    ~EntryPoller();
    EntryPoller(const EntryPoller&) = delete;
    EntryPoller& operator=(const EntryPoller&) = delete;

    // Start/stop the polling thread (poll_once() every interval). Idempotent.
    void start();
    void stop();

    // Watch a thread on `cpu` (its pinned CPU): takes the baseline now.
    // Throws qc::core::Error when its /proc files cannot be read.
    void watch(std::shared_ptr<MonitoredThread> thread, int cpu);
    // One poll of every watched thread; threads that are gone are dropped.
    void poll_once();

    std::size_t watched() const;
    std::vector<EntryObservation> observations() const;
    // Observations by cause, including those beyond max_observations.
    std::uint64_t observed(BreakCause cause) const;
    bool irq_breaks_isolation(int cpu) const noexcept;
    std::uint64_t read_errors() const;

  private:
    struct Watched;
    void poll_thread(Watched& w, const InterruptTable* irqs, const InterruptTable* softirqs,
                     std::uint64_t now);
    void observe(Watched& w, EntryObservation obs);

    PollerOptions options_;
    core::CpuSet nohz_full_;
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<Watched>> watched_;
    std::vector<EntryObservation> observations_;
    std::array<std::uint64_t, kBreakCauseCount> observed_{};
    std::uint64_t read_errors_ = 0;
    core::CancellationSource stop_;
    std::thread thread_;
};

}  // namespace qc::isolation
