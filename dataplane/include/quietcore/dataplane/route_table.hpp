// IPv4 routes for l3fwd (DESIGN.md "Data plane": the control plane changes
// routes while traffic flows, through RCU, and no packet is forwarded by a
// half-updated table).
//
// Writers (housekeeping threads: the telemetry thread, qc-fwd's main) call
// add/remove/replace; RouteTable serialises them. Each update builds a new
// immutable RouteSnapshot {LPM table, next-hop array, version}, publishes it
// with rcu_assign_pointer and waits for a liburcu QSBR grace period
// (urcu_qsbr_synchronize_rcu) before it retires the old one. Readers (isolated
// workers, registered QSBR readers, online) call current() once per burst,
// after their quiescent state, and use that one snapshot for the whole burst:
// they see either the old table or the new one, never a mix.
//
// Memory: an rte_lpm's tbl24 is 64 MiB, far too big to create per update, so
// the table keeps two rte_lpm instances (active and standby) and REUSES them:
// an update patches the standby to the new route list, publishes it, and once
// the grace period has passed brings the old (now standby) LPM up to date.
// The snapshot objects and their next-hop arrays are FREED, also only after a
// grace period. Both LPMs therefore sit in DPDK memory on `numa_socket`
// (2 x ~64 MiB plus tbl8 groups): construct after rte_eal_init.
//
// Known cost on the read side (measured by dataplane/tests/routes/
// test_route_churn.cpp): urcu_qsbr_synchronize_rcu spins 100 times, then
// sleeps on a futex and flags the readers it still waits for; such a reader
// makes a FUTEX_WAKE syscall at its next quiescent state: a syscall on an
// isolated worker. With two busy readers on this 2-CPU machine that happened
// on every update (2 wakes per update, also seen with strace). Waiting longer
// before synchronize_rcu does not help: it starts a new grace period and needs
// one more quiescent state from every reader. A worker that calls
// RouteTable::quiescent_state(slot) (below) instead of
// urcu_qsbr_quiescent_state() publishes the version it has seen; the writer
// waits on those (spin, then sleep) and skips synchronize_rcu, so no reader
// is ever asked for a wake-up (0 reader syscalls in the churn test).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quietcore/dataplane/fwd_stats.hpp"

namespace qc::dataplane {

using MacAddress = std::array<std::uint8_t, 6>;

struct NextHop {
    std::uint16_t port = 0;
    std::optional<MacAddress> dst_mac;  // nothing: keep the frame's destination MAC

    friend bool operator==(const NextHop&, const NextHop&) = default;
};

struct Route {
    std::uint32_t prefix = 0;  // host order, masked to `depth` bits
    std::uint8_t depth = 0;    // 0..32; 0 is the default route (0.0.0.0/0)
    NextHop next_hop;

    friend bool operator==(const Route&, const Route&) = default;
};

// "10.1.0.0/16 port 1" or "10.1.0.0/16 port 1 mac 02:00:00:00:00:02"
// (whitespace-separated, keywords in any order after the prefix, each once).
// Throws core::ParseError naming the input and the bad token: a malformed
// address, a length above 32, host bits set beyond the length, a port that is
// not a number in 0..65535, a bad MAC, an unknown or repeated keyword.
Route parse_route(std::string_view text);

// "PREFIX/LEN" alone, e.g. for a removal; same errors as parse_route.
struct RoutePrefix {
    std::uint32_t prefix = 0;
    std::uint8_t depth = 0;
};
RoutePrefix parse_route_prefix(std::string_view text);

// The inverse of parse_route: "10.1.0.0/16 port 1 mac 02:00:00:00:00:02".
std::string to_string(const Route&);
std::string format_ipv4(std::uint32_t host_order);

namespace detail {
struct LpmSlot;
}  // namespace detail

// An immutable published table. Valid for a reader between two of its
// quiescent states; the pointers lookup() returns too.
class RouteSnapshot {
  public:
    // Longest-prefix match; nullptr: no route. No allocation, no syscall.
    const NextHop* lookup(std::uint32_t dst_host_order) const noexcept;
    std::uint64_t version() const noexcept { return version_; }
    std::size_t size() const noexcept { return route_count_; }

  private:
    friend class RouteTable;
    RouteSnapshot() = default;

    detail::LpmSlot* lpm_ = nullptr;
    std::vector<NextHop> next_hops_;        // indexed by the LPM's next-hop id
    std::optional<std::uint32_t> default_;  // next-hop id of 0.0.0.0/0
    std::uint64_t version_ = 0;
    std::size_t route_count_ = 0;
};

class RouteTable {
  public:
    // After rte_eal_init. Both LPMs are created here (error naming the socket
    // and rte_errno if DPDK has no memory for them). The first snapshot
    // (version 0, no routes) is published at once.
    RouteTable(int numa_socket, std::uint32_t max_routes);
    ~RouteTable();  // no reader may be online with a snapshot of it
    RouteTable(const RouteTable&) = delete;
    RouteTable& operator=(const RouteTable&) = delete;

