#include "quietcore/isolation/soft_backend.hpp"

#include <alloca.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <system_error>

#include "quietcore/core/numa_memory.hpp"
#include "quietcore/core/thread.hpp"
#include "quietcore/isolation/strict_signal.hpp"

namespace qc::isolation {

namespace {

thread_local std::shared_ptr<MonitoredThread> t_thread;
thread_local const SoftSupervisor* t_supervisor = nullptr;

// Touch `bytes` of stack below the caller, bounded by what the stack has left.
[[gnu::noinline]] void prefault_stack(std::size_t bytes) {
    pthread_attr_t attr;
    if (::pthread_getattr_np(::pthread_self(), &attr) == 0) {
        void* low = nullptr;
        std::size_t size = 0;
        ::pthread_attr_getstack(&attr, &low, &size);
        ::pthread_attr_destroy(&attr);
        const auto here = reinterpret_cast<std::uintptr_t>(&attr);
        const auto bottom = reinterpret_cast<std::uintptr_t>(low);
        constexpr std::size_t kReserve = 32 * 1024;  // guard, this frame, signal frames
        const std::size_t room = here > bottom + kReserve ? here - bottom - kReserve : 0;
        bytes = std::min(bytes, room);
    }
    if (bytes == 0) {
        return;
    }
    auto* stack = static_cast<volatile char*>(alloca(bytes));
    for (std::size_t i = 0; i < bytes; i += 4096) {
        stack[i] = 0;
    }
    stack[bytes - 1] = 0;
}

class SoftBackend final : public Backend {
  public:
    SoftBackend(SoftSupervisor& supervisor, EntryPoller* poller, SoftBackendOptions options)
        : supervisor_(supervisor), poller_(poller), options_(options), filter_(options.filter) {}

    std::string_view name() const noexcept override { return "soft"; }

    void enter(const IsolationRequest& request, BreakMailbox& mailbox) override {
        const core::CpuSet allowed = core::allowed_cpus();
        if (allowed.count() != 1) {
            throw IsolationError(EINVAL,
                                 "soft isolation: the thread must be pinned to exactly one CPU, "
                                 "but it may run on CPUs " +
                                     allowed.to_list());
        }
        const int cpu = allowed.first();
        try {
            // Once per process: a re-entry after every preemption must not walk
            // the whole address space again (DPDK's --no-huge heap is 512 MiB).
            core::lock_all_memory_once();
        } catch (const std::system_error& e) {
            throw IsolationError(e.code().value(), std::string("soft isolation: ") + e.what());
        }
        prefault_stack(options_.stack_prefault_bytes);

        const SoftPolicy policy{request.strict, request.signal, request.oneshot, &mailbox, cpu};
        // Before the filter and before `isolated`: these are syscalls.
        if (request.strict == StrictMode::signal) {
            attach_strict_signal(request.signal, mailbox);
        }
        if (!t_thread) {
            if (request.strict == StrictMode::off && !request.oneshot) {
                return;  // nothing to report: no filter, no supervision
            }
            install(policy, cpu);
        } else if (t_supervisor != &supervisor_) {
            throw IsolationError(EINVAL,
                                 "soft isolation: this thread is already monitored by another "
                                 "supervisor");
        }
        t_thread->set_policy(policy);
        t_thread->set_isolated(true);
    }

    void leave() noexcept override {
        if (t_thread) {
            t_thread->set_isolated(false);
        }
        detach_strict_signal();  // a syscall: after `isolated` is off
    }

  private:
    void install(const SoftPolicy& policy, int cpu) {
        // Threads this one creates inherit the filter: recorded, never broken.
        ListenerDefaults defaults;
        defaults.policy.strict = StrictMode::log;
        auto thread = supervisor_.monitor_current_thread(filter_, policy, defaults);
        t_thread = thread;
        t_supervisor = &supervisor_;
        if (poller_ != nullptr) {
            try {
                poller_->watch(thread, cpu);
            } catch (const core::Error& e) {
                throw IsolationError(EIO, std::string("soft isolation: entry poller: ") + e.what());
            }
        }
    }

    SoftSupervisor& supervisor_;
    EntryPoller* poller_;
    SoftBackendOptions options_;
    SeccompFilter filter_;
};

}  // namespace

std::unique_ptr<Backend> make_soft_backend(SoftSupervisor& supervisor, EntryPoller* poller,
                                           SoftBackendOptions options) {
    return std::make_unique<SoftBackend>(supervisor, poller, options);
}

std::shared_ptr<MonitoredThread> current_soft_thread() noexcept {
    return t_thread;
}

}  // namespace qc::isolation
