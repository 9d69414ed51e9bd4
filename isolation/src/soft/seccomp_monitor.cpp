#include "quietcore/isolation/seccomp_monitor.hpp"

#include <errno.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <system_error>

#include "quietcore/core/error.hpp"
#include "quietcore/core/monotonic_clock.hpp"
#include "quietcore/core/signals.hpp"
#include "quietcore/core/text_file.hpp"
#include "quietcore/isolation/soft_proc_parse.hpp"

namespace qc::isolation {

using core::monotonic_ns;

namespace {

[[noreturn]] void throw_errno(const char* what) {
    throw std::system_error(errno, std::generic_category(),
                            std::string("seccomp supervisor: ") + what);
}

pid_t tgid_of(pid_t tid) {
    try {
        return static_cast<pid_t>(parse_status_number(
            core::read_text_file("/proc/" + std::to_string(tid) + "/status"), "Tgid"));
    } catch (const core::Error&) {
        return 0;  // gone already: it cannot be signalled anyway
    }
}

}  // namespace

struct SoftSupervisor::Listener {
    int fd = -1;
    ListenerDefaults defaults;
    std::vector<std::shared_ptr<MonitoredThread>> threads;  // seen through this listener
};

struct SoftSupervisor::Pending {
    std::shared_ptr<const std::atomic<int>> published_fd;
    pid_t owner = 0;
    std::shared_ptr<MonitoredThread> first;
    ListenerDefaults defaults;
};

SoftSupervisor::SoftSupervisor(SupervisorOptions options) : options_(std::move(options)) {
    seccomp_notif_sizes sizes{};
    if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) {
        throw_errno("SECCOMP_GET_NOTIF_SIZES (no seccomp user notification in this kernel?)");
    }
    if (sizes.seccomp_notif > sizeof(seccomp_notif) ||
        sizes.seccomp_notif_resp > sizeof(seccomp_notif_resp)) {
        // RECV would copy more than this build's struct holds.
        throw core::Error("seccomp supervisor: kernel notification structs (" +
                          std::to_string(sizes.seccomp_notif) + "/" +
                          std::to_string(sizes.seccomp_notif_resp) +
                          " bytes) are larger than this build's");
    }
    notif_size_ = sizes.seccomp_notif;

    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) {
        throw_errno("epoll_create1");
    }
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
        const int saved = errno;
        ::close(epoll_fd_);
        errno = saved;
        throw_errno("eventfd");
    }
    for (int fd : {stop_.wait_fd(), wake_fd_}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
            const int saved = errno;
            ::close(wake_fd_);
            ::close(epoll_fd_);
            errno = saved;
            throw_errno("epoll_ctl(ADD)");
        }
    }
    thread_ = std::thread([this] { run(); });
}

SoftSupervisor::~SoftSupervisor() {
    stop();
    ::close(wake_fd_);
    ::close(epoll_fd_);
}

void SoftSupervisor::stop() {
    stop_.request();
    if (thread_.joinable()) {
        thread_.join();
    }
    std::lock_guard lock(mutex_);
    for (auto& [fd, listener] : listeners_) {
        ::close(fd);
    }
    listeners_.clear();
    pending_.clear();
}

std::shared_ptr<MonitoredThread> SoftSupervisor::watch(pid_t tgid, pid_t tid) {
    std::lock_guard lock(mutex_);
    auto& slot = live_[tid];
    if (!slot) {
        slot = std::make_shared<MonitoredThread>(tgid, tid, options_.max_events_per_thread);
        all_.push_back(slot);
    }
    return slot;
}

std::shared_ptr<MonitoredThread> SoftSupervisor::find(pid_t tid) const {
    std::lock_guard lock(mutex_);
    const auto it = live_.find(tid);
    if (it != live_.end()) {
        return it->second;
    }
    // The latest finished one with that tid.
    for (auto it2 = all_.rbegin(); it2 != all_.rend(); ++it2) {
        if ((*it2)->tid() == tid) {
            return *it2;
        }
    }
    return nullptr;
}

std::vector<std::shared_ptr<MonitoredThread>> SoftSupervisor::threads() const {
    std::lock_guard lock(mutex_);
    return all_;
}

