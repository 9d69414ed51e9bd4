// --isolate: the measuring threads enter isolation with StrictMode::log (an
// entry is counted, never fatal) and the run reports what entered the kernel
// on them, by cause. On a kernel with the task-isolation patch that is the
// kernel back end (persistent mode; the kernel counts breaks in
// /proc/<pid>/task/<tid>/task_isolation); elsewhere the soft back end.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "quietcore/isolation/backend.hpp"
#include "quietcore/isolation/break_mailbox.hpp"
#include "quietcore/isolation/supervision.hpp"

namespace qc::jitter {

using isolation::BreakCounts;
using isolation::subtract;

// One worker's isolation; enter() and leave() run on the worker.
class IsolationSession {
  public:
    IsolationSession(isolation::Supervision& supervision, unsigned cpu)
        : supervision_(supervision), cpu_(cpu) {}
    // Before the run (may make syscalls). Failure is kept for error().
    void enter() noexcept;
    void leave() noexcept;
    bool entered() const noexcept { return entered_; }
    const std::string& error() const noexcept { return error_; }

  private:
    isolation::Supervision& supervision_;
    unsigned cpu_;
    std::unique_ptr<isolation::Backend> owned_backend_;
    isolation::Backend* backend_ = nullptr;
    isolation::BreakMailbox mailbox_;
    bool entered_ = false;
    std::string error_;
};

}  // namespace qc::jitter
