#include "quietcore/core/thread.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <future>
#include <memory>
#include <system_error>
#include <utility>

#include "quietcore/core/error.hpp"
#include "quietcore/core/text_file.hpp"

namespace qc::core {

namespace {

// "thread \"rx-0\"", for messages about the calling thread.
std::string current_thread_label() {
    std::array<char, 16> name{};
    if (pthread_getname_np(pthread_self(), name.data(), name.size()) != 0) {
        return "thread " + std::to_string(::gettid());
    }
    return "thread \"" + std::string(name.data()) + "\"";
}

std::string quoted(std::string_view s) {
    return "\"" + std::string(s) + "\"";
}

// A cpu_set_t big enough for `ncpus` CPUs, freed by the deleter.
struct CpuSetDeleter {
    void operator()(cpu_set_t* p) const noexcept { CPU_FREE(p); }
};
using CpuSetPtr = std::unique_ptr<cpu_set_t, CpuSetDeleter>;

CpuSetPtr alloc_cpu_set(unsigned ncpus) {
    CpuSetPtr set(CPU_ALLOC(ncpus));
    if (!set) {
        throw std::system_error(ENOMEM, std::generic_category(), "CPU_ALLOC");
    }
    CPU_ZERO_S(CPU_ALLOC_SIZE(ncpus), set.get());
    return set;
}

CpuSet to_cpu_set(const cpu_set_t* set, unsigned ncpus) {
    CpuSet out;
    for (unsigned c = 0; c < ncpus; ++c) {
        if (CPU_ISSET_S(c, CPU_ALLOC_SIZE(ncpus), set)) {
            out.add(c);
        }
    }
    return out;
}

rlim_t current_rtprio_limit() {
    rlimit lim{};
    return ::getrlimit(RLIMIT_RTPRIO, &lim) == 0 ? lim.rlim_cur : 0;
}

void check_fifo_priority(int priority, std::string_view label) {
    if (priority < fifo_priority_min() || priority > fifo_priority_max()) {
        throw Error(std::string(label) + ": SCHED_FIFO priority " + std::to_string(priority) +
                    " is out of range " + std::to_string(fifo_priority_min()) + ".." +
                    std::to_string(fifo_priority_max()));
    }
}

}  // namespace

void check_thread_name(std::string_view name) {
    if (name.empty()) {
        throw Error("thread name must not be empty");
    }
    if (name.size() > kMaxThreadNameLength) {
        throw Error("thread name " + quoted(name) + " is " + std::to_string(name.size()) +
                    " bytes; Linux keeps at most " + std::to_string(kMaxThreadNameLength));
    }
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '/') {
            throw Error("thread name " + quoted(name) +
                        " contains '/' or a control character, which /proc cannot show "
                        "unambiguously");
        }
    }
}

CpuSet online_cpus() {
    return CpuSet::parse_list(read_text_file("/sys/devices/system/cpu/online"));
}

CpuSet allowed_cpus() {
    auto set = alloc_cpu_set(CpuSet::kMaxCpus);
    if (::sched_getaffinity(0, CPU_ALLOC_SIZE(CpuSet::kMaxCpus), set.get()) != 0) {
        throw std::system_error(errno, std::generic_category(), "sched_getaffinity");
    }
    return to_cpu_set(set.get(), CpuSet::kMaxCpus);
}

int fifo_priority_min() noexcept {
    return ::sched_get_priority_min(SCHED_FIFO);
}
int fifo_priority_max() noexcept {
    return ::sched_get_priority_max(SCHED_FIFO);
}

void set_current_thread_name(std::string_view name) {
    check_thread_name(name);
    std::string copy(name);
    if (int rc = pthread_setname_np(pthread_self(), copy.c_str()); rc != 0) {
        throw std::system_error(rc, std::generic_category(),
                                "pthread_setname_np(" + quoted(name) + ")");
    }
}

