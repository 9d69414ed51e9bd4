// main() for the route tests of suite dpdk: EAL once per executable, on the
// embedded default of this machine (no hugepages, no NIC) and a file prefix
// unique to the process, so tests may run concurrently. --no-huge cannot be
// combined with --in-memory on DPDK 22.11 (--no-huge implies legacy memory);
// --no-shconf keeps the runtime directory empty but for the telemetry socket.
#pragma once

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace qc::dataplane::test {

inline std::string& eal_file_prefix() {
    static std::string prefix;
    return prefix;
}

// EAL leaves its (by then empty) runtime directory behind; remove ours.
inline void remove_runtime_dir(const std::string& dir) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
}

inline int run_with_eal(int argc, char** argv, const std::string& name) {
    ::testing::InitGoogleTest(&argc, argv);
    eal_file_prefix() = "qc-routes-" + name + "-" + std::to_string(getpid());
    std::vector<std::string> args{
        argv[0],         "--no-huge",       "-m",          "512",
        "--no-shconf",   "--no-pci",        "-l",          "0",
        "--file-prefix", eal_file_prefix(), "--log-level", "lib.eal:warning"};
    std::vector<char*> eal_argv;
    for (std::string& a : args) {
        eal_argv.push_back(a.data());
    }
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
        std::fprintf(stderr, "rte_eal_init failed\n");
        return 1;
    }
    const int rc = RUN_ALL_TESTS();
    const std::string runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    remove_runtime_dir(runtime_dir);
    return rc;
}

}  // namespace qc::dataplane::test
