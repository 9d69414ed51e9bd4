// One qc-fwd run on the housekeeping thread: EAL, the forwarder, the route
// control commands, signals, live stats every interval, the summary at stop.
// Returns the process exit code (fwd_options.hpp).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "fwd_options.hpp"

namespace qc::fwd {

// The embedded default when no port was given: the NICs bound to a DPDK
// driver if the machine has any, else two net_null ports.
std::vector<std::string> default_ports(const std::vector<std::string>& bound_nics);

// Runs until the duration passes or SIGTERM/SIGINT (or SIGHUP/SIGQUIT)
// arrives. Every asynchronous signal must already be blocked in the calling
// thread (core::block_async_signals) so the EAL's threads inherit the mask.
// Live stats go to `out`, errors to `err`.
int run_forwarder(const FwdOptions& options, std::ostream& out, std::ostream& err);

}  // namespace qc::fwd