void pin_current_thread(unsigned cpu) {
    const std::string label = current_thread_label();
    const std::string what = label + ": pinning to CPU " + std::to_string(cpu);
    if (cpu >= CpuSet::kMaxCpus) {
        throw Error(what + ": CPU number is beyond the kernel's limit of " +
                    std::to_string(CpuSet::kMaxCpus));
    }
    CpuSet online = online_cpus();
    if (!online.contains(cpu)) {
        throw Error(what + ": CPU is not online (online CPUs: " + online.to_list() + ")");
    }
    auto set = alloc_cpu_set(cpu + 1);
    const std::size_t size = CPU_ALLOC_SIZE(cpu + 1);
    CPU_SET_S(cpu, size, set.get());
    if (int rc = pthread_setaffinity_np(pthread_self(), size, set.get()); rc != 0) {
        if (rc == EINVAL) {
            throw std::system_error(rc, std::generic_category(),
                                    what +
                                        ": CPU is online but not in the set this process may "
                                        "use (cpuset cgroup / container CPU limit)");
        }
        throw std::system_error(rc, std::generic_category(), what + ": pthread_setaffinity_np");
    }
    // The kernel migrates the caller before sched_setaffinity returns; check
    // both the mask and where we run, so a silent failure cannot go unnoticed.
    CpuSet now = allowed_cpus();
    if (!(now == CpuSet{cpu})) {
        throw Error(what + ": affinity reads back as " + now.to_list());
    }
    if (int where = ::sched_getcpu(); where != static_cast<int>(cpu)) {
        throw Error(what + ": still running on CPU " + std::to_string(where));
    }
}

void set_current_thread_fifo(int priority) {
    const std::string label = current_thread_label();
    check_fifo_priority(priority, label);
    sched_param param{};
    param.sched_priority = priority;
    int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
    if (rc == EPERM) {
        throw std::system_error(
            rc, std::generic_category(),
            label + ": SCHED_FIFO priority " + std::to_string(priority) +
                " not permitted: needs CAP_SYS_NICE or RLIMIT_RTPRIO >= " +
                std::to_string(priority) + " (RLIMIT_RTPRIO is " +
                std::to_string(current_rtprio_limit()) +
                "), and under cgroup v1 RT group scheduling a non-zero cpu.rt_runtime_us");
    }
    if (rc != 0) {
        throw std::system_error(
            rc, std::generic_category(),
            label + ": pthread_setschedparam(SCHED_FIFO, " + std::to_string(priority) + ")");
    }
}

PinnedThread::PinnedThread(ThreadConfig config, std::function<void()> body)
    : config_(std::move(config)) {
    // Validate what needs no kernel before a thread exists.
    check_thread_name(config_.name);
    if (config_.fifo_priority) {
        check_fifo_priority(*config_.fifo_priority, "thread " + quoted(config_.name));
    }

    std::promise<pid_t> setup;
    std::future<pid_t> setup_done = setup.get_future();
    thread_ =
        std::thread([cfg = config_, body = std::move(body), setup = std::move(setup)]() mutable {
            try {
                set_current_thread_name(cfg.name);
                if (cfg.cpu) {
                    pin_current_thread(*cfg.cpu);
                }
                if (cfg.fifo_priority) {
                    set_current_thread_fifo(*cfg.fifo_priority);
                }
            } catch (...) {
                setup.set_exception(std::current_exception());
                return;
            }
            setup.set_value(::gettid());
            if (body) {
                body();
            }
        });
    try {
        tid_ = setup_done.get();
    } catch (...) {
        thread_.join();
        throw;
    }
}

PinnedThread::PinnedThread(PinnedThread&& other) noexcept
    : config_(std::move(other.config_)),
      tid_(std::exchange(other.tid_, 0)),
      thread_(std::move(other.thread_)) {}

PinnedThread& PinnedThread::operator=(PinnedThread&& other) noexcept {
    if (this != &other) {
        if (thread_.joinable()) {
            thread_.join();
        }
        config_ = std::move(other.config_);
        tid_ = std::exchange(other.tid_, 0);
        thread_ = std::move(other.thread_);
    }
    return *this;
}

PinnedThread::~PinnedThread() {
    if (thread_.joinable()) {
        thread_.join();
    }
}

void PinnedThread::join() {
    thread_.join();
    tid_ = 0;
}

}  // namespace qc::core
