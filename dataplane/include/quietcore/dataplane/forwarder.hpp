// A packet forwarder on the framework (contract of issue 6): pools, ports,
// route table and workers, one worker per worker CPU on its EAL lcore.
// Worker w polls rx queue w of every port and sends on tx queue w. io and
// macswap send port 2k <-> 2k+1 (an odd last port sends back to itself);
// l3fwd takes the out port and destination MAC from the route (the source
// MAC is the out port's own); custom runs the program's stage
// (custom_stage.hpp) and sends where it says.
//
//   EalSession eal(eal_options);
//   Forwarder fwd(config);   // EAL up: pools, ports, routes, workers ready
//   fwd.start();             // ports started, tx_first injected, workers launched
//   ... fwd.stats() ...      // any time, from housekeeping
//   fwd.stop();              // sticky cancel; workers drain, leave isolation,
//                            // go RCU-offline; joined; ports stopped
//
// Housekeeping only; stats() may be called from several threads (the
// telemetry thread among them). Telemetry (/qcfwd/stats, /qcfwd/workers)
// answers for the newest live Forwarder.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "quietcore/core/cancellation.hpp"
#include "quietcore/core/cycle_counter.hpp"
#include "quietcore/dataplane/custom_stage.hpp"
#include "quietcore/dataplane/fwd_mode.hpp"
#include "quietcore/dataplane/fwd_stats.hpp"
#include "quietcore/dataplane/ports.hpp"
#include "quietcore/dataplane/route_table.hpp"
#include "quietcore/isolation/backend.hpp"
#include "quietcore/isolation/isolation_state.hpp"

namespace qc::dataplane {

class Mempools;
class Worker;

// Routes a forwarder's table holds at most.
inline constexpr std::uint32_t kForwarderMaxRoutes = 4096;

struct ForwarderConfig {
    std::vector<std::string> port_names;  // ethdev names ("net_null0", "ring_a", PCI address)
    std::vector<unsigned> worker_cpus;
    FwdMode mode = FwdMode::io;
    std::uint16_t burst = 32;
    std::uint32_t mbufs_per_pool = 16384;
    std::uint16_t rx_descriptors = 1024, tx_descriptors = 1024;
    bool latency_probe = true;
    // Like testpmd --tx-first: bursts of 64-byte UDP/IPv4 frames injected on
    // tx queue 0 of every port at start(), before the workers run.
    std::uint32_t tx_first_bursts = 0;
    IsolationChoice isolation = IsolationChoice::auto_detect;
    isolation::IsolationRequest request;  // strict mode
    isolation::IsolationPolicy policy;    // after_break
    std::vector<Route> routes;            // l3fwd
    CustomStage custom_stage;             // mode custom: run by every worker
};

// The frame tx_first sends: 64 bytes, Ethernet II (dst, src), IPv4 (header
// checksum valid, TTL 64, UDP, 10.0.0.1 -> 10.0.1.1, total length 50), UDP
// 1024 -> 1024 (checksum 0), payload zero. `frame` holds >= 64 bytes.
inline constexpr std::size_t kTxFirstFrameLen = 64;
void write_tx_first_frame(std::uint8_t* frame, const MacAddress& dst,
                          const MacAddress& src) noexcept;

class Forwarder {
  public:
    // Needs a live EalSession. Throws core::Error naming what is wrong: a
    // worker CPU that is not an EAL worker lcore, a port (ports.hpp), a route
    // whose port is not one of this forwarder's, a burst outside 1..512, the
    // kernel back end on a kernel without task isolation.
    explicit Forwarder(const ForwarderConfig& config);
    ~Forwarder();  // stop()s if running
    Forwarder(const Forwarder&) = delete;
    Forwarder& operator=(const Forwarder&) = delete;

    // Ports started, tx_first frames injected, workers launched. Once only;
    // throws core::Error otherwise or when an lcore is busy.
    void start();
    // Any time, from housekeeping.
    FwdStats stats() const;
    // Sticky: once called the forwarder never runs again. Waits for every
    // worker; takes the final port statistics; frees what the ports still
    // hold in their rx queues; stops the ports. No-op when already stopped.
    void stop();
    // After stop(): closes the ports, so the mbufs a PMD still holds (net_tap's
    // rx rings) return to their pools and stats() can show every mbuf back.
    // The ports are gone for the rest of the process (qc-fwd calls this at
    // the end; a test that reuses its vdevs does not).
    void release_ports();
    bool running() const noexcept;

    RouteTable& routes() noexcept { return *routes_; }
    const ForwarderConfig& config() const noexcept { return config_; }
    const Ports& ports() const noexcept { return *ports_; }
    // "kernel", "soft" or "none".
    const std::string& isolation_backend() const noexcept { return backend_name_; }

  private:
    enum class Phase { ready, running, stopped };
    void inject_tx_first();

    ForwarderConfig config_;
    std::string backend_name_ = "none";
    core::CycleConverter converter_;
    core::CancellationSource cancel_;
    std::unique_ptr<Mempools> pools_;
    std::unique_ptr<RouteTable> routes_;
    std::unique_ptr<Ports> ports_;
    std::vector<std::unique_ptr<isolation::Backend>> owned_backends_;
    std::vector<std::unique_ptr<Worker>> workers_;
    Phase phase_ = Phase::ready;
    std::chrono::steady_clock::time_point started_{}, stopped_{};
    std::vector<PortStats> final_ports_;
    mutable std::mutex mutex_;  // phase, final stats, worker event rings
};

// Telemetry (stats_telemetry.cpp): registers /qcfwd/stats and /qcfwd/workers
// once per process; they answer for `forwarder` (nullptr: an error reply).
// The Forwarder attaches itself at construction and detaches at destruction.
void attach_telemetry(const Forwarder* forwarder);
void detach_telemetry(const Forwarder* forwarder);

}  // namespace qc::dataplane