    // Housekeeping only, serialised inside. Each call publishes one new
    // snapshot and returns after a grace period retired the old one.
    // add() replaces a route with the same prefix/depth. Throws core::Error
    // (table full, prefix not masked) and leaves the table as it was.
    void add(const Route&);
    // false (and nothing published) when there is no such route.
    bool remove(std::uint32_t prefix, std::uint8_t depth);
    // The whole table, one publication. Duplicate prefix/depth: the last wins.
    void replace(std::span<const Route> routes);

    std::vector<Route> routes() const;  // sorted by prefix, then depth
    RouteStats stats() const;
    std::uint32_t max_routes() const noexcept { return max_routes_; }

    // Worker read side: call once per burst between quiescent states.
    const RouteSnapshot* current() const noexcept;

    // ---- Optional reader slots (see the header comment) -------------------
    // take_reader_slot() (any housekeeping thread; at most kMaxReaderSlots)
    // reserves a slot for one reader thread. The slot starts offline: the
    // writer does not wait for it. The reader (a registered, online QSBR
    // reader) then calls quiescent_state(slot) in place of
    // urcu_qsbr_quiescent_state() on every iteration, before its first
    // current(): the first call puts the slot online, and from then on the
    // writer waits for it. offline(slot)/online(slot) replace urcu's
    // thread_offline/online around long absences (drain, shutdown, degraded
    // mode); release_reader_slot(slot) when done (or if never launched). With
    // slots taken, the default wait (GraceWait::automatic) uses the slots only
    // and never calls urcu_qsbr_synchronize_rcu, so every reader of the table
    // must use a slot. Steady state: three plain loads, no call into liburcu
    // unless its grace-period counter moved, no syscall, no locked
    // instruction.
    static constexpr std::size_t kMaxReaderSlots = 64;
    std::size_t take_reader_slot();
    void release_reader_slot(std::size_t slot) noexcept;
    // Inline: in the worker loop, out of line it was 2.7% of qc-fwd's
    // net_ring io samples. Anything to do goes to the out-of-line part.
    void quiescent_state(std::size_t slot) noexcept {
        const ReaderSlot& me = slots_[slot];
        if (*urcu_gp_ctr_ != me.reported_gp || !me.online.load(std::memory_order_relaxed) ||
            me.seen.load(std::memory_order_relaxed) !=
                published_version_.load(std::memory_order_acquire)) [[unlikely]] {
            quiescent_state_update(slot);
        }
    }
    void offline(std::size_t slot) noexcept;
    void online(std::size_t slot) noexcept;

    // How the writer waits for a grace period: automatic = the slots when any
    // is taken, else urcu_qsbr_synchronize_rcu; the others force one way (for
    // measurements: slots_then_urcu waits for the slots, then for urcu).
    enum class GraceWait : std::uint8_t { automatic, urcu, slots, slots_then_urcu };
    void set_grace_wait(GraceWait) noexcept;

    struct GraceStats {
        std::uint64_t grace_periods = 0;  // one per published update
        std::uint64_t slot_waits = 0;     // of which the reader slots were waited for
    };
    GraceStats grace_stats() const;

  private:
    struct Entry {
        Route route;
        std::uint32_t id = 0;  // next-hop id in the LPMs
    };
    struct alignas(64) ReaderSlot {
        std::atomic<std::uint64_t> seen{0};  // last version seen at a quiescent state
        std::atomic<bool> used{false};
        std::atomic<bool> online{false};
        // The reader's own: the liburcu grace-period counter it last reported
        // (0: none; urcu's counters are odd).
        unsigned long reported_gp = 0;
    };

    void quiescent_state_update(std::size_t slot) noexcept;
    void publish_locked(std::vector<Entry> next);
    void wait_for_readers_locked(std::uint64_t version);
    void sync_lpm_locked(detail::LpmSlot& lpm, const std::vector<Entry>& entries);
    std::uint32_t allocate_id_locked(std::vector<Entry>& entries) const;

    const std::uint32_t max_routes_;
    mutable std::mutex writer_;
    std::unique_ptr<detail::LpmSlot> lpms_[2];
    int standby_ = 1;
    std::vector<Entry> entries_;  // the published list, sorted by prefix/depth
    RouteSnapshot* active_ = nullptr;
    std::uint64_t version_ = 0;
    std::atomic<std::uint64_t> published_version_{0};  // read by reader slots
    // liburcu's grace-period counter (urcu_qsbr_gp.ctr), so the inline check
    // needs no liburcu header; read volatile, as liburcu's CMM_LOAD_SHARED.
    const volatile unsigned long* urcu_gp_ctr_ = nullptr;
    std::uint64_t updates_ = 0;
    GraceStats grace_{};
    std::atomic<GraceWait> grace_wait_{GraceWait::automatic};
    std::array<ReaderSlot, kMaxReaderSlots> slots_{};
};

}  // namespace qc::dataplane
