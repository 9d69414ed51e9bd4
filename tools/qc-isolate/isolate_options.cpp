#include "isolate_options.hpp"

#include <map>

#include "quietcore/core/thread.hpp"

namespace qc::isolate {

void add_options(CLI::App& app, Options& options) {
    app.add_option("--cpu", options.cpu, "CPU to pin the command to (one CPU)")->required();
    const std::map<std::string, isolation::StrictMode> modes{
        {"log", isolation::StrictMode::log},
        {"signal", isolation::StrictMode::signal},
        {"kill", isolation::StrictMode::kill}};
    app.add_option("--strict", options.strict,
                   "what a kernel entry in steady state does: log (record it), signal (SIGUSR1 "
                   "to the command), kill (SIGKILL)")
        ->transform(CLI::CheckedTransformer(modes, CLI::ignore_case));
    app.add_flag("--oneshot", options.oneshot,
                 "isolation ends at the first kernel entry in steady state, without a signal");
    app.add_option("--report", options.report_path, "also write the report as JSON to this file");
    app.add_option("--settle", options.settle_ms,
                   "start-up window in ms: entries before it are reported apart and never "
                   "break isolation (default 0)")
        ->check(CLI::Range(0u, 3'600'000u));
    app.add_option("command", options.command, "the command and its arguments, after --")
        ->required();
}

std::string check_options(const Options& options) {
    const core::CpuSet online = core::online_cpus();
    if (!online.contains(options.cpu)) {
        return "--cpu: CPU " + std::to_string(options.cpu) +
               " is not online (online: " + online.to_list() + ")";
    }
    return {};
}

const char* to_string(isolation::StrictMode mode) {
    switch (mode) {
        case isolation::StrictMode::off:
            return "off";
        case isolation::StrictMode::log:
            return "log";
        case isolation::StrictMode::signal:
            return "signal";
        case isolation::StrictMode::kill:
            return "kill";
    }
    return "?";
}

}  // namespace qc::isolate
