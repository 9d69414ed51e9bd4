// The soft back end's syscall supervisor (DESIGN.md "Two back ends", seeds
// 000 and 001): one housekeeping thread that waits in epoll on the listener
// fd of every monitored thread's seccomp filter, receives each notification,
// records it, decides per the thread's policy (MonitoredThread::on_entry),
// checks SECCOMP_IOCTL_NOTIF_ID_VALID and lets the syscall continue
// (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
//
// A notification whose thread was killed or (without WAIT_KILLABLE_RECV)
// signalled while held is counted as stale and never answered; an answer the
// kernel refuses with ENOENT is counted too. A listener whose filter has no
// users left (EPOLLHUP) is closed and its threads are marked finished.
//
// Handing over a listener: a thread that has just installed its filter can
// make no syscall until a supervisor listens (its next syscall waits for an
// answer). So the owner announces the listener first with adopt_listener(),
// which returns at once, then installs the filter and publishes the fd number
// with one atomic store; the supervisor picks it up (polling every
// millisecond while an announcement is pending). From another process (a
// forked child, qc-isolate) the published number is in shared memory and the
// supervisor duplicates the fd with pidfd_getfd(2).
//
// Stop the supervisor only after the monitored threads have exited: once the
// last listener fd of a filter is closed, the kernel fails their syscalls
// with ENOSYS.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "quietcore/core/cancellation.hpp"
#include "quietcore/isolation/soft_filter.hpp"
#include "quietcore/isolation/soft_monitored_thread.hpp"

namespace qc::isolation {

// Value of a published listener slot before the owner has stored the fd.
inline constexpr int kListenerPending = INT_MIN;

struct SupervisorOptions {
    std::string thread_name = "qc-seccomp";
    std::size_t max_events_per_thread = 256;
    // Runs on the supervisor thread for every notification, after it has been
    // recorded and before it is checked and answered. For diagnostics and for
    // tests that hold a notification (the monitored thread waits meanwhile).
    std::function<void(const SyscallEvent&)> on_notification;
};

// Policy for threads that first show up through a listener's notifications
// (threads and processes created by a monitored thread inherit its filter).
struct ListenerDefaults {
    SoftPolicy policy{};
    bool isolated = false;
};

struct SupervisorStats {
    std::uint64_t notifications = 0;  // received
    std::uint64_t continued = 0;      // answered with CONTINUE
    std::uint64_t stale = 0;          // ID_VALID said the notification is gone
    std::uint64_t send_enoent = 0;    // SEND refused: the thread went away meanwhile
    std::uint64_t recv_enoent = 0;    // RECV found none (interrupted before receipt)
    std::uint64_t errors = 0;         // any other failed ioctl
    std::uint64_t listeners_added = 0;
    std::uint64_t listeners_closed = 0;  // POLLHUP: no users left
    std::uint64_t adoptions_failed = 0;  // install failed or pidfd_getfd failed
};

// A published-fd slot in a MAP_SHARED anonymous page, for a child forked
// after this call to store its listener fd into (adopt_listener with the
// child's pid as owner). Throws std::system_error when mmap fails.
std::shared_ptr<std::atomic<int>> make_shared_listener_slot();

class SoftSupervisor {
  public:
    // Starts the supervisor thread. Throws std::system_error (epoll/eventfd)
    // or qc::core::Error (the kernel's notification struct is larger than
    // this build's).
    explicit SoftSupervisor(SupervisorOptions options = {});
    ~SoftSupervisor();
    SoftSupervisor(const SoftSupervisor&) = delete;
    SoftSupervisor& operator=(const SoftSupervisor&) = delete;

    // Stops and joins the thread and closes every listener. Idempotent.
    void stop();

    // The record of thread `tid` of process `tgid`, created if new.
    std::shared_ptr<MonitoredThread> watch(pid_t tgid, pid_t tid);
    std::shared_ptr<MonitoredThread> find(pid_t tid) const;
    // Every thread seen, live and finished, in order of appearance.
    std::vector<std::shared_ptr<MonitoredThread>> threads() const;

    // Announce a listener fd that `owner` (0: this process) will store into
    // *published_fd (kListenerPending until then; a negative errno means the
    // install failed). The supervisor keeps `published_fd` alive until it has
    // read it. `first` (may be null) is the thread that installs the filter.
    void adopt_listener(std::shared_ptr<const std::atomic<int>> published_fd, pid_t owner,
                        std::shared_ptr<MonitoredThread> first, ListenerDefaults defaults = {});

    // On the thread to monitor (which must not be monitored yet): announce,
    // install `filter` on this thread, publish the fd. Returns the thread's
    // record with `policy` set, not isolated. Throws IsolationError with
    // seccomp's errno when the filter cannot be installed. `installed`, when
    // given, receives what install() did (e.g. whether WAIT_KILLABLE_RECV is on).
    std::shared_ptr<MonitoredThread> monitor_current_thread(
        const SeccompFilter& filter, const SoftPolicy& policy, ListenerDefaults defaults = {},
        FilterInstallResult* installed = nullptr);

    // Syscalls received from `time_ns` (CLOCK_MONOTONIC) on count as steady
    // state, earlier ones as start-up. 0 (default): everything is steady.
    void set_steady_after(std::uint64_t time_ns) noexcept {
        steady_after_ns_.store(time_ns, std::memory_order_relaxed);
    }

    SupervisorStats stats() const;
    std::size_t open_listeners() const;

  private:
    struct Listener;
    struct Pending;
    void run() noexcept;
    void adopt_published();
    void handle_notification(Listener& listener);
    void close_listener(int fd);
    std::shared_ptr<MonitoredThread> thread_for(pid_t tid, Listener& listener);

    SupervisorOptions options_;
    std::size_t notif_size_ = 0;  // the kernel's struct seccomp_notif size
    int epoll_fd_ = -1;
    int wake_fd_ = -1;  // eventfd: a new announcement
    core::CancellationSource stop_;
    std::atomic<std::uint64_t> steady_after_ns_{0};

    mutable std::mutex mutex_;  // guards everything below (never taken by workers)
    std::vector<Pending> pending_;
    std::map<int, std::unique_ptr<Listener>> listeners_;  // by fd
    std::map<pid_t, std::shared_ptr<MonitoredThread>> live_;
    std::vector<std::shared_ptr<MonitoredThread>> all_;
    SupervisorStats stats_;

    std::thread thread_;
};

}  // namespace qc::isolation
