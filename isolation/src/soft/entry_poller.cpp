#include "quietcore/isolation/entry_poller.hpp"

#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "quietcore/core/error.hpp"
#include "quietcore/core/isolation_plan.hpp"
#include "quietcore/core/monotonic_clock.hpp"
#include "quietcore/core/signals.hpp"
#include "quietcore/core/text_file.hpp"

namespace qc::isolation {

using core::monotonic_ns;

namespace {

std::map<std::string, std::uint64_t> column(const InterruptTable& table, int cpu) {
    std::map<std::string, std::uint64_t> counts;
    if (cpu < 0) {
        return counts;
    }
    for (const auto& row : table.rows) {
        if (const auto n = table.count(row.name, static_cast<unsigned>(cpu))) {
            counts[row.name] = *n;
        }
    }
    return counts;
}

}  // namespace

std::uint32_t pack_irq_name(std::string_view name) noexcept {
    std::uint32_t packed = 0;
    for (std::size_t i = 0; i < 4 && i < name.size(); ++i) {
        packed |= static_cast<std::uint32_t>(static_cast<unsigned char>(name[i])) << (8 * i);
    }
    return packed;
}

std::string unpack_irq_name(std::uint32_t packed) {
    std::string name;
    for (int i = 0; i < 4; ++i) {
        const char c = static_cast<char>((packed >> (8 * i)) & 0xff);
        if (c == '\0') {
            break;
        }
        name += c;
    }
    return name;
}

struct EntryPoller::Watched {
    std::shared_ptr<MonitoredThread> thread;
    int cpu = -1;
    std::string status_path;
    std::string stat_path;
    std::uint64_t nonvoluntary = 0;
    int processor = -1;
    core::CpuSet allowed;
    std::map<std::string, std::uint64_t> irqs;
    std::map<std::string, std::uint64_t> softirqs;
};

EntryPoller::EntryPoller(PollerOptions options) : options_(std::move(options)) {
    if (options_.irq_breaks == IrqBreaks::automatic) {
        nohz_full_ = core::KernelCpuSets::read(options_.sysfs_root).nohz_full;
    }
}

EntryPoller::~EntryPoller() {
    stop();
}

void EntryPoller::start() {
    if (thread_.joinable() || stop_.stop_requested()) {
        return;
    }
    thread_ = std::thread([this] {
        sigset_t all = core::async_signal_set();
        ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
        ::pthread_setname_np(::pthread_self(), options_.thread_name.substr(0, 15).c_str());
        const auto token = stop_.token();
        while (!token.wait_for(options_.interval)) {
            poll_once();
        }
    });
}

void EntryPoller::stop() {
    stop_.request();
    if (thread_.joinable()) {
        thread_.join();
    }
}

bool EntryPoller::irq_breaks_isolation(int cpu) const noexcept {
    switch (options_.irq_breaks) {
        case IrqBreaks::report_only:
            return false;
        case IrqBreaks::break_isolation:
            return true;
        case IrqBreaks::automatic:
            return cpu >= 0 && nohz_full_.contains(static_cast<unsigned>(cpu));
    }
    return false;
}

void EntryPoller::watch(std::shared_ptr<MonitoredThread> thread, int cpu) {
    auto w = std::make_unique<Watched>();
    const std::string task = options_.proc_root + "/" + std::to_string(thread->tgid()) + "/task/" +
                             std::to_string(thread->tid());
    w->status_path = task + "/status";
    w->stat_path = task + "/stat";
    w->cpu = cpu;
    const std::string status = core::read_text_file(w->status_path);
    w->nonvoluntary = parse_status_number(status, "nonvoluntary_ctxt_switches");
    w->allowed = parse_status_cpus_allowed(status);
    w->processor = parse_stat_processor(core::read_text_file(w->stat_path));
    w->irqs =
        column(parse_interrupts(core::read_text_file(options_.proc_root + "/interrupts")), cpu);
    if (options_.softirqs) {
        w->softirqs =
            column(parse_interrupts(core::read_text_file(options_.proc_root + "/softirqs")), cpu);
    }
    w->thread = std::move(thread);
    std::lock_guard lock(mutex_);
    watched_.push_back(std::move(w));
}

void EntryPoller::observe(Watched& w, EntryObservation obs) {
    BreakRecord record;
    record.cause = obs.cause;
    record.cpu = obs.cpu;
    record.timestamp_ns = obs.time_ns;
    if (obs.cause == BreakCause::irq) {
        std::uint32_t number = 0;
        const auto [end, ec] =
            std::from_chars(obs.source.data(), obs.source.data() + obs.source.size(), number);
        if (ec == std::errc{} && end == obs.source.data() + obs.source.size()) {
            record.irq = number;
        } else {
            record.irq = kNamedIrq;
            record.vector = pack_irq_name(obs.source);
        }
    }
    const bool may_break =
        !obs.softirq && (obs.cause != BreakCause::irq || irq_breaks_isolation(obs.cpu));
    if (may_break) {
        const bool was_isolated = w.thread->isolated();
        const BreakAction action = w.thread->on_entry(record);
        obs.broke_isolation = was_isolated && !w.thread->isolated();
        w.thread->deliver(action);
    }
    std::lock_guard lock(mutex_);
    ++observed_[static_cast<std::size_t>(obs.cause)];
    if (observations_.size() < options_.max_observations) {
        observations_.push_back(std::move(obs));
    }
}

void EntryPoller::poll_thread(Watched& w, const InterruptTable* irqs,
                              const InterruptTable* softirqs, std::uint64_t now) {
    const pid_t tid = w.thread->tid();
    const std::string status = core::read_text_file(w.status_path);
    const std::uint64_t nonvoluntary = parse_status_number(status, "nonvoluntary_ctxt_switches");
    const core::CpuSet allowed = parse_status_cpus_allowed(status);
    const int processor = parse_stat_processor(core::read_text_file(w.stat_path));

    if (nonvoluntary > w.nonvoluntary) {
        observe(w, {now, tid, BreakCause::preemption, w.cpu, "", nonvoluntary - w.nonvoluntary});
    }
    if (processor != w.processor) {
        observe(w, {now, tid, BreakCause::migration, processor,
                    "from cpu " + std::to_string(w.processor), 1});
    }
    if (!(allowed == w.allowed)) {
        observe(w, {now, tid, BreakCause::affinity_change, w.cpu, allowed.to_list(), 1});
    }
    w.nonvoluntary = nonvoluntary;
    w.processor = processor;
    w.allowed = allowed;

    const auto grown = [&](const InterruptTable* table, std::map<std::string, std::uint64_t>& last,
                           bool soft) {
        if (table == nullptr) {
            return;
        }
        auto now_counts = column(*table, w.cpu);
        for (const auto& [name, count] : now_counts) {
            const auto it = last.find(name);
            if (it != last.end() && count > it->second) {
                EntryObservation obs{now, tid, BreakCause::irq, w.cpu, name, count - it->second};
                obs.softirq = soft;
                observe(w, std::move(obs));
            }
        }
        last = std::move(now_counts);
    };
    grown(irqs, w.irqs, false);
    grown(softirqs, w.softirqs, true);
}

void EntryPoller::poll_once() {
    std::vector<Watched*> current;
    {
        std::lock_guard lock(mutex_);
        for (auto& w : watched_) {
            current.push_back(w.get());
        }
    }
    if (current.empty()) {
        return;
    }
    std::optional<InterruptTable> irqs, softirqs;
    try {
        irqs = parse_interrupts(core::read_text_file(options_.proc_root + "/interrupts"));
        if (options_.softirqs) {
            softirqs = parse_interrupts(core::read_text_file(options_.proc_root + "/softirqs"));
        }
    } catch (const core::Error&) {
        std::lock_guard lock(mutex_);
        ++read_errors_;
    }
    const std::uint64_t now = monotonic_ns();
    std::vector<Watched*> gone;
    for (Watched* w : current) {
        try {
            poll_thread(*w, irqs ? &*irqs : nullptr, softirqs ? &*softirqs : nullptr, now);
        } catch (const core::Error&) {
            // The thread exited (its /proc entry is gone) or raced with exit.
            gone.push_back(w);
        }
    }
    if (!gone.empty()) {
        std::lock_guard lock(mutex_);
        std::erase_if(watched_, [&](const std::unique_ptr<Watched>& w) {
            return std::find(gone.begin(), gone.end(), w.get()) != gone.end();
        });
    }
}

std::size_t EntryPoller::watched() const {
    std::lock_guard lock(mutex_);
    return watched_.size();
}

std::vector<EntryObservation> EntryPoller::observations() const {
    std::lock_guard lock(mutex_);
    return observations_;
}

std::uint64_t EntryPoller::observed(BreakCause cause) const {
    std::lock_guard lock(mutex_);
    return observed_[static_cast<std::size_t>(cause)];
}

std::uint64_t EntryPoller::read_errors() const {
    std::lock_guard lock(mutex_);
    return read_errors_;
}

}  // namespace qc::isolation
