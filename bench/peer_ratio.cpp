#include "peer_ratio.hpp"

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>

namespace qc::bench {

namespace {

// The console table as usual, plus each benchmark's time per iteration.
class RatioReporter : public benchmark::ConsoleReporter {
  public:
    // Colour only on a terminal, so logs stay plain text.
    RatioReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}

    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs) {
            if (run.run_type != Run::RT_Iteration || run.error_occurred) {
                continue;
            }
            double ns =
                run.GetAdjustedRealTime() * 1e9 / benchmark::GetTimeUnitMultiplier(run.time_unit);
            auto [it, fresh] = ns_per_iteration_.emplace(run.benchmark_name(), ns);
            if (!fresh) {
                it->second = std::min(it->second, ns);  // best of the repetitions
            }
        }
        ConsoleReporter::ReportRuns(runs);
    }

    const std::map<std::string, double>& results() const { return ns_per_iteration_; }

  private:
    std::map<std::string, double> ns_per_iteration_;
};

}  // namespace

int run_with_ratios(int argc, char** argv, const std::vector<Comparison>& comparisons) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    RatioReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();

    const auto& ns = reporter.results();
    bool header = false;
    for (const Comparison& c : comparisons) {
        auto ours = ns.find(c.ours);
        auto peer = ns.find(c.peer);
        if (ours == ns.end() || peer == ns.end() || peer->second <= 0) {
            continue;
        }
        if (!header) {
            std::printf("\nours / peer (real time per iteration, best repetition):\n");
            header = true;
        }
        std::printf("  %-40s %8.2f ns / %-36s %8.2f ns = %6.2f\n", c.ours.c_str(), ours->second,
                    c.peer.c_str(), peer->second, ours->second / peer->second);
    }
    std::fflush(stdout);
    return 0;
}

}  // namespace qc::bench
