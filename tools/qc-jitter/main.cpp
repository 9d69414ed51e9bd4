// qc-jitter: how much of each listed CPU a busy loop really gets. One pinned
// thread per CPU reads the cycle counter back to back; every gap is
// histogrammed, gaps at or above --threshold are recorded with their start,
// and the interrupts, softirqs and preemptions of each CPU over the run say
// where the time went (DESIGN.md "Measuring"; anchors oslat, sysjitter).
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <system_error>

#include "jitter_options.hpp"
#include "jitter_report.hpp"
#include "jitter_run.hpp"
#include "quietcore/core/error.hpp"

int main(int argc, char** argv) {
    using namespace qc::jitter;
    CLI::App app{"qc-jitter: per-CPU cycle-counter jitter benchmark"};
    Options options;
    add_options(app, options);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : kExitUsage;
    }
    if (const std::string problem = check_options(options); !problem.empty()) {
        std::cerr << "qc-jitter: " << problem << "\n";
        return kExitUsage;
    }
    std::ofstream json_file;
    if (options.json_path) {
        json_file.open(*options.json_path);
        if (!json_file) {
            std::cerr << "qc-jitter: --json: cannot write " << *options.json_path << "\n";
            return kExitUsage;
        }
    }
    RunResult result;
    try {
        result = run_jitter(options);
    } catch (const ThresholdBelowLoopCost& e) {
        std::cerr << "qc-jitter: " << e.message << "\n";
        return kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "qc-jitter: " << e.what() << "\n";
        return kExitFailed;
    }
    if (!options.quiet) {
        print_table(options, result, std::cout);
    }
    if (json_file.is_open()) {
        json_file << to_json(options, result).dump(2) << "\n";
        if (!json_file.flush()) {
            std::cerr << "qc-jitter: --json: write to " << *options.json_path << " failed\n";
            return kExitFailed;
        }
    }
    return 0;
}
