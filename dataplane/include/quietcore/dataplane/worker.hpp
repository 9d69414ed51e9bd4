// One forwarding worker on an EAL lcore (DESIGN.md "Data plane", "Two kinds
// of thread"). Built by housekeeping (all memory allocated and touched
// here), launched with rte_eal_remote_launch so the mempool's per-lcore cache
// works, and driven by the loop of DESIGN.md:
//
//   if cancelled -> drain, leave isolation, exit
//   if broken    -> policy (IsolatedThread::poll)
//   quiescent state (QSBR)
//   for each port: rx_burst; stamp; stage; tx_burst per out port; count
//
// Before the loop (may make syscalls): block asynchronous signals, register
// with liburcu QSBR, enter isolation (IsolatedThread::start(); the STRICT
// handler is attached by the back end). In steady state: no syscall, no
// allocation, no lock, no log. Counters have one writer (the worker) and are
// relaxed atomics updated by load + store, so housekeeping reads them whole.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quietcore/core/cancellation.hpp"
#include "quietcore/core/cycle_counter.hpp"
#include "quietcore/core/event_ring.hpp"
#include "quietcore/core/histogram.hpp"
#include "quietcore/dataplane/custom_stage.hpp"
#include "quietcore/dataplane/fwd_mode.hpp"
#include "quietcore/dataplane/fwd_stats.hpp"
#include "quietcore/dataplane/ports.hpp"
#include "quietcore/dataplane/route_table.hpp"
#include "quietcore/isolation/backend.hpp"
#include "quietcore/isolation/isolated_thread.hpp"

struct rte_mbuf;

namespace qc::dataplane {

// Largest burst a worker accepts (qc-fwd's --burst range).
inline constexpr std::uint16_t kMaxBurst = 512;

// The ports a worker serves, by index in the forwarder's port list.
struct WorkerPort {
    std::uint16_t id = 0;    // ethdev port id
    std::uint16_t peer = 0;  // io/macswap: index of the port it sends to
    MacAddress mac{};        // l3fwd: source MAC of frames sent out of it
};

struct WorkerPlan {
    unsigned cpu = 0;
    unsigned lcore = 0;
    std::uint16_t queue = 0;  // rx queue polled on every port, tx queue used
    FwdMode mode = FwdMode::io;
    std::uint16_t burst = 32;
    bool latency_probe = true;
    int latency_offset = -1;  // the dynfield (latency_dynfield_offset()), when probing
    std::vector<WorkerPort> ports;
    RouteTable* routes = nullptr;  // l3fwd lookups and QSBR reader slot
    CustomStage custom;            // FwdMode::custom: the program's stage
    // nullptr: the worker does not enter isolation (IsolationChoice::none).
    isolation::Backend* backend = nullptr;
    std::string backend_name = "none";
    isolation::IsolationRequest request;
    isolation::IsolationPolicy policy;
};

class Worker {
  public:
    // Housekeeping: allocates and touches everything the loop uses. Throws
    // core::Error for a burst outside 1..kMaxBurst, no port, a bad peer, or
    // a mode that needs what the plan lacks (l3fwd without routes, custom
    // without a stage).
    Worker(WorkerPlan plan, core::CancellationToken cancel);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    // rte_eal_remote_launch entry: `self` is a Worker*.
    static int entry(void* self);
    // On the worker's lcore: the whole life of the worker. 0 when it ran.
    int run() noexcept;

    // Housekeeping, any time.
    WorkerStats stats(const core::CycleConverter& converter) const;
    // Drains the isolation event ring (single consumer: serialise callers).
    void drain_events();
    bool finished() const noexcept { return finished_.load(std::memory_order_acquire); }
    const WorkerPlan& plan() const noexcept { return plan_; }

  private:
    struct alignas(64) Counters {
        std::atomic<std::uint64_t> received{0};
        std::atomic<std::uint64_t> forwarded{0};
        std::array<std::atomic<std::uint64_t>, kDropReasonCount> drops{};
        std::atomic<std::uint64_t> iterations{0};
    };
    // Per out port: the packets of this burst that go there.
    struct TxGroup {
        std::uint16_t count = 0;
        rte_mbuf** mbufs = nullptr;
    };

    void loop() noexcept;
    template <FwdMode Mode, bool Probe>
    void loop_mode() noexcept;
    template <FwdMode Mode, bool Probe>
    void forward_burst(std::size_t in, rte_mbuf** pkts, std::uint16_t n, BurstCounters& local,
                       std::uint64_t rx_cycles) noexcept;
    std::uint16_t send_io(std::uint16_t out_id, std::uint16_t queue, rte_mbuf** pkts,
                          std::uint16_t n) noexcept;
    void record_latency(std::uint64_t stamp, std::uint64_t taken) noexcept;
    std::uint16_t send(std::size_t out, rte_mbuf** pkts, std::uint16_t n,
                       BurstCounters& local) noexcept;
    // l3fwd and custom: queue `m` for out port index `port`; send_groups()
    // sends every queued group at the end of the burst.
    void group(std::uint16_t port, rte_mbuf* m, std::uint16_t& used) noexcept;
    std::uint64_t send_groups(std::uint16_t used, BurstCounters& local) noexcept;
    void publish(const BurstCounters& local) noexcept;

    WorkerPlan plan_;
    core::CancellationToken cancel_;
    Counters counters_;
    core::Histogram latency_;
    std::vector<rte_mbuf*> rx_;                     // burst
    std::vector<rte_mbuf*> drop_;                   // burst
    std::vector<rte_mbuf*> tx_;                     // ports x burst
    std::vector<TxGroup> groups_;                   // per port
    std::vector<std::uint16_t> used_;               // out ports with packets this burst
    std::array<std::int16_t, 1024> index_of_id_{};  // ethdev id -> port index, or -1
    core::SpscRing<isolation::IsolationEvent> events_;
    std::optional<isolation::IsolatedThread> isolated_;
    std::size_t reader_slot_ = 0;
    bool have_reader_slot_ = false;
    std::atomic<bool> finished_{false};
    std::atomic<bool> started_isolation_{false};
    std::string start_error_;  // written before started_isolation_ (release)
    std::string last_break_;   // housekeeping (drain_events)
};

}  // namespace qc::dataplane
