#include "quietcore/dataplane/ports.hpp"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>

#include "quietcore/core/error.hpp"

namespace qc::dataplane {

namespace {

std::string known_ports() {
    std::string out;
    std::uint16_t port = 0;
    RTE_ETH_FOREACH_DEV(port) {
        char name[RTE_ETH_NAME_MAX_LEN] = {};
        rte_eth_dev_get_name_by_port(port, name);
        out += (out.empty() ? "" : ", ") + std::string(name);
    }
    return out.empty() ? "none" : out;
}

std::string label(std::uint16_t id, const std::string& name) {
    return "port " + std::to_string(id) + " (" + name + ")";
}

std::string queues_text(unsigned n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? " queue" : " queues");
}

}  // namespace

std::string to_string(const MacAddress& mac) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                  mac[4], mac[5]);
    return buf;
}

Ports::Ports(const std::vector<std::string>& names, const PortQueueSetup& setup)
    : queues_(setup.queues) {
    if (names.empty()) {
        throw core::Error("ports: no port given");
    }
    for (const std::string& name : names) {
        std::uint16_t id = 0;
        if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0) {
            throw core::Error("port '" + name + "': no such ethdev port (ports: " + known_ports() +
                              ")");
        }
        if (std::find(ids_.begin(), ids_.end(), id) != ids_.end()) {
            throw core::Error("port '" + name + "' is listed twice");
        }
        ids_.push_back(id);
        names_.push_back(name);
    }
    for (std::size_t i = 0; i < ids_.size(); ++i) {
        const std::uint16_t id = ids_[i];
        const std::string what = label(id, names_[i]);
        rte_eth_dev_info info{};
        if (const int rc = rte_eth_dev_info_get(id, &info); rc != 0) {
            throw core::Error(what + ": rte_eth_dev_info_get: " + rte_strerror(-rc));
        }
        const unsigned workers = setup.queues;
        if (info.max_rx_queues < workers) {
            throw core::Error(what + " has " + queues_text(info.max_rx_queues, "rx") + "; " +
                              std::to_string(workers) +
                              (workers == 1 ? " worker needs " : " workers need ") +
                              std::to_string(workers));
        }
        if (info.max_tx_queues < workers) {
            throw core::Error(what + " has " + queues_text(info.max_tx_queues, "tx") + "; " +
                              std::to_string(workers) +
                              (workers == 1 ? " worker needs " : " workers need ") +
                              std::to_string(workers));
        }
        rte_eth_conf conf{};
        if ((info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) != 0) {
            conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
        }
        if (const int rc = rte_eth_dev_configure(id, setup.queues, setup.queues, &conf); rc != 0) {
            throw core::Error(what + ": rte_eth_dev_configure with " + std::to_string(workers) +
                              " rx/tx queues: " + rte_strerror(-rc));
        }
        std::uint16_t rxd = setup.rx_descriptors, txd = setup.tx_descriptors;
        if (const int rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &rxd, &txd); rc != 0) {
            throw core::Error(what + ": descriptors " + std::to_string(rxd) + "/" +
                              std::to_string(txd) + ": " + rte_strerror(-rc));
        }
        rte_eth_txconf txconf = info.default_txconf;
        txconf.offloads = conf.txmode.offloads;
        for (std::uint16_t q = 0; q < setup.queues; ++q) {
            const int socket = setup.socket_for_queue(q);
            if (const int rc = rte_eth_rx_queue_setup(id, q, rxd, static_cast<unsigned>(socket),
                                                      nullptr, setup.pool_for_queue(q));
                rc != 0) {
                throw core::Error(what + ": rx queue " + std::to_string(q) + " (" +
                                  std::to_string(rxd) + " descriptors): " + rte_strerror(-rc));
            }
            if (const int rc =
                    rte_eth_tx_queue_setup(id, q, txd, static_cast<unsigned>(socket), &txconf);
                rc != 0) {
                throw core::Error(what + ": tx queue " + std::to_string(q) + " (" +
                                  std::to_string(txd) + " descriptors): " + rte_strerror(-rc));
            }
        }
        rte_ether_addr addr{};
        if (const int rc = rte_eth_macaddr_get(id, &addr); rc != 0) {
            throw core::Error(what + ": rte_eth_macaddr_get: " + rte_strerror(-rc));
        }
        MacAddress mac{};
        std::copy(std::begin(addr.addr_bytes), std::end(addr.addr_bytes), mac.begin());
        macs_.push_back(mac);
        numa_.push_back(rte_eth_dev_socket_id(id));
        // The counters are the device's since it was probed: start from zero
        // so they compare with this forwarder's workers.
        rte_eth_stats_reset(id);
    }
}

Ports::~Ports() {
    stop();
}

int Ports::index_of(std::uint16_t port_id) const noexcept {
    const auto it = std::find(ids_.begin(), ids_.end(), port_id);
    return it == ids_.end() ? -1 : static_cast<int>(it - ids_.begin());
}

void Ports::start() {
    for (std::size_t i = 0; i < ids_.size(); ++i) {
        if (const int rc = rte_eth_dev_start(ids_[i]); rc != 0) {
            stop();
            throw core::Error(label(ids_[i], names_[i]) +
                              ": rte_eth_dev_start: " + rte_strerror(-rc));
        }
        started_ = true;
        // -ENOTSUP: the device has no such mode (net_null, net_ring); fine.
        rte_eth_promiscuous_enable(ids_[i]);
    }
    started_ = true;
}

std::uint64_t Ports::drain_rx(std::uint16_t queue) noexcept {
    if (!started_ || queue >= queues_) {
        return 0;
    }
    std::uint64_t freed = 0;
    rte_mbuf* bufs[64];
    for (const std::uint16_t id : ids_) {
        // A device that keeps producing (net_null) is cut off after a bound.
        for (int round = 0; round < 4096; ++round) {
            const std::uint16_t n = rte_eth_rx_burst(id, queue, bufs, 64);
            if (n == 0) {
                break;
            }
            rte_pktmbuf_free_bulk(bufs, n);
            freed += n;
        }
    }
    return freed;
}

void Ports::stop() noexcept {
    if (!started_) {
        return;
    }
    for (const std::uint16_t id : ids_) {
        rte_eth_dev_stop(id);
    }
    started_ = false;
}

void Ports::close() noexcept {
    stop();
    if (closed_) {
        return;
    }
    for (const std::uint16_t id : ids_) {
        rte_eth_dev_close(id);
    }
    closed_ = true;
}

PortStats Ports::stats(std::size_t i) const {
    PortStats s;
    s.id = ids_[i];
    s.name = names_[i];
    s.numa = numa_[i];
    rte_eth_stats raw{};
    if (rte_eth_stats_get(ids_[i], &raw) == 0) {
        s.rx = raw.ipackets;
        s.tx = raw.opackets;
        s.imissed = raw.imissed;
        s.ierrors = raw.ierrors;
        s.oerrors = raw.oerrors;
        s.rx_nombuf = raw.rx_nombuf;
    }
    return s;
}

}  // namespace qc::dataplane
