// What the running kernel offers for isolation (issue 3 "API"): the
// task-isolation prctl, the isolated and nohz_full CPU sets, seccomp user
// notification and SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, and so which back
// end the library uses. Reported in sentences and JSON.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "quietcore/core/isolation_plan.hpp"
#include "quietcore/isolation/backend.hpp"

namespace qc::isolation {

enum class BackendKind { kernel, soft };
std::string_view to_string(BackendKind kind) noexcept;  // "kernel", "soft"

// seccomp(SECCOMP_GET_ACTION_AVAIL, SECCOMP_RET_USER_NOTIF).
bool seccomp_user_notif_available() noexcept;
// Whether seccomp knows SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux 5.19+),
// probed without installing a filter; see capabilities.cpp.
bool seccomp_wait_killable_recv_supported() noexcept;

struct Capabilities {
    std::string kernel_release;         // uname -r
    bool task_isolation_prctl = false;  // PR_{SET,GET}_TASK_ISOLATION (the patch)
    core::KernelCpuSets cpus;           // online, isolated, nohz_full
    bool seccomp_user_notif = false;    // SECCOMP_RET_USER_NOTIF
    bool seccomp_wait_killable_recv = false;

    // The kernel back end when the prctl exists, else soft.
    BackendKind backend() const noexcept {
        return task_isolation_prctl ? BackendKind::kernel : BackendKind::soft;
    }

    // Probes the running kernel; CPU sets from <sysfs_root>/devices/system/cpu.
    // Throws core::Error when the CPU set files are missing or malformed.
    static Capabilities probe(const std::string& sysfs_root = "/sys");
};

// One sentence per fact, ending with the back end chosen and why.
std::vector<std::string> describe(const Capabilities& caps);
// {"kernel_release", "task_isolation_prctl", "cpus": {KernelCpuSets},
//  "seccomp_user_notif", "seccomp_wait_killable_recv", "backend"}
void to_json(nlohmann::json& out, const Capabilities& caps);

// Builds the soft back end. A callback so this file does not depend on the
// soft back end's supervisor: pass e.g. [&] { return make_soft_backend(sup); }.
using SoftBackendFactory = std::function<std::unique_ptr<Backend>()>;

// The kernel back end when caps says the prctl exists, else make_soft().
// Throws IsolationError(ENOSYS) when the soft back end is needed and make_soft
// is empty or returns nullptr.
std::unique_ptr<Backend> select_backend(const Capabilities& caps,
                                        const SoftBackendFactory& make_soft);

}  // namespace qc::isolation