void SoftSupervisor::adopt_listener(std::shared_ptr<const std::atomic<int>> published_fd,
                                    pid_t owner, std::shared_ptr<MonitoredThread> first,
                                    ListenerDefaults defaults) {
    {
        std::lock_guard lock(mutex_);
        pending_.push_back(Pending{std::move(published_fd), owner, std::move(first), defaults});
    }
    const std::uint64_t one = 1;
    // The supervisor switches to 1 ms polling; a failed write (counter full) still woke it.
    [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

std::shared_ptr<MonitoredThread> SoftSupervisor::monitor_current_thread(
    const SeccompFilter& filter, const SoftPolicy& policy, ListenerDefaults defaults,
    FilterInstallResult* installed) {
    auto thread = watch(::getpid(), ::gettid());
    thread->set_policy(policy);
    auto published = std::make_shared<std::atomic<int>>(kListenerPending);
    adopt_listener(published, 0, thread, defaults);

    const FilterInstallResult result = filter.install();
    // Until the supervisor has the fd this thread can make no syscall: one store.
    published->store(result.listener_fd >= 0 ? result.listener_fd : -result.error,
                     std::memory_order_release);
    if (installed != nullptr) {
        *installed = result;
    }
    if (result.listener_fd < 0) {
        throw IsolationError(result.error, std::string("soft isolation: installing the seccomp "
                                                       "filter failed: ") +
                                               std::strerror(result.error));
    }
    return thread;
}

std::shared_ptr<std::atomic<int>> make_shared_listener_slot() {
    void* page = ::mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        throw_errno("mmap of a shared listener slot");
    }
    static_assert(std::atomic<int>::is_always_lock_free, "shared between processes");
    auto* slot = new (page) std::atomic<int>(kListenerPending);
    return std::shared_ptr<std::atomic<int>>(slot, [](std::atomic<int>* p) {
        ::munmap(static_cast<void*>(p), sizeof(std::atomic<int>));
    });
}

SupervisorStats SoftSupervisor::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

std::size_t SoftSupervisor::open_listeners() const {
    std::lock_guard lock(mutex_);
    return listeners_.size();
}

void SoftSupervisor::adopt_published() {
    std::lock_guard lock(mutex_);
    for (auto it = pending_.begin(); it != pending_.end();) {
        const int published = it->published_fd->load(std::memory_order_acquire);
        if (published == kListenerPending) {
            ++it;
            continue;
        }
        int fd = -1;
        if (published >= 0 && it->owner == 0) {
            fd = published;  // same fd table
        } else if (published >= 0) {
            const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, it->owner, 0));
            if (pidfd >= 0) {
                fd = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, published, 0));
                ::close(pidfd);
            }
        }
        if (fd < 0) {
            ++stats_.adoptions_failed;
            it = pending_.erase(it);
            continue;
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
            ++stats_.adoptions_failed;
            ::close(fd);
            it = pending_.erase(it);
            continue;
        }
        auto listener = std::make_unique<Listener>();
        listener->fd = fd;
        listener->defaults = it->defaults;
        if (it->first) {
            listener->threads.push_back(it->first);
        }
        listeners_[fd] = std::move(listener);
        ++stats_.listeners_added;
        it = pending_.erase(it);
    }
}

std::shared_ptr<MonitoredThread> SoftSupervisor::thread_for(pid_t tid, Listener& listener) {
    const auto it = live_.find(tid);
    if (it != live_.end()) {
        if (std::find(listener.threads.begin(), listener.threads.end(), it->second) ==
            listener.threads.end()) {
            listener.threads.push_back(it->second);
        }
        return it->second;
    }
    // A thread or process created by a monitored one: it inherited the filter.
    auto thread =
        std::make_shared<MonitoredThread>(tgid_of(tid), tid, options_.max_events_per_thread);
    thread->set_policy(listener.defaults.policy);
    thread->set_isolated(listener.defaults.isolated);
    live_[tid] = thread;
    all_.push_back(thread);
    listener.threads.push_back(thread);
    return thread;
}

