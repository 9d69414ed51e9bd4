#include "checks_boot/boot_util.hpp"

#include <algorithm>
#include <charconv>

#include "checks_boot/proc_task.hpp"
#include "quietcore/core/text_file.hpp"

namespace qc::monitor::boot {

namespace {

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::uint64_t to_number(std::string_view s) {
    std::uint64_t value = 0;
    std::from_chars(s.data(), s.data() + s.size(), value);
    return value;
}

int severity(CheckStatus status) {
    switch (status) {
        case CheckStatus::fail:
            return 2;
        case CheckStatus::warn:
            return 1;
        default:
            return 0;
    }
}

// A task's file; nullopt when the task is gone (ENOENT, or ESRCH from a
// task exiting while it is read).
std::optional<std::string> read_task_file(const SystemRoot& sys, const std::string& path) {
    try {
        return sys.read(path);
    } catch (const core::Error&) {
        return std::nullopt;
    }
}

// Reads one task's stat and status; adds nothing when it vanished.
void scan_one(const SystemRoot& sys, const std::string& dir, std::uint64_t tgid, TaskScan& scan) {
    const std::string stat_path = dir + "/stat";
    const std::string status_path = dir + "/status";
    const auto stat_text = read_task_file(sys, stat_path);
    if (!stat_text) {
        return;
    }
    ProcStat stat;
    try {
        stat = parse_proc_stat(*stat_text);
    } catch (const core::ParseError& e) {
        scan.problems.push_back({stat_path, trim(*stat_text), e.token(),
                                 "not the format of /proc/<pid>/stat", "", tgid});
        return;
    }
    const auto status_text = read_task_file(sys, status_path);
    if (!status_text) {
        return;
    }
    const auto allowed = status_field(*status_text, "Cpus_allowed_list");
    if (!allowed) {
        scan.problems.push_back(
            {status_path, "", "Cpus_allowed_list", "no Cpus_allowed_list line", stat.comm, tgid});
        return;
    }
    TaskInfo task;
    task.dir = dir;
    task.tgid = tgid;
    task.tid = stat.pid;
    task.comm = stat.comm;
    task.kthread = stat.kthread();
    task.allowed_text = *allowed;
    try {
        task.allowed = core::CpuSet::parse_list(*allowed);
    } catch (const core::ParseError& e) {
        scan.problems.push_back({status_path, "Cpus_allowed_list:\t" + *allowed, e.token(),
                                 "not a CPU list", stat.comm, tgid});
        return;
    }
    scan.tasks.push_back(std::move(task));
}

}  // namespace

MalformedFile::MalformedFile(std::string path, std::string value, std::string token,
                             std::string reason)
    : core::Error(path + ": bad token \"" + token + "\": " + reason),
      path_(std::move(path)),
      value_(std::move(value)),
      token_(std::move(token)),
      reason_(std::move(reason)) {}

std::string trim(std::string_view text) {
    return std::string(core::trim_space(text));
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) {
            out += separator;
        }
        out += items[i];
    }
    return out;
}

std::optional<std::string> read_trimmed(const SystemRoot& sys, std::string_view path) {
    auto text = sys.read(path);
    if (!text) {
        return std::nullopt;
    }
    return trim(*text);
}

core::CpuSet parse_list_in(std::string_view path, std::string_view value, unsigned limit) {
    try {
        return core::CpuSet::parse_list(value, limit);
    } catch (const core::ParseError& e) {
        std::string reason = e.what();
        const std::size_t colon = reason.rfind(": ");
        reason = colon == std::string::npos ? "not a CPU list" : reason.substr(colon + 2);
        throw MalformedFile(std::string(path), std::string(value), e.token(),
                            "not a CPU list (" + reason + ")");
    }
}

core::CpuSet parse_mask_in(std::string_view path, std::string_view value) {
    try {
        return core::CpuSet::parse_mask(value);
    } catch (const core::ParseError& e) {
        std::string reason = e.what();
        const std::size_t colon = reason.rfind(": ");
        reason = colon == std::string::npos ? "not a hex CPU mask" : reason.substr(colon + 2);
        throw MalformedFile(std::string(path), std::string(value), e.token(),
                            "not a hex CPU mask (" + reason + ")");
    }
}

std::string cpus_text(const core::CpuSet& cpus) {
    return cpus.empty() ? "none" : cpus.to_list();
}

std::string cpus_named(const core::CpuSet& cpus) {
    if (cpus.empty()) {
        return "no CPU";
    }
    return (cpus.count() == 1 ? "CPU " : "CPUs ") + cpus.to_list();
}

unsigned cpu_limit(const CheckContext& ctx) {
    if (const auto possible = read_trimmed(*ctx.sys, "/sys/devices/system/cpu/possible")) {
        try {
            const core::CpuSet set = core::CpuSet::parse_list(*possible);
            if (!set.empty()) {
                return set.end();
            }
        } catch (const core::ParseError&) {
            // fall back to the online CPUs
        }
    }
    return std::max(ctx.online.end(), 1u);
}

std::string counted(std::size_t count, std::string_view singular, std::string_view plural,
                    const std::vector<std::string>& items, std::size_t cap) {
    std::string out = std::to_string(count) + " ";
    out += count == 1 ? singular : plural;
    std::vector<std::string> shown(
        items.begin(), items.begin() + static_cast<std::ptrdiff_t>(std::min(cap, items.size())));
    if (shown.empty()) {
        return out;
    }
    out += count > shown.size() ? ", e.g. " : ": ";
    out += join(shown, ", ");
    return out;
}

CheckResult skip_without_expectation() {
    return check_skip("no isolated CPUs given (--isolated) or configured by the kernel");
}

void Findings::add(CheckStatus status, std::string problem) {
    if (severity(status) > severity(status_)) {
        status_ = status;
    }
    problems_.push_back(std::move(problem));
}

CheckResult Findings::result(std::string ok_summary, std::vector<Evidence> evidence,
                             std::string fix) const {
    if (!any()) {
        return check_ok(std::move(ok_summary), std::move(evidence));
    }
    if (status_ == CheckStatus::fail) {
        return check_fail(summary(), std::move(evidence), std::move(fix));
    }
    return check_warn(summary(), std::move(evidence), std::move(fix));
}

TaskScan scan_tasks(const SystemRoot& sys) {
    TaskScan scan;
    for (const std::string& pid : sys.list("/proc")) {
        if (!all_digits(pid)) {
            continue;
        }
        const std::uint64_t tgid = to_number(pid);
        const std::string proc_dir = "/proc/" + pid;
        std::vector<std::string> tids;
        for (const std::string& tid : sys.list(proc_dir + "/task")) {
            if (all_digits(tid)) {
                tids.push_back(tid);
            }
        }
        if (tids.empty()) {
            scan_one(sys, proc_dir, tgid, scan);
            continue;
        }
        std::sort(tids.begin(), tids.end(), [](const std::string& a, const std::string& b) {
            return to_number(a) < to_number(b);
        });
        for (const std::string& tid : tids) {
            scan_one(sys, proc_dir + "/task/" + tid, tgid, scan);
        }
    }
    std::sort(scan.tasks.begin(), scan.tasks.end(),
              [](const TaskInfo& a, const TaskInfo& b) { return a.tid < b.tid; });
    return scan;
}

bool is_rcu_offload_thread(std::string_view comm) {
    return comm.size() > 5 && comm.substr(0, 4) == "rcuo" && comm[5] == '/';
}

std::string task_label(const TaskInfo& task) {
    return std::to_string(task.tid) + " (" + task.comm + ") " + task.allowed_text;
}

}  // namespace qc::monitor::boot
