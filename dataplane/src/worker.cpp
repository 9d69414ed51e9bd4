#define _LGPL_SOURCE 1  // urcu_qsbr_quiescent_state() inline
#include "quietcore/dataplane/worker.hpp"

#include <alloca.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <urcu/urcu-qsbr.h>

#include <algorithm>
#include <cstring>
#include <exception>

#include "quietcore/core/error.hpp"
#include "quietcore/core/signals.hpp"
#include "quietcore/dataplane/latency_probe.hpp"
#include "quietcore/dataplane/stages.hpp"

namespace qc::dataplane {

namespace {

static_assert(RTE_MAX_ETHPORTS <= 1024, "Worker::index_of_id_ is indexed by ethdev port id");

constexpr std::size_t kEventRingCapacity = 256;
constexpr std::uint16_t kPrefetchAhead = 4;

// Touch `bytes` of stack below the caller so the loop takes no stack fault.
[[gnu::noinline]] void prefault_stack(std::size_t bytes) noexcept {
    auto* stack = static_cast<volatile char*>(alloca(bytes));
    for (std::size_t i = 0; i < bytes; i += 4096) {
        stack[i] = 0;
    }
}

// Single writer: plain load and store, no locked instruction.
inline void add(std::atomic<std::uint64_t>& counter, std::uint64_t n) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

inline std::uint8_t* frame_of(rte_mbuf* m) noexcept {
    return rte_pktmbuf_mtod(m, std::uint8_t*);
}

// The stages read each frame's headers: have the first ones in flight before
// the loop, and packet i + kPrefetchAhead while packet i is processed.
inline void prefetch_first(rte_mbuf* const* pkts, std::uint16_t n) noexcept {
    for (std::uint16_t i = 0; i < std::min(n, kPrefetchAhead); ++i) {
        rte_prefetch0(frame_of(pkts[i]));
    }
}

inline void prefetch_ahead(rte_mbuf* const* pkts, std::uint16_t n, std::uint16_t i) noexcept {
    if (i + kPrefetchAhead < n) {
        rte_prefetch0(frame_of(pkts[i + kPrefetchAhead]));
    }
}

// Sends `n` packets; frees the ones the queue refused. Returns how many it took.
inline std::uint16_t transmit(std::uint16_t port_id, std::uint16_t queue, rte_mbuf** pkts,
                              std::uint16_t n) noexcept {
    const std::uint16_t sent = rte_eth_tx_burst(port_id, queue, pkts, n);
    if (sent < n) [[unlikely]] {
        rte_pktmbuf_free_bulk(pkts + sent, n - sent);
    }
    return sent;
}

}  // namespace

Worker::Worker(WorkerPlan plan, core::CancellationToken cancel)
    : plan_(std::move(plan)),
      cancel_(std::move(cancel)),
      latency_(latency_histogram_config()),
      events_(kEventRingCapacity) {
    const std::string who = "worker on CPU " + std::to_string(plan_.cpu);
    if (plan_.burst == 0 || plan_.burst > kMaxBurst) {
        throw core::Error(who + ": burst " + std::to_string(plan_.burst) + " is outside 1.." +
                          std::to_string(kMaxBurst));
    }
    if (plan_.ports.empty()) {
        throw core::Error(who + ": no port");
    }
    if (plan_.mode == FwdMode::l3fwd && plan_.routes == nullptr) {
        throw core::Error(who + ": l3fwd needs a route table");
    }
    if (plan_.mode == FwdMode::custom && !plan_.custom) {
        throw core::Error(who + ": mode custom needs a stage (WorkerPlan::custom)");
    }
    if (plan_.latency_probe && plan_.latency_offset < 0) {
        throw core::Error(who + ": the latency probe needs its mbuf field");
    }
    index_of_id_.fill(-1);
    for (std::size_t i = 0; i < plan_.ports.size(); ++i) {
        if (plan_.ports[i].peer >= plan_.ports.size()) {
            throw core::Error(who + ": port " + std::to_string(plan_.ports[i].id) +
                              " sends to a port index out of range");
        }
        index_of_id_[plan_.ports[i].id] = static_cast<std::int16_t>(i);
    }
    // Zero-filled: every page the loop uses is touched here.
    rx_.assign(plan_.burst, nullptr);
    drop_.assign(plan_.burst, nullptr);
    tx_.assign(std::size_t{plan_.burst} * plan_.ports.size(), nullptr);
    groups_.resize(plan_.ports.size());
    for (std::size_t i = 0; i < groups_.size(); ++i) {
        groups_[i].mbufs = tx_.data() + i * plan_.burst;
    }
    used_.assign(plan_.ports.size(), 0);
    if (plan_.backend != nullptr) {
        isolated_.emplace(*plan_.backend, plan_.request, plan_.policy, events_);
    }
    if (plan_.routes != nullptr) {
        reader_slot_ = plan_.routes->take_reader_slot();
        have_reader_slot_ = true;
    }
}

Worker::~Worker() {
    if (have_reader_slot_ && !finished()) {
        // Never launched: the slot was not used by a registered reader.
        plan_.routes->release_reader_slot(reader_slot_);
    }
}

int Worker::entry(void* self) {
    return static_cast<Worker*>(self)->run();
}

int Worker::run() noexcept {
    try {
        core::block_async_signals();
    } catch (const std::exception&) {
        // The lcore thread inherited the mask from rte_eal_init's caller.
    }
    urcu_qsbr_register_thread();
    prefault_stack(32 * 1024);
    if (isolated_) {
        isolated_->start();
        start_error_ = std::string(isolated_->last_error());
    }
    started_isolation_.store(true, std::memory_order_release);

    loop();

    // Run to completion: every packet received was sent or freed in its
    // burst, nothing is in flight. Long absence from now on: offline first.
    if (have_reader_slot_) {
        plan_.routes->offline(reader_slot_);
    } else {
        urcu_qsbr_thread_offline();
    }
    if (isolated_) {
        isolated_->leave();
    }
    if (have_reader_slot_) {
        plan_.routes->release_reader_slot(reader_slot_);
    }
    urcu_qsbr_unregister_thread();
    finished_.store(true, std::memory_order_release);
    return 0;
}

void Worker::loop() noexcept {
    // One loop per mode and probe setting: the mode switch and the probe tests
    // are taken once here, not on every burst (a net_ring io burst is ~500
    // instructions, of which the worker's own were ~110 with them).
    const bool probe = plan_.latency_probe;
    switch (plan_.mode) {
        case FwdMode::io:
            return probe ? loop_mode<FwdMode::io, true>() : loop_mode<FwdMode::io, false>();
        case FwdMode::macswap:
            return probe ? loop_mode<FwdMode::macswap, true>()
                         : loop_mode<FwdMode::macswap, false>();
        case FwdMode::l3fwd:
            return probe ? loop_mode<FwdMode::l3fwd, true>() : loop_mode<FwdMode::l3fwd, false>();
        case FwdMode::custom:
            return probe ? loop_mode<FwdMode::custom, true>() : loop_mode<FwdMode::custom, false>();
    }
}

template <FwdMode Mode, bool Probe>
void Worker::loop_mode() noexcept {
    const std::size_t nports = plan_.ports.size();
    const WorkerPort* const ports = plan_.ports.data();
    const std::uint16_t burst = plan_.burst;
    const std::uint16_t queue = plan_.queue;
    const int offset = plan_.latency_offset;
    rte_mbuf** const rx = rx_.data();
    for (;;) {
        if (cancel_.stop_requested()) [[unlikely]] {
            return;
        }
        if (isolated_ && !isolated_->poll()) [[unlikely]] {
            return;  // policy: stop
        }
        if (have_reader_slot_) {
            plan_.routes->quiescent_state(reader_slot_);
        } else {
            urcu_qsbr_quiescent_state();
        }
        add(counters_.iterations, 1);
        for (std::size_t p = 0; p < nports; ++p) {
            const std::uint16_t n = rte_eth_rx_burst(ports[p].id, queue, rx, burst);
            if (n == 0) {
                continue;
            }
            std::uint64_t rx_cycles = 0;
            if constexpr (Probe) {
                rx_cycles = core::CycleCounter::read();
                stamp_burst(rx, n, offset, rx_cycles);
            }
            if constexpr (Mode == FwdMode::io) {
                // Nothing to look at: no per-burst counter struct either.
                const std::uint16_t sent = send_io(ports[ports[p].peer].id, queue, rx, n);
                if constexpr (Probe) {
                    record_latency(rx_cycles, sent);
                }
            } else {
                BurstCounters local;
                forward_burst<Mode, Probe>(p, rx, n, local, rx_cycles);
                publish(local);
            }
        }
    }
}

// Inlined into loop_mode(): out of line, forward_burst/send/publish were three
// calls per burst and cost ~20% of the io loop on net_ring (perf).
template <FwdMode Mode, bool Probe>
[[gnu::always_inline]] inline void Worker::forward_burst(std::size_t in, rte_mbuf** pkts,
                                                         std::uint16_t n, BurstCounters& local,
                                                         std::uint64_t rx_cycles) noexcept {
    local.received = n;
    std::uint16_t dropped = 0;
    std::uint64_t taken = 0;

    if constexpr (Mode == FwdMode::macswap) {
        std::uint16_t kept = 0;
        prefetch_first(pkts, n);
        for (std::uint16_t i = 0; i < n; ++i) {
            prefetch_ahead(pkts, n, i);
            rte_mbuf* m = pkts[i];
            if (macswap(frame_of(m), rte_pktmbuf_data_len(m))) [[likely]] {
                // Only after a drop: a store per packet into the array this
                // loop reads ahead in halved macswap on a net_ring loop.
                if (dropped != 0) [[unlikely]] {
                    pkts[kept] = m;
                }
                ++kept;
            } else {
                drop_[dropped++] = m;
                ++local.drops[index(DropReason::truncated)];
            }
        }
        local.forwarded = kept;
        taken = kept == 0 ? 0 : send(plan_.ports[in].peer, pkts, kept, local);
    } else if constexpr (Mode == FwdMode::l3fwd) {
        const RouteSnapshot* snapshot = plan_.routes->current();  // one per burst
        std::uint16_t used = 0;
        prefetch_first(pkts, n);
        for (std::uint16_t i = 0; i < n; ++i) {
            prefetch_ahead(pkts, n, i);
            rte_mbuf* m = pkts[i];
            std::uint8_t* frame = frame_of(m);
            const NextHop* hop = nullptr;
            const auto lookup = [&](std::uint32_t dst) noexcept -> std::optional<std::uint16_t> {
                hop = snapshot == nullptr ? nullptr : snapshot->lookup(dst);
                if (hop == nullptr || hop->port >= index_of_id_.size() ||
                    index_of_id_[hop->port] < 0) {
                    return std::nullopt;  // no route, or a port this forwarder lacks
                }
                return static_cast<std::uint16_t>(index_of_id_[hop->port]);
            };
            const StageResult r = l3fwd(frame, rte_pktmbuf_data_len(m), lookup);
            if (!r.forwarded()) {
                drop_[dropped++] = m;
                ++local.drops[index(r.reason)];
                continue;
            }
            if (hop->dst_mac) {
                std::memcpy(frame, hop->dst_mac->data(), 6);
            }
            std::memcpy(frame + 6, plan_.ports[r.port].mac.data(), 6);
            group(r.port, m, used);
            ++local.forwarded;
        }
        taken = send_groups(used, local);
    } else {
        static_assert(Mode == FwdMode::custom, "io has its own path in loop_mode()");
        const auto in_port = static_cast<std::uint16_t>(in);
        std::uint16_t used = 0;
        prefetch_first(pkts, n);
        for (std::uint16_t i = 0; i < n; ++i) {
            prefetch_ahead(pkts, n, i);
            rte_mbuf* m = pkts[i];
            StageResult r = plan_.custom(frame_of(m), rte_pktmbuf_data_len(m), in_port);
            if ((r.forwarded() && r.port >= plan_.ports.size()) ||
                index(r.reason) >= kDropReasonCount) [[unlikely]] {
                r = StageResult::drop(DropReason::no_route);  // no such port (or reason)
            }
            if (!r.forwarded()) {
                drop_[dropped++] = m;
                ++local.drops[index(r.reason)];
                continue;
            }
            group(r.port, m, used);
            ++local.forwarded;
        }
        taken = send_groups(used, local);
    }
    if (dropped != 0) {
        rte_pktmbuf_free_bulk(drop_.data(), dropped);
    }
    if constexpr (Probe) {
        record_latency(rx_cycles, taken);  // rx_cycles: the burst's stamp
    }
}

[[gnu::always_inline]] inline void Worker::record_latency(std::uint64_t stamp,
                                                          std::uint64_t taken) noexcept {
    if (taken != 0) {
        latency_.record(core::CycleCounter::read() - stamp, taken);
    }
}

// io: the whole burst to the peer port; counted straight into the worker's
// counters (received, transmitted, refused as tx_full).
[[gnu::always_inline]] inline std::uint16_t Worker::send_io(std::uint16_t out_id,
                                                            std::uint16_t queue, rte_mbuf** pkts,
                                                            std::uint16_t n) noexcept {
    const std::uint16_t sent = transmit(out_id, queue, pkts, n);
    add(counters_.received, n);
    add(counters_.forwarded, sent);
    if (sent < n) [[unlikely]] {
        add(counters_.drops[index(DropReason::tx_full)], n - sent);
    }
    return sent;
}

[[gnu::always_inline]] inline std::uint16_t Worker::send(std::size_t out, rte_mbuf** pkts,
                                                         std::uint16_t n,
                                                         BurstCounters& local) noexcept {
    const std::uint16_t sent = transmit(plan_.ports[out].id, plan_.queue, pkts, n);
    if (sent < n) [[unlikely]] {
        local.tx_refused(n - sent);
    }
    return sent;
}

[[gnu::always_inline]] inline void Worker::group(std::uint16_t port, rte_mbuf* m,
                                                 std::uint16_t& used) noexcept {
    TxGroup& g = groups_[port];
    if (g.count == 0) {
        used_[used++] = port;
    }
    g.mbufs[g.count++] = m;
}

[[gnu::always_inline]] inline std::uint64_t Worker::send_groups(std::uint16_t used,
                                                                BurstCounters& local) noexcept {
    std::uint64_t taken = 0;
    for (std::uint16_t u = 0; u < used; ++u) {
        TxGroup& g = groups_[used_[u]];
        taken += send(used_[u], g.mbufs, g.count, local);
        g.count = 0;
    }
    return taken;
}

[[gnu::always_inline]] inline void Worker::publish(const BurstCounters& local) noexcept {
    add(counters_.received, local.received);
    add(counters_.forwarded, local.forwarded);
    if (local.received != local.forwarded) [[unlikely]] {  // some were dropped
        for (std::size_t i = 0; i < kDropReasonCount; ++i) {
            if (local.drops[i] != 0) {
                add(counters_.drops[i], local.drops[i]);
            }
        }
    }
}

void Worker::drain_events() {
    isolation::IsolationEvent event;
    while (events_.try_pop(event)) {
        if (event.trigger == isolation::Trigger::broke) {
            last_break_ = isolation::describe(event.cause);
        }
    }
}

WorkerStats Worker::stats(const core::CycleConverter& converter) const {
    WorkerStats s;
    s.cpu = plan_.cpu;
    s.lcore = plan_.lcore;
    s.packets.received = counters_.received.load(std::memory_order_relaxed);
    s.packets.forwarded = counters_.forwarded.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < kDropReasonCount; ++i) {
        s.packets.drops[i] = counters_.drops[i].load(std::memory_order_relaxed);
    }
    s.iterations = counters_.iterations.load(std::memory_order_relaxed);
    s.latency = summarize_latency(latency_, converter);
    s.isolation_backend = plan_.backend_name;
    if (isolated_) {
        s.isolation_state = isolated_->state();
        s.breaks = isolated_->counters().total();
    }
    s.last_break = last_break_;
    if (started_isolation_.load(std::memory_order_acquire)) {
        s.isolation_error = start_error_;
    }
    return s;
}

}  // namespace qc::dataplane
