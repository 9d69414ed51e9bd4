// A Google Benchmark main that, after the usual table, prints how each of our
// hot paths compares with a peer measured in the same run (DESIGN.md
// "Measuring": ours side by side with a peer, reported as ratios).
#pragma once

#include <string>
#include <vector>

namespace qc::bench {

struct Comparison {
    std::string ours;  // benchmark name, as printed in the table
    std::string peer;
};

// Runs the benchmarks selected by argv (--benchmark_filter etc.), then one
// line per comparison whose two sides both ran: ours / peer in real time per
// iteration (the best repetition of each). Returns main's exit code.
int run_with_ratios(int argc, char** argv, const std::vector<Comparison>& comparisons);

}  // namespace qc::bench
