#include "quietcore/dataplane/forwarder.hpp"

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "quietcore/core/error.hpp"
#include "quietcore/dataplane/eal_session.hpp"
#include "quietcore/dataplane/latency_probe.hpp"
#include "quietcore/dataplane/mempools.hpp"
#include "quietcore/dataplane/worker.hpp"
#include "quietcore/isolation/supervision.hpp"

namespace qc::dataplane {

namespace {

// One Supervision per back-end kind for the rest of the process: a soft
// worker's lcore thread keeps its seccomp filter after it leaves isolation,
// and every later syscall of that thread (EAL's launch pipe) needs the
// supervisor to answer, for as long as the EAL threads live.
isolation::Supervision& process_supervision(isolation::BackendKind kind) {
    static std::mutex mutex;
    static isolation::Supervision* slots[2] = {nullptr, nullptr};
    std::lock_guard lock(mutex);
    isolation::Supervision*& slot = slots[kind == isolation::BackendKind::kernel ? 0 : 1];
    if (slot == nullptr) {
        slot = new isolation::Supervision(kind);  // intentionally never freed
    }
    return *slot;
}

unsigned worker_lcore_of_cpu(unsigned cpu) {
    unsigned lcore = 0;
    std::string lcores;
    RTE_LCORE_FOREACH_WORKER(lcore) {
        if (rte_lcore_to_cpu_id(static_cast<int>(lcore)) == static_cast<int>(cpu)) {
            return lcore;
        }
        lcores += (lcores.empty() ? "" : ",") + std::to_string(lcore) + "@" +
                  std::to_string(rte_lcore_to_cpu_id(static_cast<int>(lcore)));
    }
    throw core::Error(
        "worker CPU " + std::to_string(cpu) +
        " has no EAL worker lcore (worker lcore@cpu: " + (lcores.empty() ? "none" : lcores) +
        "; main lcore " + std::to_string(rte_get_main_lcore()) + ")");
}

std::string port_list(const Ports& ports) {
    std::string out;
    for (std::size_t i = 0; i < ports.size(); ++i) {
        out += (out.empty() ? "" : ", ") + std::to_string(ports.id(i)) + " " + ports.name(i);
    }
    return out;
}

void put16(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}

}  // namespace

void write_tx_first_frame(std::uint8_t* f, const MacAddress& dst, const MacAddress& src) noexcept {
    std::memset(f, 0, kTxFirstFrameLen);
    std::memcpy(f, dst.data(), 6);
    std::memcpy(f + 6, src.data(), 6);
    put16(f + 12, kEtherTypeIpv4);
    std::uint8_t* ip = f + kEthernetHeaderLen;
    const auto total = static_cast<std::uint16_t>(kTxFirstFrameLen - kEthernetHeaderLen);
    ip[0] = 0x45;
    put16(ip + 2, total);
    ip[8] = 64;  // TTL
    ip[9] = 17;  // UDP
    const std::uint8_t addrs[8] = {10, 0, 0, 1, 10, 0, 1, 1};
    std::memcpy(ip + 12, addrs, sizeof addrs);
    put16(ip + 10, ipv4_header_checksum(ip, kIpv4MinHeaderLen));
    std::uint8_t* udp = ip + kIpv4MinHeaderLen;
    put16(udp, 1024);
    put16(udp + 2, 1024);
    put16(udp + 4, static_cast<std::uint16_t>(total - kIpv4MinHeaderLen));
}

Forwarder::Forwarder(const ForwarderConfig& config) : config_(config), converter_(1.0) {
    if (!EalSession::active()) {
        throw core::Error("forwarder: EAL is not initialised (create an EalSession first)");
    }
    converter_ = eal_cycle_converter();
    if (config_.worker_cpus.empty()) {
        throw core::Error("forwarder: no worker CPU");
    }
    if (config_.burst == 0 || config_.burst > kMaxBurst) {
        throw core::Error("forwarder: burst " + std::to_string(config_.burst) + " is outside 1.." +
                          std::to_string(kMaxBurst));
    }
    std::vector<unsigned> lcores;
    std::vector<int> worker_nodes;
    for (const unsigned cpu : config_.worker_cpus) {
        const unsigned lcore = worker_lcore_of_cpu(cpu);
        if (std::find(lcores.begin(), lcores.end(), lcore) != lcores.end()) {
            throw core::Error("forwarder: worker CPU " + std::to_string(cpu) + " is listed twice");
        }
        lcores.push_back(lcore);
        worker_nodes.push_back(
            numa_node_of_socket(static_cast<int>(rte_lcore_to_socket_id(lcore))));
    }
    // Pools where workers or ports are; unknown names are Ports' to report.
    std::vector<int> nodes = worker_nodes;
    for (const std::string& name : config_.port_names) {
        std::uint16_t id = 0;
        if (rte_eth_dev_get_port_by_name(name.c_str(), &id) == 0) {
            nodes.push_back(numa_node_of_socket(rte_eth_dev_socket_id(id)));
        }
    }
    pools_ = std::make_unique<Mempools>(nodes, config_.mbufs_per_pool);
    routes_ = std::make_unique<RouteTable>(worker_nodes.front(), kForwarderMaxRoutes);

    PortQueueSetup setup;
    setup.queues = static_cast<std::uint16_t>(config_.worker_cpus.size());
    setup.rx_descriptors = config_.rx_descriptors;
    setup.tx_descriptors = config_.tx_descriptors;
    setup.pool_for_queue = [&](std::uint16_t q) { return pools_->for_node(worker_nodes[q]); };
    setup.socket_for_queue = [&](std::uint16_t q) { return worker_nodes[q]; };
    ports_ = std::make_unique<Ports>(config_.port_names, setup);

    for (const Route& route : config_.routes) {
        if (ports_->index_of(route.next_hop.port) < 0) {
            throw core::Error("route " + to_string(route) + ": port " +
                              std::to_string(route.next_hop.port) +
                              " is not one of this forwarder's ports (" + port_list(*ports_) + ")");
        }
    }
    if (!config_.routes.empty()) {
        routes_->replace(config_.routes);
    }

    isolation::Supervision* supervision = nullptr;
    switch (config_.isolation) {
        case IsolationChoice::none:
            break;
        case IsolationChoice::auto_detect:
            supervision = &process_supervision(isolation::detect_backend());
            break;
        case IsolationChoice::kernel:
            supervision = &process_supervision(isolation::BackendKind::kernel);
            break;
        case IsolationChoice::soft:
            supervision = &process_supervision(isolation::BackendKind::soft);
            break;
    }
    if (supervision != nullptr) {
        backend_name_ = std::string(supervision->backend_name());
    }

    const int offset = config_.latency_probe ? latency_dynfield_offset() : -1;
    const std::size_t nports = ports_->size();
    for (std::size_t w = 0; w < config_.worker_cpus.size(); ++w) {
        WorkerPlan plan;
        plan.cpu = config_.worker_cpus[w];
        plan.lcore = lcores[w];
        plan.queue = static_cast<std::uint16_t>(w);
        plan.mode = config_.mode;
        plan.burst = config_.burst;
        plan.latency_probe = config_.latency_probe;
        plan.latency_offset = offset;
        for (std::size_t i = 0; i < nports; ++i) {
            const std::size_t peer = (i ^ 1U) < nports ? (i ^ 1U) : i;
            plan.ports.push_back({ports_->id(i), static_cast<std::uint16_t>(peer), ports_->mac(i)});
        }
        plan.routes = routes_.get();
        plan.custom = config_.custom_stage;
        if (supervision != nullptr) {
            owned_backends_.emplace_back();
            plan.backend = &supervision->backend_for_worker(owned_backends_.back());
            plan.backend_name = backend_name_;
        }
        plan.request = config_.request;
        plan.policy = config_.policy;
        workers_.push_back(std::make_unique<Worker>(std::move(plan), cancel_.token()));
    }
    attach_telemetry(this);
}

Forwarder::~Forwarder() {
    detach_telemetry(this);
    stop();
}

void Forwarder::inject_tx_first() {
    rte_mempool* pool = pools_->for_node(numa_node_of_socket(
        static_cast<int>(rte_lcore_to_socket_id(workers_.front()->plan().lcore))));
    std::vector<rte_mbuf*> bufs(config_.burst);
    for (std::size_t i = 0; i < ports_->size(); ++i) {
        const std::size_t peer = (i ^ 1U) < ports_->size() ? (i ^ 1U) : i;
        for (std::uint32_t b = 0; b < config_.tx_first_bursts; ++b) {
            if (rte_pktmbuf_alloc_bulk(pool, bufs.data(), config_.burst) != 0) {
                throw core::Error("tx_first: mempool empty after " + std::to_string(b) +
                                  " bursts on port " + ports_->name(i) +
                                  " (fewer bursts, or more --mbufs)");
            }
            for (rte_mbuf* m : bufs) {
                auto* frame =
                    reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, kTxFirstFrameLen));
                write_tx_first_frame(frame, ports_->mac(peer), ports_->mac(i));
            }
            const std::uint16_t sent =
                rte_eth_tx_burst(ports_->id(i), 0, bufs.data(), config_.burst);
            if (sent < config_.burst) {
                rte_pktmbuf_free_bulk(bufs.data() + sent, config_.burst - sent);
            }
        }
    }
}

