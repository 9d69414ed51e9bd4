#include "quietcore/dataplane/latency_probe.hpp"

#include <rte_cycles.h>
#include <rte_errno.h>

#include <cstring>
#include <mutex>

#include "quietcore/core/error.hpp"

namespace qc::dataplane {

int latency_dynfield_offset() {
    static std::mutex mutex;
    static int offset = -1;
    std::lock_guard lock(mutex);
    if (offset < 0) {
        rte_mbuf_dynfield desc{};
        std::strncpy(desc.name, kLatencyDynfieldName, sizeof(desc.name) - 1);
        desc.size = sizeof(std::uint64_t);
        desc.align = alignof(std::uint64_t);
        const int got = rte_mbuf_dynfield_register(&desc);
        if (got < 0) {
            throw core::Error(std::string("latency probe: rte_mbuf_dynfield_register(") +
                              kLatencyDynfieldName + "): " + rte_strerror(rte_errno));
        }
        offset = got;
    }
    return offset;
}

core::HistogramConfig latency_histogram_config() noexcept {
    return core::HistogramConfig{7, UINT64_MAX};
}

LatencySummary summarize_latency(const core::Histogram& cycles,
                                 const core::CycleConverter& converter) {
    LatencySummary s;
    s.count = cycles.count();
    if (s.count == 0) {
        return s;
    }
    s.p50_ns = converter.to_ns(cycles.percentile(50));
    s.p99_ns = converter.to_ns(cycles.percentile(99));
    s.p999_ns = converter.to_ns(cycles.percentile(99.9));
    s.max_ns = converter.to_ns(cycles.max());
    return s;
}

core::CycleConverter eal_cycle_converter() {
    return core::CycleConverter(static_cast<double>(rte_get_tsc_hz()) / 1e9);
}

}  // namespace qc::dataplane
