// Ethernet ports of a forwarder (contract of issue 6): resolved by ethdev
// name, one rx and one tx queue per worker (worker w polls rx queue w of every
// port and sends on tx queue w), started with promiscuous mode where the
// device has it, stopped at teardown. Housekeeping only, after rte_eal_init.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "quietcore/dataplane/fwd_stats.hpp"

struct rte_mempool;

namespace qc::dataplane {

using MacAddress = std::array<std::uint8_t, 6>;

// "02:00:00:00:00:01".
std::string to_string(const MacAddress& mac);

struct PortQueueSetup {
    std::uint16_t queues = 1;  // rx and tx queues per port: one per worker
    std::uint16_t rx_descriptors = 1024;
    std::uint16_t tx_descriptors = 1024;
    // The pool rx queue q fills from (the NUMA node of worker q).
    std::function<rte_mempool*(std::uint16_t queue)> pool_for_queue;
    // The NUMA node (EAL socket id) queue q's rings live on.
    std::function<int(std::uint16_t queue)> socket_for_queue;
};

class Ports {
  public:
    // Resolves every name (rte_eth_dev_get_port_by_name) and configures the
    // queues; does not start. Throws core::Error naming the port: unknown
    // (with the ethdev ports there are), listed twice, too few queues ("port 1
    // (net_pcap0) has 1 rx queue; 2 workers need 2"), or a refused setup with
    // rte_strerror.
    Ports(const std::vector<std::string>& names, const PortQueueSetup& setup);
    // Stops the ports if started. Closing is EalSession's (a closed vdev port
    // is gone for the rest of the process).
    ~Ports();
    Ports(const Ports&) = delete;
    Ports& operator=(const Ports&) = delete;

    std::size_t size() const noexcept { return ids_.size(); }
    std::uint16_t id(std::size_t i) const noexcept { return ids_[i]; }
    const std::vector<std::uint16_t>& ids() const noexcept { return ids_; }
    const std::string& name(std::size_t i) const noexcept { return names_[i]; }
    const MacAddress& mac(std::size_t i) const noexcept { return macs_[i]; }
    int numa(std::size_t i) const noexcept { return numa_[i]; }  // -1: the device does not say
    // Index of the port with ethdev id `port_id`, or -1.
    int index_of(std::uint16_t port_id) const noexcept;

    // rte_eth_dev_start every port, promiscuous on where supported. Throws
    // core::Error naming the port.
    void start();
    // Frees every mbuf waiting in rx queue `queue` of every port (rx_burst
    // until empty, nothing counted): packets still inside a port at stop.
    // Only while started. Returns how many were freed.
    std::uint64_t drain_rx(std::uint16_t queue) noexcept;
    void stop() noexcept;
    // Stops and closes every port (rte_eth_dev_close): the PMD gives back the
    // mbufs it still holds (net_tap keeps a full rx ring of them until its
    // queues are released). A closed port is gone for the rest of the process.
    void close() noexcept;
    bool started() const noexcept { return started_; }
    bool closed() const noexcept { return closed_; }

    PortStats stats(std::size_t i) const;

  private:
    std::vector<std::uint16_t> ids_;
    std::vector<std::string> names_;
    std::vector<MacAddress> macs_;
    std::vector<int> numa_;
    std::uint16_t queues_ = 0;
    bool started_ = false;
    bool closed_ = false;
};

}  // namespace qc::dataplane
