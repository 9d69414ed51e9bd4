// Shared pieces of the boot and affinity checks: reading and parsing files
// through the SystemRoot with errors that name the file and the token,
// collecting findings into one verdict, and short operator-facing lists.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/check_context.hpp"
#include "check/check_result.hpp"
#include "quietcore/core/cpu_set.hpp"
#include "quietcore/core/error.hpp"

namespace qc::monitor::boot {

// A file that exists but does not read as what it should be. Thrown by the
// parse helpers; guarded() turns it into a fail naming file and token.
class MalformedFile : public core::Error {
  public:
    MalformedFile(std::string path, std::string value, std::string token, std::string reason);

    const std::string& path() const noexcept { return path_; }
    const std::string& value() const noexcept { return value_; }
    const std::string& token() const noexcept { return token_; }
    const std::string& reason() const noexcept { return reason_; }

  private:
    std::string path_;
    std::string value_;
    std::string token_;
    std::string reason_;
};

std::string trim(std::string_view text);
std::string join(const std::vector<std::string>& items, std::string_view separator);

// The file's text with surrounding whitespace removed; nullopt when missing.
std::optional<std::string> read_trimmed(const SystemRoot& sys, std::string_view path);

// Parse a cpulist / hex mask found in `path`; throw MalformedFile naming
// the path and the bad token.
core::CpuSet parse_list_in(std::string_view path, std::string_view value,
                           unsigned limit = core::CpuSet::kMaxCpus);
core::CpuSet parse_mask_in(std::string_view path, std::string_view value);

// "2-3,6-7", or "none" for the empty set.
std::string cpus_text(const core::CpuSet& cpus);
// "CPU 7", "CPUs 2-3,6-7", or "no CPU".
std::string cpus_named(const core::CpuSet& cpus);

// The number of CPUs the kernel parses lists against (nr_cpu_ids): one past
// the last possible CPU, or past the last online one without the file.
unsigned cpu_limit(const CheckContext& ctx);

// "3 IRQs: 24 (virtio0), 25, 26" or, over `cap` items, "17 IRQs, e.g. 24,
// 25, 26, 27, 28".
std::string counted(std::size_t count, std::string_view singular, std::string_view plural,
                    const std::vector<std::string>& items, std::size_t cap = 5);

// The skip of a check that needs to know which CPUs are meant to be isolated.
CheckResult skip_without_expectation();

// Runs `body`; a MalformedFile becomes a fail naming the file and the token.
template <typename Body>
CheckResult guarded(Body&& body) {
    try {
        return body();
    } catch (const MalformedFile& e) {
        return check_fail(e.path() + ": bad token \"" + e.token() + "\": " + e.reason(),
                          {{e.path(), e.value()}},
                          "inspect " + e.path() +
                              ": the kernel never writes this; in a snapshot, capture it again");
    }
}

// Findings of one check: the worst status and the sentences saying why.
class Findings {
  public:
    void warn(std::string problem) { add(CheckStatus::warn, std::move(problem)); }
    void fail(std::string problem) { add(CheckStatus::fail, std::move(problem)); }
    bool any() const noexcept { return !problems_.empty(); }
    CheckStatus status() const noexcept { return status_; }
    // The problems joined into one summary.
    std::string summary() const { return join(problems_, "; "); }
    // ok(ok_summary) when nothing was found, else warn/fail with the fix.
    CheckResult result(std::string ok_summary, std::vector<Evidence> evidence,
                       std::string fix) const;

  private:
    void add(CheckStatus status, std::string problem);
    CheckStatus status_ = CheckStatus::ok;
    std::vector<std::string> problems_;
};

// One thread of /proc, with what the affinity checks need.
struct TaskInfo {
    std::string dir;  // "/proc/1200/task/1203", or "/proc/1200" without a task/ directory
    std::uint64_t tgid = 0;
    std::uint64_t tid = 0;
    std::string comm;
    bool kthread = false;
    core::CpuSet allowed;
    std::string allowed_text;  // Cpus_allowed_list as read
};

struct TaskProblem {
    std::string path;   // the file that did not parse
    std::string value;  // its relevant text
    std::string token;
    std::string reason;
    std::string comm;  // when stat parsed, the task's name
    std::uint64_t tgid = 0;
};

struct TaskScan {
    std::vector<TaskInfo> tasks;
    std::vector<TaskProblem> problems;
};

// Every thread of every process under /proc (tasks that vanish while being
// read are left out). Reads /proc/<pid>/task/<tid>/{stat,status}, or
// /proc/<pid>/{stat,status} when there is no task/ directory.
TaskScan scan_tasks(const SystemRoot& sys);

// "rcuop/2", "rcuos/7", "rcuog/0": RCU callback-offload kthreads.
bool is_rcu_offload_thread(std::string_view comm);

// "1203 (qc-worker) 0-7": how a task appears in a summary.
std::string task_label(const TaskInfo& task);

}  // namespace qc::monitor::boot
