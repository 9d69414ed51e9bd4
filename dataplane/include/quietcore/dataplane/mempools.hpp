// Packet buffers (DESIGN.md "Data plane": per-NUMA mempools): one
// rte_pktmbuf pool per NUMA node that has a port or a worker, each with a
// per-lcore cache, so a worker allocates and frees without touching the
// shared ring most of the time. Housekeeping only; after rte_eal_init.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "quietcore/dataplane/fwd_stats.hpp"

struct rte_mempool;

namespace qc::dataplane {

// Per-lcore cache of each pool (smaller for pools too small for it).
inline constexpr unsigned kMempoolCacheSize = 256;

// An EAL socket id as a pool's NUMA node: SOCKET_ID_ANY (-1) -> 0.
int numa_node_of_socket(int socket_id) noexcept;

class Mempools {
  public:
    // One pool of `mbufs_per_pool` mbufs (default data room) for each distinct
    // node in `numa_nodes`. Throws core::Error naming the node, the size and
    // rte_strerror when a pool cannot be created (for example when the EAL
    // memory (-m) is too small), or for a size below 64.
    Mempools(std::span<const int> numa_nodes, std::uint32_t mbufs_per_pool);
    ~Mempools();
    Mempools(const Mempools&) = delete;
    Mempools& operator=(const Mempools&) = delete;

    // The pool of `numa_node`; throws core::Error when there is none.
    rte_mempool* for_node(int numa_node) const;
    // Free mbufs per pool, per-lcore caches included (rte_mempool_avail_count).
    std::vector<PoolStats> stats() const;
    // Every mbuf of every pool is back.
    bool all_returned() const;

  private:
    struct Pool {
        int numa = 0;
        rte_mempool* pool = nullptr;
    };
    std::vector<Pool> pools_;
    std::uint32_t size_;
};

}  // namespace qc::dataplane
