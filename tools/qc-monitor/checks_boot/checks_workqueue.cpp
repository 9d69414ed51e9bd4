// workqueue.cpumask: unbound workqueues stay off the isolated CPUs, through
// the global mask and each sysfs-visible workqueue's own mask.
#include "checks_boot/boot_util.hpp"
#include "checks_boot/checks_boot.hpp"

namespace qc::monitor::boot {

namespace {

constexpr std::string_view kWorkqueueDir = "/sys/devices/virtual/workqueue";
constexpr std::string_view kGlobalMask = "/sys/devices/virtual/workqueue/cpumask";
constexpr std::size_t kMaxEvidence = 10;

CheckResult check_workqueue_cpumask(const CheckContext& ctx) {
    if (!ctx.isolated_known) {
        return skip_without_expectation();
    }
    return guarded([&]() -> CheckResult {
        const auto global_text = read_trimmed(*ctx.sys, kGlobalMask);
        if (!global_text) {
            return check_skip(std::string(kGlobalMask) + " not found");
        }
        const core::CpuSet global = parse_mask_in(kGlobalMask, *global_text);
        std::vector<Evidence> evidence{{std::string(kGlobalMask), *global_text}};
        Findings f;
        if (global.intersects(ctx.isolated)) {
            f.fail("the unbound workqueue cpumask " + *global_text + " (" + cpus_named(global) +
                   ") includes the isolated " + cpus_named((global & ctx.isolated)) +
                   ": kworkers of unbound workqueues run there");
        }
        // Workqueues with WQ_SYSFS have a directory with their own cpumask;
        // the other entries (cpumask*, power, uevent) have none.
        std::vector<std::string> offenders;
        std::size_t checked = 0;
        for (const std::string& entry : ctx.sys->list(kWorkqueueDir)) {
            const std::string path = std::string(kWorkqueueDir) + "/" + entry + "/cpumask";
            if (entry.rfind("cpumask", 0) == 0 || !ctx.sys->exists(path)) {
                continue;
            }
            const auto text = read_trimmed(*ctx.sys, path);
            if (!text) {
                continue;
            }
            ++checked;
            const core::CpuSet mask = parse_mask_in(path, *text);
            if (mask.intersects(ctx.isolated)) {
                offenders.push_back(entry + " " + *text);
                if (evidence.size() < kMaxEvidence) {
                    evidence.push_back({path, *text});
                }
            }
        }
        if (!offenders.empty()) {
            f.warn(counted(offenders.size(), "workqueue", "workqueues", offenders) +
                   " name isolated CPUs in their own cpumask: today the kernel intersects it with "
                   "the global mask, but they run there as soon as that mask widens");
        }
        const std::string mask = ctx.housekeeping.to_mask();
        return f.result("unbound workqueues run on " + cpus_text(global) + " (global cpumask " +
                            *global_text + ", " + std::to_string(checked) +
                            " workqueues' own masks within the housekeeping CPUs)",
                        std::move(evidence),
                        "echo " + mask + " > " + std::string(kGlobalMask) + " and to " +
                            std::string(kWorkqueueDir) +
                            "/*/cpumask (tuned's cpu-partitioning does both at boot)");
    });
}

}  // namespace

std::vector<CheckDef> workqueue_checks() {
    return {
        {"workqueue.cpumask", "unbound workqueues stay off the isolated CPUs",
         check_workqueue_cpumask},
    };
}

}  // namespace qc::monitor::boot
