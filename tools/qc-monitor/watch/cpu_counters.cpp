#include "watch/cpu_counters.hpp"

#include <charconv>
#include <chrono>
#include <exception>

#include "quietcore/core/error.hpp"
#include "quietcore/core/text_file.hpp"

namespace qc::monitor {

namespace {

double seconds_of(std::chrono::system_clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}
double seconds_of(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(t.time_since_epoch()).count();
}

}  // namespace

std::string_view to_string(SwitchSource source) noexcept {
    switch (source) {
        case SwitchSource::schedstat:
            return "schedstat";
        case SwitchSource::threads:
            return "threads";
    }
    return "threads";
}

std::map<unsigned, std::uint64_t> parse_schedstat(std::string_view text) {
    std::map<unsigned, std::uint64_t> out;
    core::for_each_line(text, [&](std::string_view line) {
        const auto words = core::split_words(line);
        if (words.empty() || !words[0].starts_with("cpu") || words[0].size() == 3) {
            return;  // "version", "timestamp", "domainN" lines
        }
        const auto cpu = core::parse_number<unsigned>(words[0].substr(3));
        if (!cpu) {
            throw core::ParseError("/proc/schedstat line", line, words[0], "not \"cpuN\"");
        }
        // cpuN yld_count 0 sched_count sched_goidle ttwu_count ...
        constexpr std::size_t kSchedCount = 3;
        if (words.size() <= kSchedCount) {
            throw core::ParseError("/proc/schedstat line", line, words[0],
                                   "fewer than 3 counters after the CPU");
        }
        const auto count = core::parse_number<std::uint64_t>(words[kSchedCount]);
        if (!count) {
            throw core::ParseError("/proc/schedstat line", line, words[kSchedCount],
                                   "not a number");
        }
        out[*cpu] = *count;
    });
    return out;
}

ThreadSample parse_thread(int pid, int tid, std::string_view stat,
                          std::optional<std::string_view> status,
                          std::optional<std::string_view> task_isolation,
                          const std::string& source) {
    ThreadSample t;
    t.pid = pid;
    t.tid = tid;
    const auto open = stat.find('(');
    const auto close = stat.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
        throw core::ParseError(source + "/stat", stat.substr(0, 40), "",
                               "no \"(comm)\" after the thread id");
    }
    t.comm = std::string(stat.substr(open + 1, close - open - 1));
    t.last_cpu = isolation::parse_stat_processor(stat);
    if (status) {
        t.context_switches = isolation::parse_status_number(*status, "voluntary_ctxt_switches") +
                             isolation::parse_status_number(*status, "nonvoluntary_ctxt_switches");
    }
    if (task_isolation) {
        t.task_isolation =
            isolation::parse_kernel_task_status(*task_isolation, source + "/task_isolation");
    }
    return t;
}

CounterSnapshot CounterReader::read() {
    CounterSnapshot snap;
    auto interrupts = sys_->read("/proc/interrupts");
    snap.monotonic_seconds = seconds_of(std::chrono::steady_clock::now());
    snap.wall_seconds = seconds_of(std::chrono::system_clock::now());
    if (!interrupts) {
        throw core::Error("/proc/interrupts is missing under " + sys_->root());
    }
    try {
        snap.interrupts = isolation::parse_interrupts(*interrupts);
    } catch (const core::ParseError& e) {
        throw core::Error(std::string("/proc/interrupts: ") + e.what());
    }
    for (const auto& line : snap.interrupts.malformed) {
        snap.problems.push_back("/proc/interrupts: skipped line \"" + line + "\"");
    }
    snap.texts.emplace("/proc/interrupts", std::move(*interrupts));

    if (auto softirqs = sys_->read("/proc/softirqs")) {
        try {
            snap.softirqs = isolation::parse_interrupts(*softirqs);
        } catch (const core::ParseError& e) {
            snap.problems.push_back(std::string("/proc/softirqs: ") + e.what());
        }
        snap.texts.emplace("/proc/softirqs", std::move(*softirqs));
    } else {
        snap.problems.push_back("/proc/softirqs is missing: no softirq counts");
    }

    if (auto schedstat = sys_->read("/proc/schedstat")) {
        try {
            snap.schedstat_switches = parse_schedstat(*schedstat);
            snap.switch_source = SwitchSource::schedstat;
        } catch (const core::ParseError& e) {
            snap.problems.push_back(std::string("/proc/schedstat: ") + e.what() +
                                    "; context switches from the threads instead");
        }
        snap.texts.emplace("/proc/schedstat", std::move(*schedstat));
    }
    if (keep_proc_stat_) {
        if (auto stat = sys_->read("/proc/stat")) {
            snap.texts.emplace("/proc/stat", std::move(*stat));
        }
    }

    const bool want_switches = snap.switch_source == SwitchSource::threads;
    if (first_ || want_switches || walk_threads_) {
        read_threads(snap, want_switches);
    }
    if (first_) {
        // Only the patch's files need the walk when schedstat has the switches.
        walk_threads_ = snap.kernel_task_isolation;
        first_ = false;
    }
    return snap;
}

void CounterReader::read_threads(CounterSnapshot& snap, bool want_switches) {
    const bool want_isolation = first_ || walk_threads_;
    std::size_t malformed = 0;
    for (const auto& pid_name : sys_->list("/proc")) {
        const auto pid = core::parse_number<int>(pid_name);
        if (!pid) {
            continue;
        }
        const std::string task_dir = "/proc/" + pid_name + "/task";
        for (const auto& tid_name : sys_->list(task_dir)) {
            const auto tid = core::parse_number<int>(tid_name);
            if (!tid) {
                continue;
            }
            const std::string dir = task_dir + "/" + tid_name;
            try {
                // Each read may find the thread gone: then it is left out.
                const auto stat = sys_->read(dir + "/stat");
                if (!stat) {
                    continue;
                }
                std::optional<std::string> status;
                if (want_switches) {
                    status = sys_->read(dir + "/status");
                    if (!status) {
                        continue;
                    }
                }
                std::optional<std::string> isolation_text;
                if (want_isolation) {
                    isolation_text = sys_->read(dir + "/task_isolation");
                }
                auto thread =
                    parse_thread(*pid, *tid, *stat,
                                 status ? std::optional<std::string_view>(*status) : std::nullopt,
                                 isolation_text ? std::optional<std::string_view>(*isolation_text)
                                                : std::nullopt,
                                 dir);
                snap.kernel_task_isolation =
                    snap.kernel_task_isolation || thread.task_isolation.has_value();
                snap.threads.emplace(*tid, std::move(thread));
            } catch (const core::ParseError& e) {
                if (malformed++ == 0) {
                    snap.problems.push_back(std::string("skipped a thread: ") + e.what());
                }
            } catch (const std::exception&) {
                // A thread that exited between the listing and the read (ESRCH).
            }
        }
    }
}

}  // namespace qc::monitor