void Forwarder::start() {
    std::lock_guard lock(mutex_);
    if (phase_ != Phase::ready) {
        throw core::Error("forwarder: start() once only (it has run already)");
    }
    ports_->start();
    try {
        inject_tx_first();
    } catch (...) {
        ports_->stop();
        throw;
    }
    started_ = std::chrono::steady_clock::now();
    for (std::size_t w = 0; w < workers_.size(); ++w) {
        const unsigned lcore = workers_[w]->plan().lcore;
        if (const int rc = rte_eal_remote_launch(&Worker::entry, workers_[w].get(), lcore);
            rc != 0) {
            cancel_.request();
            for (std::size_t j = 0; j < w; ++j) {
                rte_eal_wait_lcore(workers_[j]->plan().lcore);
            }
            phase_ = Phase::stopped;
            stopped_ = std::chrono::steady_clock::now();
            ports_->stop();
            throw core::Error("forwarder: lcore " + std::to_string(lcore) + " (CPU " +
                              std::to_string(workers_[w]->plan().cpu) + ") is busy");
        }
    }
    phase_ = Phase::running;
}

void Forwarder::stop() {
    std::lock_guard lock(mutex_);
    if (phase_ == Phase::stopped) {
        return;
    }
    cancel_.request();
    if (phase_ == Phase::ready) {
        phase_ = Phase::stopped;
        return;
    }
    for (const auto& w : workers_) {
        rte_eal_wait_lcore(w->plan().lcore);
    }
    stopped_ = std::chrono::steady_clock::now();
    final_ports_.clear();
    for (std::size_t i = 0; i < ports_->size(); ++i) {
        final_ports_.push_back(ports_->stats(i));
    }
    for (std::uint16_t q = 0; q < workers_.size(); ++q) {
        ports_->drain_rx(q);
    }
    ports_->stop();
    phase_ = Phase::stopped;
}

void Forwarder::release_ports() {
    stop();
    std::lock_guard lock(mutex_);
    ports_->close();
}

bool Forwarder::running() const noexcept {
    std::lock_guard lock(mutex_);
    return phase_ == Phase::running;
}

FwdStats Forwarder::stats() const {
    std::lock_guard lock(mutex_);
    FwdStats s;
    if (phase_ != Phase::ready) {
        const auto end = phase_ == Phase::running ? std::chrono::steady_clock::now() : stopped_;
        s.elapsed_s = std::chrono::duration<double>(end - started_).count();
    }
    for (const auto& w : workers_) {
        w->drain_events();
        s.workers.push_back(w->stats(converter_));
    }
    if (phase_ == Phase::stopped && !final_ports_.empty()) {
        s.ports = final_ports_;
    } else {
        for (std::size_t i = 0; i < ports_->size(); ++i) {
            s.ports.push_back(ports_->stats(i));
        }
    }
    s.pools = pools_->stats();
    s.routes = routes_->stats();
    return s;
}

}  // namespace qc::dataplane
