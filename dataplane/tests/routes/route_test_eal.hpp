// main() for the route tests of suite dpdk: EAL once per executable through
// the project's own EalSession (the embedded default of this machine, a file
// prefix unique to the process so tests may run concurrently; it removes its
// runtime directory at the end), the same options as the rest of the suite.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "../dpdk/dpdk_test_support.hpp"
#include "quietcore/dataplane/eal_session.hpp"

namespace qc::dataplane::test {

inline int run_with_eal(int argc, char** argv, const std::string& name) {
    ::testing::InitGoogleTest(&argc, argv);
    EalSession eal(testing::test_eal_options("routes-" + name));
    return RUN_ALL_TESTS();
}

}  // namespace qc::dataplane::test
