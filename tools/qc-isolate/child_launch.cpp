#include "child_launch.hpp"

#include <errno.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <new>
#include <sstream>
#include <system_error>

#include "quietcore/core/signals.hpp"
#include "quietcore/isolation/seccomp_monitor.hpp"

extern char** environ;

namespace qc::isolate {

const char* describe(ChildStep step) {
    switch (step) {
        case kNoFailure:
            return "nothing";
        case kPin:
            return "pinning to the CPU";
        case kFilter:
            return "installing the seccomp filter";
        case kExec:
            return "executing the command";
    }
    return "?";
}

std::string resolve_command(const std::string& name) {
    if (name.find('/') != std::string::npos) {
        return ::access(name.c_str(), X_OK) == 0 ? name : std::string{};
    }
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return {};
}

namespace {

[[noreturn]] void child_fail(ChildHandoff& handoff, ChildStep step, int error) {
    handoff.error.store(error);
    handoff.failed_step.store(step);
    if (handoff.listener_fd.load() == isolation::kListenerPending) {
        handoff.listener_fd.store(-error);  // the supervisor stops waiting
    }
    ::_exit(127);
}

}  // namespace

LaunchedChild launch(const std::string& path, const std::vector<std::string>& argv, unsigned cpu,
                     const isolation::SeccompFilter& filter) {
    void* page = ::mmap(nullptr, sizeof(ChildHandoff), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        throw std::system_error(errno, std::generic_category(), "mmap of the child hand-off page");
    }
    auto* raw = new (page) ChildHandoff{};
    raw->listener_fd.store(isolation::kListenerPending);
    std::shared_ptr<ChildHandoff> handoff(raw, [](ChildHandoff* p) {
        p->~ChildHandoff();
        ::munmap(static_cast<void*>(p), sizeof(ChildHandoff));
    });

    // Everything the child needs, built before fork.
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);

    const pid_t pid = ::fork();
    if (pid < 0) {
        throw std::system_error(errno, std::generic_category(), "fork");
    }
    if (pid == 0) {
        if (::sched_setaffinity(0, sizeof set, &set) != 0) {
            child_fail(*raw, kPin, errno);
        }
        core::unblock_all_signals();
        const isolation::FilterInstallResult r = filter.install();
        if (r.listener_fd < 0) {
            child_fail(*raw, kFilter, r.error);
        }
        raw->listener_fd.store(r.listener_fd);
        ::execve(path.c_str(), args.data(), environ);
        child_fail(*raw, kExec, errno);
    }
    return LaunchedChild{pid, std::move(handoff)};
}

}  // namespace qc::isolate
