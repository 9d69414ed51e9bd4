// qc-fwd: a DPDK packet forwarder whose workers run on isolated CPUs
// (issue 6, DESIGN.md "Data plane"). Exit codes: fwd_options.hpp.
#include <exception>
#include <iostream>

#include "fwd_options.hpp"
#include "fwd_session.hpp"
#include "quietcore/core/error.hpp"
#include "quietcore/core/signals.hpp"

int main(int argc, char** argv) {
    // Before any thread (EAL's included) so every thread inherits the mask and
    // SIGTERM can never land on an isolated worker (DESIGN.md "Signals").
    qc::core::block_async_signals();
    qc::fwd::FwdOptions options;
    try {
        options = qc::fwd::parse_fwd_options(argc, argv);
    } catch (const qc::fwd::OptionsError& e) {
        std::cerr << "qc-fwd: " << e.what() << "\n";
        return qc::fwd::kExitUsage;
    }
    if (!options.help.empty()) {
        std::cout << options.help;
        return qc::fwd::kExitOk;
    }
    try {
        return qc::fwd::run_forwarder(options, std::cout, std::cerr);
    } catch (const std::exception& e) {
        std::cerr << "qc-fwd: " << e.what() << "\n";
        return qc::fwd::kExitRuntime;
    }
}
