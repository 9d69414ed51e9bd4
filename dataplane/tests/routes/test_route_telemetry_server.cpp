// Server half of the telemetry end-to-end test (route_telemetry_test.py):
// EAL with telemetry on, a RouteTable registered with
// register_route_telemetry, and one QSBR reader thread doing lookups, as a
// worker would. Prints "ready <file-prefix>" and serves until stdin closes,
// then prints the final routes (one per line) and "reader bursts N".
#define _LGPL_SOURCE
#include <unistd.h>
#include <urcu/urcu-qsbr.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "quietcore/core/thread.hpp"
#include "quietcore/dataplane/eal_session.hpp"
#include "quietcore/dataplane/route_table.hpp"
#include "quietcore/dataplane/route_telemetry.hpp"

int main(int argc, char** argv) {
    using namespace qc::dataplane;
    std::string prefix = "qc-routes-tel-" + std::to_string(getpid());
    if (argc > 1) {
        prefix = argv[1];
    }
    EalOptions options;
    options.worker_cpus = {qc::core::online_cpus().cpus().back()};
    options.file_prefix = prefix;
    options.extra_args = {"--log-level=lib.eal:warning"};
    EalSession eal(options);  // rte_eal_cleanup and the runtime dir removal at the end
    int rc = 0;
    {
        RouteTable table(0, 1024);
        register_route_telemetry(table);
        std::atomic<bool> stop{false};
        std::atomic<std::uint64_t> bursts{0};
        std::thread reader([&] {
            urcu_qsbr_register_thread();
            while (!stop.load(std::memory_order_relaxed)) {
                urcu_qsbr_quiescent_state();
                const RouteSnapshot* s = table.current();
                for (std::uint32_t i = 0; i < 32; ++i) {
                    (void)s->lookup(0x0a000000u + i);
                }
                bursts.fetch_add(1, std::memory_order_relaxed);
            }
            urcu_qsbr_unregister_thread();
        });
        std::printf("ready %s\n", prefix.c_str());
        std::fflush(stdout);
        std::string line;
        while (std::getline(std::cin, line)) {
        }
        stop = true;
        reader.join();
        for (const Route& r : table.routes()) {
            std::printf("route %s\n", to_string(r).c_str());
        }
        const RouteStats s = table.stats();
        std::printf("version %llu updates %llu\nreader bursts %llu\n",
                    static_cast<unsigned long long>(s.version),
                    static_cast<unsigned long long>(s.updates),
                    static_cast<unsigned long long>(bursts.load()));
        rc = bursts.load() > 0 ? 0 : 1;
    }
    return rc;
}
