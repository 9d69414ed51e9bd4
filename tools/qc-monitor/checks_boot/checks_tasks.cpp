// tasks.allowed, rcu.callback_threads, pid1.affinity: which CPUs tasks may
// run on. A task allowed on isolated CPUs only is a worker placed there on
// purpose; one allowed on both isolated and housekeeping CPUs can be put on
// an isolated CPU by the scheduler.
#include "checks_boot/boot_util.hpp"
#include "checks_boot/checks_boot.hpp"
#include "checks_boot/proc_task.hpp"

namespace qc::monitor::boot {

namespace {

constexpr std::string_view kPid1Status = "/proc/1/status";
constexpr std::size_t kMaxEvidence = 10;
constexpr std::size_t kMaxWorkerEvidence = 4;

bool straddles(const core::CpuSet& allowed, const core::CpuSet& isolated) {
    return allowed.intersects(isolated) && !allowed.is_subset_of(isolated);
}

std::string problem_text(const TaskProblem& p) {
    return p.path + ": bad token \"" + p.token + "\": " + p.reason;
}

CheckResult check_tasks_allowed(const CheckContext& ctx) {
    if (!ctx.isolated_known) {
        return skip_without_expectation();
    }
    const TaskScan scan = scan_tasks(*ctx.sys);
    if (scan.tasks.empty() && scan.problems.empty()) {
        return check_skip("no tasks under /proc");
    }
    Findings f;
    std::vector<Evidence> evidence;
    for (const TaskProblem& p : scan.problems) {
        if (p.tgid == 1 || is_rcu_offload_thread(p.comm)) {
            continue;  // pid1.affinity and rcu.callback_threads report those
        }
        f.fail(problem_text(p));
        evidence.push_back({p.path, p.value});
    }
    std::vector<std::string> user;
    std::vector<std::string> kernel;
    std::vector<std::string> pids;
    std::vector<std::string> workers;
    std::vector<Evidence> worker_evidence;
    for (const TaskInfo& t : scan.tasks) {
        if (t.tgid == 1 || (t.kthread && is_rcu_offload_thread(t.comm))) {
            continue;
        }
        if (!t.kthread && !t.allowed.empty() && t.allowed.is_subset_of(ctx.isolated)) {
            workers.push_back(task_label(t));
            if (worker_evidence.size() < kMaxWorkerEvidence) {
                worker_evidence.push_back(
                    {t.dir + "/status", "Cpus_allowed_list:\t" + t.allowed_text});
            }
        }
        if (!straddles(t.allowed, ctx.isolated)) {
            continue;
        }
        (t.kthread ? kernel : user).push_back(task_label(t));
        if (pids.empty() || pids.back() != std::to_string(t.tgid)) {
            pids.push_back(std::to_string(t.tgid));
        }
        if (evidence.size() < kMaxEvidence) {
            evidence.push_back({t.dir + "/status", "Cpus_allowed_list:\t" + t.allowed_text});
        }
    }
    if (!user.empty()) {
        f.fail(
            "allowed on both isolated and housekeeping CPUs, so the scheduler can place them "
            "on the isolated " +
            cpus_named(ctx.isolated) + ": " +
            counted(user.size(), "user thread", "user threads", user));
    }
    if (!kernel.empty()) {
        f.fail("allowed on the isolated " + cpus_named(ctx.isolated) + " and housekeeping CPUs: " +
               counted(kernel.size(), "unbound kernel thread", "unbound kernel threads", kernel));
    }
    if (!f.any()) {
        // What the verdict rests on: the scan itself and the workers found.
        evidence.push_back({"/proc/<pid>/task/<tid>/status",
                            std::to_string(scan.tasks.size()) + " threads' Cpus_allowed_list"});
        evidence.insert(evidence.end(), worker_evidence.begin(), worker_evidence.end());
    }
    const std::string hk = ctx.housekeeping.to_list();
    if (pids.empty() && f.any()) {
        // Named before the call: the order of its arguments is unspecified,
        // and aarch64's gcc moves `evidence` out first.
        std::string fix = "inspect " +
                          (evidence.empty() ? std::string("/proc") : evidence.front().path) +
                          ": the kernel never writes this; in a snapshot, capture it again";
        return f.result("", std::move(evidence), std::move(fix));
    }
    std::vector<std::string> shown_pids(
        pids.begin(),
        pids.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(pids.size(), 8)));
    return f.result(
        "none of the " + std::to_string(scan.tasks.size()) +
            " threads can float onto the isolated CPUs: each runs on housekeeping "
            "CPUs, is bound to one CPU, or is pinned to isolated CPUs only (" +
            (workers.empty() ? std::string("no workers")
                             : counted(workers.size(), "worker", "workers", workers, 4)) +
            ")",
        std::move(evidence),
        "for p in " + join(shown_pids, " ") + (pids.size() > shown_pids.size() ? " ..." : "") +
            "; do taskset -a -p -c " + hk + " $p; done, and set CPUAffinity=" + hk +
            " in /etc/systemd/system.conf so services start on housekeeping CPUs");
}

CheckResult check_rcu_threads(const CheckContext& ctx) {
    if (!ctx.isolated_known) {
        return skip_without_expectation();
    }
    const TaskScan scan = scan_tasks(*ctx.sys);
    Findings f;
    std::vector<Evidence> evidence;
    for (const TaskProblem& p : scan.problems) {
        if (is_rcu_offload_thread(p.comm)) {
            f.fail(problem_text(p));
            evidence.push_back({p.path, p.value});
        }
    }
    std::vector<std::string> offenders;
    std::vector<std::string> pids;
    std::vector<Evidence> sample;
    std::size_t count = 0;
    for (const TaskInfo& t : scan.tasks) {
        if (!t.kthread || !is_rcu_offload_thread(t.comm)) {
            continue;
        }
        ++count;
        if (!t.allowed.intersects(ctx.isolated) && sample.size() < kMaxWorkerEvidence) {
            sample.push_back({t.dir + "/status", "Cpus_allowed_list:\t" + t.allowed_text});
        }
        if (t.allowed.intersects(ctx.isolated)) {
            offenders.push_back(t.comm + " (" + std::to_string(t.tid) + ") " + t.allowed_text);
            pids.push_back(std::to_string(t.tid));
            if (evidence.size() < kMaxEvidence) {
                evidence.push_back({t.dir + "/status", "Cpus_allowed_list:\t" + t.allowed_text});
            }
        }
    }
    const std::string hk = ctx.housekeeping.to_list();
    if (count == 0 && !f.any()) {
        return check_warn("no rcuo kthreads: the RCU callbacks of the isolated " +
                              cpus_named(ctx.isolated) +
                              " are not offloaded and run in softirq there",
                          {{"/proc", "no rcuog/rcuop/rcuos kthread"}},
                          "add rcu_nocbs=" + ctx.isolated.to_list() +
                              " to the kernel command line (CONFIG_RCU_NOCB_CPU=y kernel) and "
                              "reboot");
    }
    if (!f.any() && offenders.empty()) {
        evidence = std::move(sample);
    }
    if (!offenders.empty()) {
        f.fail("allowed on the isolated " + cpus_named(ctx.isolated) +
               ", which brings the offloaded callbacks back onto them: " +
               counted(offenders.size(), "RCU offload kthread", "RCU offload kthreads", offenders));
    }
    if (pids.empty() && f.any()) {
        std::string fix = "inspect " + evidence.front().path +
                          ": the kernel never writes this; in a snapshot, capture it again";
        return f.result("", std::move(evidence), std::move(fix));
    }
    return f.result(std::to_string(count) + " rcuo kthreads run on housekeeping CPUs only",
                    std::move(evidence),
                    "for p in " + join(pids, " ") + "; do taskset -p -c " + hk +
                        " $p; done (tuned's cpu-partitioning moves rcuo* at boot)");
}

CheckResult check_pid1(const CheckContext& ctx) {
    if (!ctx.isolated_known) {
        return skip_without_expectation();
    }
    return guarded([&]() -> CheckResult {
        const auto status = ctx.sys->read(kPid1Status);
        if (!status) {
            return check_skip(std::string(kPid1Status) + " not found");
        }
        const auto allowed_text = status_field(*status, "Cpus_allowed_list");
        if (!allowed_text) {
            throw MalformedFile(std::string(kPid1Status), trim(*status).substr(0, 80),
                                "Cpus_allowed_list", "no Cpus_allowed_list line");
        }
        const core::CpuSet allowed = parse_list_in(kPid1Status, *allowed_text);
        const std::string name = status_field(*status, "Name").value_or("init");
        std::vector<Evidence> evidence{
            {std::string(kPid1Status), "Cpus_allowed_list:\t" + *allowed_text}};
        const std::string hk = ctx.housekeeping.to_list();
        if (allowed.intersects(ctx.isolated)) {
            return check_fail("PID 1 (" + name + ") may run on " + *allowed_text +
                                  ", including the isolated " +
                                  cpus_named((allowed & ctx.isolated)) +
                                  ": every service it starts inherits that",
                              std::move(evidence),
                              "set CPUAffinity=" + hk +
                                  " in /etc/systemd/system.conf, then systemctl daemon-reexec "
                                  "(or reboot)");
        }
        return check_ok("PID 1 (" + name + ") runs on " + *allowed_text +
                            ", so the services it starts inherit housekeeping CPUs",
                        std::move(evidence));
    });
}

}  // namespace

std::vector<CheckDef> task_checks() {
    return {
        {"tasks.allowed", "no task may float between isolated and housekeeping CPUs",
         check_tasks_allowed},
        {"rcu.callback_threads", "RCU offload kthreads (rcuo*) run on housekeeping CPUs",
         check_rcu_threads},
        {"pid1.affinity", "PID 1 runs on housekeeping CPUs (systemd CPUAffinity)", check_pid1},
    };
}

}  // namespace qc::monitor::boot
