#include "quietcore/dataplane/mempools.hpp"

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <atomic>

#include "quietcore/core/error.hpp"

namespace qc::dataplane {

namespace {
std::atomic<unsigned> g_pool_serial{0};
}  // namespace

int numa_node_of_socket(int socket_id) noexcept {
    return socket_id < 0 ? 0 : socket_id;
}

Mempools::Mempools(std::span<const int> numa_nodes, std::uint32_t mbufs_per_pool)
    : size_(mbufs_per_pool) {
    if (mbufs_per_pool < 64) {
        throw core::Error("mempool: " + std::to_string(mbufs_per_pool) +
                          " mbufs per pool is too few (at least 64)");
    }
    std::vector<int> nodes(numa_nodes.begin(), numa_nodes.end());
    std::sort(nodes.begin(), nodes.end());
    nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
    // The cache may hold at most size / 1.5 (rte_mempool's own limit).
    const unsigned cache = std::min<unsigned>(kMempoolCacheSize, mbufs_per_pool * 2 / 3);
    try {
        for (const int node : nodes) {
            const std::string name =
                "qc" + std::to_string(g_pool_serial.fetch_add(1)) + "_n" + std::to_string(node);
            rte_mempool* pool = rte_pktmbuf_pool_create(name.c_str(), mbufs_per_pool, cache, 0,
                                                        RTE_MBUF_DEFAULT_BUF_SIZE, node);
            if (pool == nullptr) {
                throw core::Error("mempool for NUMA node " + std::to_string(node) + " (" +
                                  std::to_string(mbufs_per_pool) +
                                  " mbufs): " + rte_strerror(rte_errno) +
                                  " (fewer --mbufs, or more EAL memory with -m)");
            }
            pools_.push_back({node, pool});
        }
    } catch (...) {
        for (const Pool& p : pools_) {
            rte_mempool_free(p.pool);
        }
        throw;
    }
}

Mempools::~Mempools() {
    for (const Pool& p : pools_) {
        rte_mempool_free(p.pool);
    }
}

rte_mempool* Mempools::for_node(int numa_node) const {
    for (const Pool& p : pools_) {
        if (p.numa == numa_node) {
            return p.pool;
        }
    }
    throw core::Error("mempool: no pool for NUMA node " + std::to_string(numa_node));
}

std::vector<PoolStats> Mempools::stats() const {
    std::vector<PoolStats> out;
    for (const Pool& p : pools_) {
        out.push_back({p.numa, size_, rte_mempool_avail_count(p.pool)});
    }
    return out;
}

bool Mempools::all_returned() const {
    return std::all_of(pools_.begin(), pools_.end(),
                       [&](const Pool& p) { return rte_mempool_avail_count(p.pool) == size_; });
}

}  // namespace qc::dataplane
