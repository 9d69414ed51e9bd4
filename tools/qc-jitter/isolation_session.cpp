#include "isolation_session.hpp"

#include <exception>

namespace qc::jitter {

void IsolationSession::enter() noexcept {
    try {
        backend_ = &supervision_.backend_for_worker(owned_backend_);
        isolation::IsolationRequest request;
        request.strict = isolation::StrictMode::log;
        backend_->enter(request, mailbox_);
        entered_ = true;
    } catch (const std::exception& e) {
        error_ = "CPU " + std::to_string(cpu_) + ": " + e.what();
    }
}

void IsolationSession::leave() noexcept {
    if (entered_) {
        backend_->leave();
    }
}

}  // namespace qc::jitter
