#include "watch/monitor_runtime.hpp"

#include <errno.h>
#include <pthread.h>
#include <sched.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

#include "check/check_flags.hpp"
#include "quietcore/core/error.hpp"
#include "quietcore/core/text_file.hpp"

namespace qc::monitor {

namespace {

struct CpuSetFree {
    void operator()(cpu_set_t* set) const noexcept { CPU_FREE(set); }
};

constexpr unsigned kMaskCpus = core::CpuSet::kMaxCpus;

}  // namespace

core::CpuSet current_affinity() {
    std::unique_ptr<cpu_set_t, CpuSetFree> mask(CPU_ALLOC(kMaskCpus));
    const std::size_t size = CPU_ALLOC_SIZE(kMaskCpus);
    CPU_ZERO_S(size, mask.get());
    if (sched_getaffinity(0, size, mask.get()) != 0) {
        throw core::Error(std::string("sched_getaffinity: ") + std::strerror(errno));
    }
    core::CpuSet out;
    for (unsigned cpu = 0; cpu < kMaskCpus; ++cpu) {
        if (CPU_ISSET_S(cpu, size, mask.get())) {
            out.add(cpu);
        }
    }
    return out;
}

core::CpuSet pin_to_housekeeping(const core::CpuSet& isolated) {
    const std::string online_text = core::read_text_file("/sys/devices/system/cpu/online");
    const core::CpuSet online = core::CpuSet::parse_list(online_text);
    const core::CpuSet housekeeping = online - isolated;
    if (housekeeping.empty()) {
        throw core::Error("no housekeeping CPU to run on: every online CPU (" + online.to_list() +
                          ") is isolated (" + isolated.to_list() + ")");
    }
    std::unique_ptr<cpu_set_t, CpuSetFree> mask(CPU_ALLOC(kMaskCpus));
    const std::size_t size = CPU_ALLOC_SIZE(kMaskCpus);
    CPU_ZERO_S(size, mask.get());
    for (unsigned cpu : housekeeping.cpus()) {
        CPU_SET_S(cpu, size, mask.get());
    }
    // Only this thread's mask changes; the threads started later inherit it.
    if (sched_setaffinity(0, size, mask.get()) != 0) {
        throw core::Error("cannot pin to the housekeeping CPUs " + housekeeping.to_list() + ": " +
                          std::strerror(errno));
    }
    return current_affinity();
}

StopSignals::StopSignals() {
    sigemptyset(&stop_set_);
    sigaddset(&stop_set_, SIGINT);
    sigaddset(&stop_set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_set_, &old_mask_);
}

StopSignals::~StopSignals() {
    const struct timespec zero {};
    while (sigtimedwait(&stop_set_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

bool StopSignals::wait_until(std::chrono::steady_clock::time_point deadline) {
    if (received_ != 0) {
        return true;
    }
    for (;;) {
        const auto left = deadline - std::chrono::steady_clock::now();
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
        const struct timespec timeout {
            static_cast<time_t>(ns > 0 ? ns / 1000000000 : 0),
                static_cast<long>(ns > 0 ? ns % 1000000000 : 0)
        };
        const int sig = sigtimedwait(&stop_set_, nullptr, &timeout);
        if (sig > 0) {
            received_ = sig;
            return true;
        }
        if (errno == EAGAIN) {
            return false;  // the deadline
        }
        // EINTR: another signal's handler ran; sleep the rest.
    }
}

std::optional<MonitorCpus> prepare_monitor(std::string_view command, const SystemRoot& sys,
                                           const std::optional<std::string>& isolated,
                                           bool require_isolated, std::ostream& err) {
    const std::string who = "qc-monitor " + std::string(command) + ": ";
    if (!sys.is_live()) {
        std::error_code ec;
        if (!std::filesystem::is_directory(sys.root(), ec)) {
            err << who << "--root " << sys.root() << ": no such directory\n";
            return std::nullopt;
        }
    }
    MonitorCpus out;
    try {
        out.ctx = make_check_context(sys, {isolated_cpus(isolated), 0.0});
    } catch (const std::exception& e) {
        err << who << e.what() << '\n';
        return std::nullopt;
    }
    if (require_isolated && !out.ctx.isolated_known) {
        err << who << "no isolated CPUs to watch: none given with --isolated, and "
            << (sys.is_live() ? std::string("the kernel") : "the root " + sys.root())
            << " has none in /sys/devices/system/cpu/isolated or nohz_full (booted without "
               "isolcpus= / nohz_full=); pass --isolated CPUS, e.g. --isolated "
            << (out.ctx.online.count() > 1 ? std::to_string(out.ctx.online.cpus().back())
                                           : std::string("1"))
            << '\n';
        return std::nullopt;
    }
    try {
        out.pinned = pin_to_housekeeping(out.ctx.isolated);
    } catch (const std::exception& e) {
        err << who << e.what() << '\n';
        return std::nullopt;
    }
    return out;
}

}  // namespace qc::monitor
