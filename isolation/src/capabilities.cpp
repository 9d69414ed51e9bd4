#include "quietcore/isolation/capabilities.hpp"

#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "quietcore/isolation/kernel_backend.hpp"

namespace qc::isolation {
namespace {

long raw_seccomp(unsigned op, unsigned long flags, void* arg) noexcept {
    const int saved = errno;
    long rc = syscall(SYS_seccomp, op, flags, arg);
    if (rc < 0) {
        rc = -errno;
    }
    errno = saved;
    return rc;
}

}  // namespace

std::string_view to_string(BackendKind kind) noexcept {
    return kind == BackendKind::kernel ? "kernel" : "soft";
}

bool seccomp_user_notif_available() noexcept {
    std::uint32_t action = SECCOMP_RET_USER_NOTIF;
    return raw_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

bool seccomp_wait_killable_recv_supported() noexcept {
    // seccomp_set_mode_filter() checks its flags before it reads the filter:
    // an unknown flag gives EINVAL, and WAIT_KILLABLE_RECV without
    // NEW_LISTENER gives EINVAL too. With both flags and a NULL program, a
    // kernel that knows the flag gets as far as copying the program and
    // answers EFAULT; nothing is installed either way. (Checked on 6.18: NULL
    // with flags 0, NEW_LISTENER, NEW_LISTENER|WAIT_KILLABLE_RECV -> EFAULT;
    // an unknown bit such as 1<<30 -> EINVAL.)
    constexpr unsigned long flags =
        SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    return raw_seccomp(SECCOMP_SET_MODE_FILTER, flags, nullptr) == -EFAULT;
}

Capabilities Capabilities::probe(const std::string& sysfs_root) {
    Capabilities caps;
    struct utsname u {};
    caps.kernel_release = uname(&u) == 0 ? u.release : "(unknown)";
    caps.task_isolation_prctl = kernel_task_isolation_present();
    caps.cpus = core::KernelCpuSets::read(sysfs_root);
    caps.seccomp_user_notif = seccomp_user_notif_available();
    caps.seccomp_wait_killable_recv = seccomp_wait_killable_recv_supported();
    return caps;
}

std::vector<std::string> describe(const Capabilities& caps) {
    std::vector<std::string> out;
    const std::string kernel = "Kernel " + caps.kernel_release;
    out.push_back(caps.task_isolation_prctl
                      ? kernel + " has the task-isolation prctl (PR_SET_TASK_ISOLATION 48)."
                      : kernel +
                            " has no task-isolation prctl (PR_GET_TASK_ISOLATION 49 "
                            "answered EINVAL): it runs without the quietcore patch.");
    out.push_back(caps.cpus.isolated.empty()
                      ? "No CPU is isolated from the scheduler (isolcpus= is not set)."
                      : "CPUs " + caps.cpus.isolated.to_list() +
                            " are isolated from the scheduler (isolcpus=).");
    switch (caps.cpus.nohz_full_state) {
        case core::NohzFullState::unsupported:
            out.push_back("The kernel was built without nohz_full support (CONFIG_NO_HZ_FULL).");
            break;
        case core::NohzFullState::off:
            out.push_back("No CPU runs tick-free: nohz_full= was not given at boot.");
            break;
        case core::NohzFullState::on:
            out.push_back("CPUs " + caps.cpus.nohz_full.to_list() + " run tick-free (nohz_full=).");
            break;
    }
    out.push_back(caps.seccomp_user_notif
                      ? "seccomp user notification is available, so syscalls of a soft-isolated "
                        "thread can be reported."
                      : "seccomp user notification is not available, so soft isolation cannot "
                        "report syscalls.");
    out.push_back(caps.seccomp_wait_killable_recv
                      ? "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is supported: a received "
                        "notification is only interrupted by a fatal signal."
                      : "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported: a signal may "
                        "interrupt a thread while its notification is held.");
    out.push_back(caps.backend() == BackendKind::kernel
                      ? "The kernel back end is used."
                      : "The soft back end is used, because the kernel has no task isolation.");
    return out;
}

void to_json(nlohmann::json& out, const Capabilities& caps) {
    nlohmann::json cpus;
    core::to_json(cpus, caps.cpus);
    out = nlohmann::json{
        {"kernel_release", caps.kernel_release},
        {"task_isolation_prctl", caps.task_isolation_prctl},
        {"cpus", cpus},
        {"seccomp_user_notif", caps.seccomp_user_notif},
        {"seccomp_wait_killable_recv", caps.seccomp_wait_killable_recv},
        {"backend", std::string(to_string(caps.backend()))},
    };
}

std::unique_ptr<Backend> select_backend(const Capabilities& caps,
                                        const SoftBackendFactory& make_soft) {
    if (caps.backend() == BackendKind::kernel) {
        return make_kernel_backend();
    }
    std::unique_ptr<Backend> soft = make_soft ? make_soft() : nullptr;
    if (!soft) {
        throw IsolationError(ENOSYS, "kernel " + caps.kernel_release +
                                         " has no task isolation and no soft back end was "
                                         "provided to select_backend()");
    }
    return soft;
}

}  // namespace qc::isolation
