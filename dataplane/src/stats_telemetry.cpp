// /qcfwd/stats and /qcfwd/workers: DPDK telemetry commands answering from
// the attached Forwarder's stats() on the telemetry thread (housekeeping).
// DPDK 22.11 nests containers one level only, and an array holds arrays only:
// per-worker dicts hang off the top dict, keyed "worker_cpuN" (stats) or
// "cpuN" (workers).
#include <rte_telemetry.h>

#include <mutex>
#include <string>

#include "quietcore/dataplane/forwarder.hpp"

namespace qc::dataplane {

namespace {

std::mutex g_mutex;
const Forwarder* g_forwarder = nullptr;

void add_string(rte_tel_data* d, const char* name, const std::string& value) {
    // Telemetry strings are bounded (RTE_TEL_MAX_STRING_LEN, the NUL included).
    rte_tel_data_add_dict_string(d, name, value.substr(0, RTE_TEL_MAX_STRING_LEN - 1).c_str());
}

void add_counts(rte_tel_data* d, const BurstCounters& c) {
    rte_tel_data_add_dict_u64(d, "received", c.received);
    rte_tel_data_add_dict_u64(d, "transmitted", c.forwarded);
    rte_tel_data_add_dict_u64(d, "dropped", c.dropped());
}

std::uint64_t pps(std::uint64_t packets, double seconds) {
    return seconds > 0 ? static_cast<std::uint64_t>(static_cast<double>(packets) / seconds) : 0;
}

int stats_command(const char*, const char*, rte_tel_data* d) {
    std::lock_guard lock(g_mutex);
    if (g_forwarder == nullptr) {
        return -1;
    }
    const FwdStats s = g_forwarder->stats();
    const BurstCounters total = s.totals();
    rte_tel_data_start_dict(d);
    rte_tel_data_add_dict_u64(d, "elapsed_ms", static_cast<std::uint64_t>(s.elapsed_s * 1000));
    add_counts(d, total);
    rte_tel_data_add_dict_u64(d, "pps", pps(total.forwarded, s.elapsed_s));
    rte_tel_data_add_dict_int(d, "accounting_ok",
                              total.received == total.forwarded + total.dropped() ? 1 : 0);
    rte_tel_data* reasons = rte_tel_data_alloc();
    rte_tel_data_start_dict(reasons);
    for (std::size_t i = 0; i < kDropReasonCount; ++i) {
        const std::string name(to_string(static_cast<DropReason>(i)));
        rte_tel_data_add_dict_u64(reasons, name.c_str(), total.drops[i]);
    }
    rte_tel_data_add_dict_container(d, "dropped_by_reason", reasons, 0);
    for (const WorkerStats& w : s.workers) {
        rte_tel_data* wd = rte_tel_data_alloc();
        rte_tel_data_start_dict(wd);
        rte_tel_data_add_dict_int(wd, "cpu", static_cast<int>(w.cpu));
        add_counts(wd, w.packets);
        rte_tel_data_add_dict_u64(wd, "iterations", w.iterations);
        rte_tel_data_add_dict_u64(wd, "pps", pps(w.packets.forwarded, s.elapsed_s));
        rte_tel_data_add_dict_u64(wd, "latency_count", w.latency.count);
        rte_tel_data_add_dict_u64(wd, "latency_p50_ns", w.latency.p50_ns);
        rte_tel_data_add_dict_u64(wd, "latency_p99_ns", w.latency.p99_ns);
        rte_tel_data_add_dict_u64(wd, "latency_p999_ns", w.latency.p999_ns);
        rte_tel_data_add_dict_u64(wd, "latency_max_ns", w.latency.max_ns);
        const std::string key = "worker_cpu" + std::to_string(w.cpu);
        rte_tel_data_add_dict_container(d, key.c_str(), wd, 0);
    }
    return 0;
}

int workers_command(const char*, const char*, rte_tel_data* d) {
    std::lock_guard lock(g_mutex);
    if (g_forwarder == nullptr) {
        return -1;
    }
    const FwdStats s = g_forwarder->stats();
    rte_tel_data_start_dict(d);
    for (const WorkerStats& w : s.workers) {
        rte_tel_data* wd = rte_tel_data_alloc();
        rte_tel_data_start_dict(wd);
        rte_tel_data_add_dict_int(wd, "cpu", static_cast<int>(w.cpu));
        rte_tel_data_add_dict_int(wd, "lcore", static_cast<int>(w.lcore));
        add_string(wd, "backend", w.isolation_backend);
        add_string(wd, "state", std::string(isolation::to_string(w.isolation_state)));
        rte_tel_data_add_dict_u64(wd, "breaks", w.breaks);
        add_string(wd, "last_break", w.last_break);
        add_string(wd, "error", w.isolation_error);
        const std::string key = "cpu" + std::to_string(w.cpu);
        rte_tel_data_add_dict_container(d, key.c_str(), wd, 0);
    }
    return 0;
}

}  // namespace

void attach_telemetry(const Forwarder* forwarder) {
    static std::once_flag registered;
    std::call_once(registered, [] {
        rte_telemetry_register_cmd("/qcfwd/stats", stats_command,
                                   "Forwarding totals and per-worker counters. No parameters");
        rte_telemetry_register_cmd("/qcfwd/workers", workers_command,
                                   "Workers: CPU, isolation back end and state, breaks. No "
                                   "parameters");
    });
    std::lock_guard lock(g_mutex);
    g_forwarder = forwarder;
}

void detach_telemetry(const Forwarder* forwarder) {
    std::lock_guard lock(g_mutex);
    if (g_forwarder == forwarder) {
        g_forwarder = nullptr;
    }
}

}  // namespace qc::dataplane
