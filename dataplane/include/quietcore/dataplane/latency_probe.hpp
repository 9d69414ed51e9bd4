// The latency probe (issue 6): the rx time, read from the cycle counter once
// per received burst, stamped into an mbuf dynamic field of the burst's first
// packet (stamp_burst); at tx the worker records now - stamp into its
// allocation-free histogram (core::Histogram) once per burst, with the count
// of packets the queues took. Every packet of a burst shares its rx time, so
// this is exact for them at two counter reads per burst.
#pragma once

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <cstdint>

#include "quietcore/core/cycle_counter.hpp"
#include "quietcore/core/histogram.hpp"
#include "quietcore/dataplane/fwd_stats.hpp"

namespace qc::dataplane {

// The dynamic field's name (one per process, registered once).
inline constexpr const char* kLatencyDynfieldName = "quietcore_rx_cycles";

// Registers the field on first call (housekeeping, after rte_eal_init) and
// returns its offset in struct rte_mbuf. Throws core::Error with
// rte_strerror when DPDK refuses.
int latency_dynfield_offset();

// Worker side: the stamp in `mbuf` at `offset`.
inline std::uint64_t& rx_stamp(rte_mbuf* mbuf, int offset) noexcept {
    return *RTE_MBUF_DYNFIELD(mbuf, offset, std::uint64_t*);
}

// Stamps a received burst: its first mbuf carries the rx time of the whole
// burst (every packet of it was received by the same rx_burst call). One
// store per burst: stamping every mbuf touched a cache line per packet that
// nothing else touches and cost about 15 % of io throughput on net_null
// (48-50 Mpps with the per-burst stamp, 41-43 Mpps per packet, 50-51 off).
inline void stamp_burst(rte_mbuf* const* mbufs, std::uint16_t n, int offset,
                        std::uint64_t cycles) noexcept {
    if (n != 0) {
        rx_stamp(mbufs[0], offset) = cycles;
    }
}

// Histogram settings of a worker's probe: cycle counts, < 0.8 % error.
core::HistogramConfig latency_histogram_config() noexcept;

// Housekeeping: the histogram (cycles) as ns percentiles.
LatencySummary summarize_latency(const core::Histogram& cycles,
                                 const core::CycleConverter& converter);

// The converter from DPDK's calibrated TSC rate (rte_get_tsc_hz).
core::CycleConverter eal_cycle_converter();

}  // namespace qc::dataplane
