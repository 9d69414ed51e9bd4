#include "quietcore/isolation/break_record.hpp"

namespace qc::isolation {

std::string_view to_string(BreakCause cause) noexcept {
    switch (cause) {
        case BreakCause::none:
            return "none";
        case BreakCause::syscall:
            return "syscall";
        case BreakCause::page_fault:
            return "page-fault";
        case BreakCause::exception:
            return "exception";
        case BreakCause::irq:
            return "irq";
        case BreakCause::ipi:
            return "ipi";
        case BreakCause::signal:
            return "signal";
        case BreakCause::preemption:
            return "preemption";
        case BreakCause::migration:
            return "migration";
        case BreakCause::affinity_change:
            return "affinity-change";
        case BreakCause::unknown:
            break;
    }
    return "unknown";
}

}  // namespace qc::isolation
