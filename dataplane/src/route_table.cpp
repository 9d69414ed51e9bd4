// RouteTable: two reused rte_lpm tables, RCU-published snapshots
// (route_table.hpp explains the scheme).
#define _LGPL_SOURCE
#include "quietcore/dataplane/route_table.hpp"

// DPDK 22.11 headers use ++/-- on volatile (deprecated in C++20).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wvolatile"
#include <rte_errno.h>
#include <rte_lpm.h>
#include <rte_pause.h>  // pause on x86_64, yield on arm64
#pragma GCC diagnostic pop
#include <urcu/urcu-qsbr.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <utility>

#include "quietcore/core/error.hpp"
#include "quietcore/dataplane/route_telemetry.hpp"

namespace qc::dataplane {

namespace detail {

// One rte_lpm and what was last written to it: (prefix, depth) -> next-hop id.
struct LpmSlot {
    rte_lpm* lpm = nullptr;
    std::map<std::pair<std::uint32_t, std::uint8_t>, std::uint32_t> content;

    ~LpmSlot() {
        if (lpm != nullptr) {
            rte_lpm_free(lpm);
        }
    }
};

}  // namespace detail

namespace {

std::atomic<unsigned> g_table_serial{0};

// Routes with depth 0 are kept out of the LPM (rte_lpm takes 1..32).
bool in_lpm(const Route& r) {
    return r.depth != 0;
}

bool key_less(const Route& a, const Route& b) {
    return a.prefix != b.prefix ? a.prefix < b.prefix : a.depth < b.depth;
}

std::uint32_t mask_of(std::uint8_t depth) {
    return depth == 0 ? 0 : ~std::uint32_t{0} << (32 - depth);
}

void check_route(const Route& r) {
    if (r.depth > 32 || (r.prefix & ~mask_of(r.depth)) != 0) {
        throw core::Error("route " + format_ipv4(r.prefix) + "/" + std::to_string(r.depth) +
                          ": prefix not masked to its length (or length above 32)");
    }
}

}  // namespace

const NextHop* RouteSnapshot::lookup(std::uint32_t dst) const noexcept {
    std::uint32_t id = 0;
    if (rte_lpm_lookup(lpm_->lpm, dst, &id) == 0) {
        return &next_hops_[id];
    }
    return default_ ? &next_hops_[*default_] : nullptr;
}

RouteTable::RouteTable(int numa_socket, std::uint32_t max_routes)
    : max_routes_(std::max<std::uint32_t>(max_routes, 1)), urcu_gp_ctr_(&urcu_qsbr_gp.ctr) {
    const unsigned serial = g_table_serial.fetch_add(1);
    rte_lpm_config config{};
    config.max_rules = max_routes_;
    config.number_tbl8s = std::clamp<std::uint32_t>(max_routes_, 16, 4096);
    for (int i = 0; i < 2; ++i) {
        const std::string name = "qc_routes" + std::to_string(serial) + (i == 0 ? "a" : "b");
        lpms_[i] = std::make_unique<detail::LpmSlot>();
        lpms_[i]->lpm = rte_lpm_create(name.c_str(), numa_socket, &config);
        if (lpms_[i]->lpm == nullptr) {
            throw core::Error("route table: rte_lpm_create(" + name + ", socket " +
                              std::to_string(numa_socket) + ", " + std::to_string(max_routes_) +
                              " routes) failed: " + rte_strerror(rte_errno));
        }
    }
    auto* first = new RouteSnapshot();
    first->lpm_ = lpms_[0].get();
    first->version_ = 0;
    standby_ = 1;
    rcu_assign_pointer(active_, first);
}

RouteTable::~RouteTable() {
    detail::detach_route_telemetry(this);
    // No reader is online with one of our snapshots (documented precondition).
    delete rcu_dereference(active_);
}

const RouteSnapshot* RouteTable::current() const noexcept {
    return rcu_dereference(active_);
}

std::uint32_t RouteTable::allocate_id_locked(std::vector<Entry>& entries) const {
    std::vector<bool> used(entries.size() + 1, false);
    for (const Entry& e : entries) {
        if (e.id < used.size()) {
            used[e.id] = true;
        }
    }
    return static_cast<std::uint32_t>(std::find(used.begin(), used.end(), false) - used.begin());
}

void RouteTable::sync_lpm_locked(detail::LpmSlot& slot, const std::vector<Entry>& entries) {
    std::map<std::pair<std::uint32_t, std::uint8_t>, std::uint32_t> want;
    for (const Entry& e : entries) {
        if (in_lpm(e.route)) {
            want.emplace(std::pair{e.route.prefix, e.route.depth}, e.id);
        }
    }
    for (auto it = slot.content.begin(); it != slot.content.end();) {
        if (!want.contains(it->first)) {
            rte_lpm_delete(slot.lpm, it->first.first, it->first.second);
            it = slot.content.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto& [key, id] : want) {
        const auto have = slot.content.find(key);
        if (have != slot.content.end() && have->second == id) {
            continue;
        }
        const int rc = rte_lpm_add(slot.lpm, key.first, key.second, id);
        if (rc != 0) {
            throw core::Error("route table: rte_lpm_add(" + format_ipv4(key.first) + "/" +
                              std::to_string(key.second) + ") failed: " + rte_strerror(-rc));
        }
        slot.content[key] = id;
    }
}

void RouteTable::add(const Route& route) {
    check_route(route);
    std::lock_guard lock(writer_);
    std::vector<Entry> next = entries_;
    const auto it =
        std::lower_bound(next.begin(), next.end(), route,
                         [](const Entry& e, const Route& r) { return key_less(e.route, r); });
    if (it != next.end() && !key_less(route, it->route)) {
        it->route = route;  // same prefix/depth: new next hop, same id
    } else {
        if (next.size() >= max_routes_) {
            throw core::Error("route table full: " + std::to_string(max_routes_) +
                              " routes; cannot add " + to_string(route));
        }
        const std::uint32_t id = allocate_id_locked(next);
        next.insert(it, Entry{route, id});
    }
    publish_locked(std::move(next));
}

bool RouteTable::remove(std::uint32_t prefix, std::uint8_t depth) {
    std::lock_guard lock(writer_);
    std::vector<Entry> next = entries_;
    const auto it = std::find_if(next.begin(), next.end(), [&](const Entry& e) {
        return e.route.prefix == prefix && e.route.depth == depth;
    });
    if (it == next.end()) {
        return false;
    }
    next.erase(it);
    publish_locked(std::move(next));
    return true;
}

void RouteTable::replace(std::span<const Route> routes) {
    for (const Route& r : routes) {
        check_route(r);
    }
    std::vector<Route> sorted(routes.begin(), routes.end());
    // Last one wins among duplicates: stable sort, then keep the last of each run.
    std::stable_sort(sorted.begin(), sorted.end(), key_less);
    std::vector<Route> unique;
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        if (i + 1 < sorted.size() && !key_less(sorted[i], sorted[i + 1])) {
            continue;
        }
        unique.push_back(sorted[i]);
    }
    if (unique.size() > max_routes_) {
        throw core::Error("route table full: " + std::to_string(unique.size()) +
                          " routes given, room for " + std::to_string(max_routes_));
    }
    std::lock_guard lock(writer_);
    // Keep the ids of prefixes that stay, so the LPMs change only where needed.
    std::vector<Entry> next;
    next.reserve(unique.size());
    std::vector<const Route*> fresh;
    for (const Route& r : unique) {
        const auto it =
            std::lower_bound(entries_.begin(), entries_.end(), r,
                             [](const Entry& e, const Route& x) { return key_less(e.route, x); });
        if (it != entries_.end() && !key_less(r, it->route)) {
            next.push_back(Entry{r, it->id});
        } else {
            next.push_back(Entry{r, ~std::uint32_t{0}});
        }
    }
    for (Entry& e : next) {
        if (e.id == ~std::uint32_t{0}) {
            e.id = allocate_id_locked(next);
        }
    }
    publish_locked(std::move(next));
}

void RouteTable::publish_locked(std::vector<Entry> next) {
    detail::LpmSlot& standby = *lpms_[standby_];
    try {
        sync_lpm_locked(standby, next);
    } catch (...) {
        sync_lpm_locked(standby, entries_);  // back to the published list (deletes only fail-free)
        throw;
    }
    auto* snap = new RouteSnapshot();
    snap->lpm_ = &standby;
    std::uint32_t max_id = 0;
    for (const Entry& e : next) {
        max_id = std::max(max_id, e.id);
    }
    snap->next_hops_.resize(next.empty() ? 0 : max_id + 1);
    for (const Entry& e : next) {
        snap->next_hops_[e.id] = e.route.next_hop;
        if (e.route.depth == 0) {
            snap->default_ = e.id;
        }
    }
    snap->route_count_ = next.size();
    snap->version_ = version_ + 1;

    RouteSnapshot* old = active_;
    rcu_assign_pointer(active_, snap);
    version_ = snap->version_;
    published_version_.store(version_, std::memory_order_seq_cst);
    ++updates_;
    entries_ = std::move(next);

    wait_for_readers_locked(version_);
    delete old;

    // The old LPM is no longer read by anyone: bring it up to date, it is the
    // next standby.
    const int old_lpm = 1 - standby_;
    standby_ = old_lpm;
    try {
        sync_lpm_locked(*lpms_[old_lpm], entries_);
    } catch (...) {
        rte_lpm_delete_all(lpms_[old_lpm]->lpm);
        lpms_[old_lpm]->content.clear();
        sync_lpm_locked(*lpms_[old_lpm], entries_);
    }
}

void RouteTable::wait_for_readers_locked(std::uint64_t version) {
    ++grace_.grace_periods;
    bool any_slot = false;
    for (ReaderSlot& s : slots_) {
        if (!s.used.load(std::memory_order_acquire)) {
            continue;
        }
        any_slot = true;
        unsigned spins = 0;
        while (s.online.load(std::memory_order_seq_cst) &&
               s.seen.load(std::memory_order_acquire) < version) {
            // Spin briefly (a worker on its own CPU passes a quiescent
            // state every few microseconds), then sleep: on a shared CPU the
            // reader may need this one to run.
            if (++spins < 2000) {
                rte_pause();
            } else {
                std::this_thread::sleep_for(std::chrono::microseconds(20));
            }
        }
    }
    if (any_slot) {
        ++grace_.slot_waits;
    }
    const GraceWait mode = grace_wait_.load(std::memory_order_relaxed);
    if (mode == GraceWait::urcu || (mode == GraceWait::automatic && !any_slot) ||
        mode == GraceWait::slots_then_urcu) {
        urcu_qsbr_synchronize_rcu();
    }
}

std::vector<Route> RouteTable::routes() const {
    std::lock_guard lock(writer_);
    std::vector<Route> out;
    out.reserve(entries_.size());
    for (const Entry& e : entries_) {
        out.push_back(e.route);
    }
    return out;
}

RouteStats RouteTable::stats() const {
    std::lock_guard lock(writer_);
    return RouteStats{version_, entries_.size(), updates_};
}

RouteTable::GraceStats RouteTable::grace_stats() const {
    std::lock_guard lock(writer_);
    return grace_;
}

void RouteTable::set_grace_wait(GraceWait mode) noexcept {
    grace_wait_.store(mode, std::memory_order_relaxed);
}

// ---- Reader slots ----------------------------------------------------------

std::size_t RouteTable::take_reader_slot() {
    for (std::size_t i = 0; i < slots_.size(); ++i) {
        bool expected = false;
        if (slots_[i].used.compare_exchange_strong(expected, true)) {
            // Offline (not waited for) until the reader's first
            // quiescent_state(slot) or online(slot).
            slots_[i].online.store(false, std::memory_order_seq_cst);
            return i;
        }
    }
    throw core::Error("route table: all " + std::to_string(kMaxReaderSlots) +
                      " reader slots taken");
}

void RouteTable::release_reader_slot(std::size_t slot) noexcept {
    slots_[slot].online.store(false, std::memory_order_seq_cst);
    slots_[slot].used.store(false, std::memory_order_release);
}

void RouteTable::quiescent_state_update(std::size_t slot) noexcept {
    ReaderSlot& me = slots_[slot];
    // liburcu's fast path compares its global counter with the thread's own,
    // a TLS variable in liburcu's shared library (a __tls_get_addr call per
    // iteration, ~1.3% of qc-fwd's io loop). The slot remembers what it last
    // reported, so an unchanged counter costs one load; a counter that moved
    // between the load and the call is reported again next time.
    const unsigned long gp = CMM_LOAD_SHARED(urcu_qsbr_gp.ctr);
    if (gp != me.reported_gp) [[unlikely]] {
        urcu_qsbr_quiescent_state();
        me.reported_gp = gp;
    }
    if (!slots_[slot].online.load(std::memory_order_relaxed)) [[unlikely]] {
        // First use (or back from offline): from now on the writer waits for
        // this reader. The seq_cst store orders it before the loads below, so
        // either the writer sees the slot online or this reader sees its
        // newest version.
        slots_[slot].online.store(true, std::memory_order_seq_cst);
    }
    // Every snapshot this thread held is dropped: say which version is the
    // oldest it can still pick up (a store only when it changed).
    const std::uint64_t version = published_version_.load(std::memory_order_acquire);
    if (me.seen.load(std::memory_order_relaxed) != version) [[unlikely]] {
        me.seen.store(version, std::memory_order_release);
    }
}

void RouteTable::offline(std::size_t slot) noexcept {
    slots_[slot].online.store(false, std::memory_order_seq_cst);
    slots_[slot].reported_gp = 0;  // urcu's counter for this thread is 0 now
    urcu_qsbr_thread_offline();
}

void RouteTable::online(std::size_t slot) noexcept {
    if (!urcu_qsbr_read_ongoing()) {
        urcu_qsbr_thread_online();
    }
    slots_[slot].online.store(true, std::memory_order_seq_cst);
    slots_[slot].seen.store(published_version_.load(std::memory_order_seq_cst),
                            std::memory_order_seq_cst);
}

}  // namespace qc::dataplane