void SoftSupervisor::handle_notification(Listener& listener) {
    // RECV refuses a buffer that is not zeroed.
    alignas(seccomp_notif) unsigned char buffer[sizeof(seccomp_notif)];
    std::memset(buffer, 0, sizeof buffer);
    auto* notif = reinterpret_cast<seccomp_notif*>(buffer);
    if (::ioctl(listener.fd, SECCOMP_IOCTL_NOTIF_RECV, notif) != 0) {
        std::lock_guard lock(mutex_);
        if (errno == ENOENT) {
            ++stats_.recv_enoent;  // the thread was interrupted before we got to it
        } else if (errno != EINTR) {
            ++stats_.errors;
        }
        return;
    }

    SyscallEvent event;
    event.time_ns = monotonic_ns();
    event.tid = static_cast<pid_t>(notif->pid);
    event.arch = notif->data.arch;
    event.nr = notif->data.nr;
    std::copy(std::begin(notif->data.args), std::end(notif->data.args), event.args);

    std::shared_ptr<MonitoredThread> thread;
    {
        std::lock_guard lock(mutex_);
        thread = thread_for(event.tid, listener);
        ++stats_.notifications;
    }
    event.while_isolated = thread->isolated();

    BreakRecord record;
    record.cause = BreakCause::syscall;
    record.cpu = thread->policy().cpu;
    record.timestamp_ns = event.time_ns;
    record.syscall_nr = event.nr;
    std::copy(std::begin(event.args), std::end(event.args), record.args);
    const BreakAction action = thread->on_entry(record);

    const std::uint64_t steady_after = steady_after_ns_.load(std::memory_order_relaxed);
    thread->record_syscall(event, event.time_ns >= steady_after);
    if (options_.on_notification) {
        options_.on_notification(event);
    }

    if (action == BreakAction::kill) {
        // Never let the call run: the killed thread drops its own notification.
        thread->deliver(action);
        return;
    }
    std::uint64_t id = notif->id;
    if (::ioctl(listener.fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) != 0) {
        // Killed, or signalled without WAIT_KILLABLE_RECV (the call restarts
        // and notifies again): nobody is waiting for this answer.
        std::lock_guard lock(mutex_);
        ++(errno == ENOENT ? stats_.stale : stats_.errors);
    } else {
        seccomp_notif_resp response{};
        response.id = notif->id;
        response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        const int rc = ::ioctl(listener.fd, SECCOMP_IOCTL_NOTIF_SEND, &response);
        const int err = errno;
        std::lock_guard lock(mutex_);
        if (rc == 0) {
            ++stats_.continued;
        } else {
            ++(err == ENOENT ? stats_.send_enoent : stats_.errors);
        }
    }
    // After the answer, so the signal arrives as the call returns instead of
    // interrupting the wait.
    thread->deliver(action);
}

void SoftSupervisor::close_listener(int fd) {
    std::lock_guard lock(mutex_);
    const auto it = listeners_.find(fd);
    if (it == listeners_.end()) {
        return;
    }
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    for (const auto& thread : it->second->threads) {
        thread->mark_finished();
        const auto live = live_.find(thread->tid());
        if (live != live_.end() && live->second == thread) {
            live_.erase(live);
        }
    }
    listeners_.erase(it);
    ++stats_.listeners_closed;
}

void SoftSupervisor::run() noexcept {
    // Process-directed signals go to the signal thread, never here.
    sigset_t all = core::async_signal_set();
    ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
    ::pthread_setname_np(::pthread_self(), options_.thread_name.substr(0, 15).c_str());

    constexpr int kMaxEvents = 16;
    epoll_event events[kMaxEvents];
    while (!stop_.stop_requested()) {
        bool pending;
        {
            std::lock_guard lock(mutex_);
            pending = !pending_.empty();
        }
        const int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, pending ? 1 : -1);
        if (n < 0 && errno != EINTR) {
            std::lock_guard lock(mutex_);
            ++stats_.errors;
            continue;
        }
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == stop_.wait_fd()) {
                return;
            }
            if (fd == wake_fd_) {
                std::uint64_t count;
                [[maybe_unused]] const ssize_t r = ::read(wake_fd_, &count, sizeof count);
                continue;
            }
            Listener* listener;
            {
                std::lock_guard lock(mutex_);
                const auto it = listeners_.find(fd);
                listener = it == listeners_.end() ? nullptr : it->second.get();
            }
            if (listener == nullptr) {
                continue;
            }
            if (events[i].events & EPOLLIN) {
                handle_notification(*listener);
            } else if (events[i].events & (EPOLLHUP | EPOLLERR)) {
                close_listener(fd);
            }
        }
        adopt_published();
    }
}

}  // namespace qc::isolation
