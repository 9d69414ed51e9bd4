// qc-isolate: run a command pinned to one CPU under soft isolation (like
// taskset or chisol) and report what broke its isolation: syscalls by name,
// involuntary context switches, migrations and interrupts on that CPU, split
// into the start-up window and steady state.
//
//   qc-isolate --cpu N [--strict=log|signal|kill] [--oneshot]
//              [--report FILE.json] [--settle MS] -- CMD ARGS...
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "isolate_options.hpp"
#include "isolate_report.hpp"
#include "isolate_session.hpp"

int main(int argc, char** argv) {
    using namespace qc::isolate;
    CLI::App app{"qc-isolate: run a command pinned and soft-isolated, report its kernel entries"};
    Options options;
    add_options(app, options);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : kExitUsage;
    }
    if (const std::string problem = check_options(options); !problem.empty()) {
        std::cerr << "qc-isolate: " << problem << "\n";
        return kExitUsage;
    }
    std::ofstream json_file;
    if (options.report_path) {
        json_file.open(*options.report_path);
        if (!json_file) {
            std::cerr << "qc-isolate: --report: cannot write " << *options.report_path << "\n";
            return kExitUsage;
        }
    }

    Report report;
    const int status = run_isolated(options, report, std::cerr);
    if (report.exit_code || report.term_signal) {
        print_text(report, std::cerr);
        if (json_file.is_open()) {
            json_file << to_json(report).dump(2) << "\n";
        }
    }
    return status;
}
