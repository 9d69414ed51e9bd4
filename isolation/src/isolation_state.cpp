#include "quietcore/isolation/isolation_state.hpp"

#include <cstdio>
#include <cstring>

namespace qc::isolation {

std::string_view to_string(IsolationState state) noexcept {
    switch (state) {
        case IsolationState::idle:
            return "idle";
        case IsolationState::quiescing:
            return "quiescing";
        case IsolationState::isolated:
            return "isolated";
        case IsolationState::broken:
            return "broken";
        case IsolationState::stopped:
            break;
    }
    return "stopped";
}

std::string_view to_string(Trigger trigger) noexcept {
    switch (trigger) {
        case Trigger::prepare:
            return "prepare";
        case Trigger::entered:
            return "entered";
        case Trigger::enter_retry:
            return "enter-retry";
        case Trigger::enter_refused:
            return "enter-refused";
        case Trigger::broke:
            return "broke";
        case Trigger::degrade:
            return "degrade";
        case Trigger::stop:
            return "stop";
        case Trigger::leave:
            break;
    }
    return "leave";
}

std::string_view to_string(BreakPolicy policy) noexcept {
    switch (policy) {
        case BreakPolicy::reenter:
            return "reenter";
        case BreakPolicy::degrade:
            return "degrade";
        case BreakPolicy::stop:
            break;
    }
    return "stop";
}

std::string describe(const BreakRecord& r) {
    std::string out(to_string(r.cause));
    switch (r.cause) {
        case BreakCause::syscall:
            out += " " + std::to_string(r.syscall_nr);
            break;
        case BreakCause::page_fault: {
            char hex[32];
            std::snprintf(hex, sizeof hex, " at 0x%llx",
                          static_cast<unsigned long long>(r.address));
            out += hex;
            break;
        }
        case BreakCause::exception:
            out += " vector " + std::to_string(r.vector);
            break;
        case BreakCause::irq:
            out += " " + std::to_string(r.irq) + " (vector " + std::to_string(r.vector) + ")";
            break;
        case BreakCause::ipi:
            out += " kind " + std::to_string(r.vector) +
                   (r.source_cpu >= 0 ? " from CPU " + std::to_string(r.source_cpu) : "");
            break;
        case BreakCause::signal:
            out += " " + std::to_string(r.signal);
            break;
        default:
            break;
    }
    if (r.cpu >= 0) {
        out += " on CPU " + std::to_string(r.cpu);
    }
    return out;
}

std::string describe(const IsolationEvent& e) {
    std::string out = std::string(to_string(e.from)) + " -> " + std::string(to_string(e.to)) +
                      " (" + std::string(to_string(e.trigger)) + ", attempt " +
                      std::to_string(e.attempt) + ")";
    if (e.error != 0) {
        const char* name = strerrorname_np(e.error);
        out += name != nullptr ? ": " + std::string(name) : ": errno " + std::to_string(e.error);
    }
    if (e.trigger == Trigger::broke) {
        out += ": " + describe(e.cause);
    }
    return out;
}

}  // namespace qc::isolation
