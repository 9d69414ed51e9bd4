// One qc-isolate run: set up the supervisor and the entry poller on
// housekeeping CPUs, launch the command pinned and filtered, open isolation
// after the start-up window, wait for the command and collect the report.
#pragma once

#include <ostream>

#include "isolate_options.hpp"
#include "isolate_report.hpp"

namespace qc::isolate {

// Runs the command; fills `report`. Returns qc-isolate's exit status: the
// command's (128+signal when killed), 127 when it could not be executed, 1
// when isolation could not be set up (with a message on `err`).
int run_isolated(const Options& options, Report& report, std::ostream& err);

}  // namespace qc::isolate
