// What a running forwarder reports (DESIGN.md "Data plane": every packet is
// accounted for): per worker, per port and per mempool, taken by housekeeping
// from the workers' single-writer counters. Plain values, no DPDK types, so
// reports and tests are written without EAL.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quietcore/dataplane/stages.hpp"
#include "quietcore/isolation/isolation_state.hpp"

namespace qc::dataplane {

// Per-packet residence time in the forwarder, rx stamp to tx, in ns.
struct LatencySummary {
    std::uint64_t count = 0;  // packets measured (0: probe off or nothing sent)
    std::uint64_t p50_ns = 0;
    std::uint64_t p99_ns = 0;
    std::uint64_t p999_ns = 0;
    std::uint64_t max_ns = 0;
};

struct WorkerStats {
    unsigned cpu = 0;
    unsigned lcore = 0;
    BurstCounters packets;         // received = forwarded (transmitted) + drops by reason
    std::uint64_t iterations = 0;  // loop iterations, empty polls included
    LatencySummary latency;
    std::string isolation_backend;  // "kernel", "soft" or "none"
    isolation::IsolationState isolation_state = isolation::IsolationState::idle;
    std::uint64_t breaks = 0;     // isolation breaks taken, all causes
    std::string last_break;       // describe(record) of the latest, "" if none
    std::string isolation_error;  // last refused enter, "" if none
};

struct PortStats {
    std::uint16_t id = 0;
    std::string name;  // "net_null0", "0000:01:00.0"
    int numa = -1;     // -1 when the device does not say
    std::uint64_t rx = 0, tx = 0, imissed = 0, ierrors = 0, oerrors = 0, rx_nombuf = 0;
};

struct PoolStats {
    int numa = 0;
    std::uint32_t size = 0;       // mbufs in the pool
    std::uint32_t available = 0;  // free now; == size once stopped means every mbuf came back
};

struct RouteStats {
    std::uint64_t version = 0;  // bumped by every published table
    std::uint64_t count = 0;    // routes in the current table
    std::uint64_t updates = 0;  // updates applied since start
};

struct FwdStats {
    double elapsed_s = 0;  // since the workers started (to the stop, once stopped)
    std::vector<WorkerStats> workers;
    std::vector<PortStats> ports;
    std::vector<PoolStats> pools;
    RouteStats routes;

    BurstCounters totals() const noexcept {
        BurstCounters sum;
        for (const WorkerStats& w : workers) {
            sum.received += w.packets.received;
            sum.forwarded += w.packets.forwarded;
            for (std::size_t i = 0; i < sum.drops.size(); ++i) {
                sum.drops[i] += w.packets.drops[i];
            }
        }
        return sum;
    }
};

}  // namespace qc::dataplane
