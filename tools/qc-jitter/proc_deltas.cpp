#include "proc_deltas.hpp"

#include "quietcore/core/text_file.hpp"

namespace qc::jitter {

ProcSnapshot take_proc_snapshot() {
    return ProcSnapshot{isolation::parse_interrupts(core::read_text_file("/proc/interrupts")),
                        isolation::parse_interrupts(core::read_text_file("/proc/softirqs"))};
}

std::map<std::string, std::uint64_t> cpu_deltas(const isolation::InterruptTable& before,
                                                const isolation::InterruptTable& after,
                                                unsigned cpu) {
    std::map<std::string, std::uint64_t> deltas;
    for (const isolation::InterruptRow& row : after.rows) {
        const auto now = after.count(row.name, cpu);
        const auto then = before.count(row.name, cpu);
        if (now && then && *now > *then) {
            deltas[row.name] += *now - *then;
        }
    }
    return deltas;
}

std::uint64_t involuntary_switches(pid_t tid) {
    return isolation::parse_status_number(
        core::read_text_file("/proc/self/task/" + std::to_string(tid) + "/status"),
        "nonvoluntary_ctxt_switches");
}

}  // namespace qc::jitter
