// Route churn under readers (suite dpdk, also under ASan): two QSBR reader
// threads look routes up in bursts, one quiescent state per burst, while the
// writer publishes >= 10,000 updates. Every replace() installs a generation g
// of routes whose next hops all carry g (port = g, MAC bytes 0..3 = g) and
// whose set depends on g, so a reader that saw a half-updated table (next
// hops of two generations, or an LPM that does not match its next hops)
// fails the burst's check. A snapshot freed too early is a use-after-free
// ASan reports. The futex calls the readers make (liburcu QSBR's wake-up of a
// sleeping writer: a syscall on an isolated worker) are counted by
// interposing syscall(2), which liburcu's futex wrapper calls.
//
// Arguments (after gtest's): --updates N (default 10000), --wait
// urcu|slots|slots_then_urcu (default: one test per mode).
#define _LGPL_SOURCE
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <urcu/urcu-qsbr.h>

#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "quietcore/dataplane/route_table.hpp"
#include "route_test_eal.hpp"

namespace {

thread_local bool t_reader = false;
std::atomic<std::uint64_t> g_reader_futex_wakes{0};
std::atomic<std::uint64_t> g_reader_syscalls{0};
std::atomic<std::uint64_t> g_writer_futex_waits{0};

}  // namespace

// Interposes libc's syscall(): liburcu's futex_noasync() (inline in our
// reader code, and in liburcu-qsbr.so for the writer's wait) calls it.
extern "C" long syscall(long number, ...) {
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (long& x : a) {
        x = va_arg(ap, long);
    }
    va_end(ap);
    using Real = long (*)(long, ...);
    static const Real real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "syscall"));
    if (number == SYS_futex) {
        const long op = a[1] & FUTEX_CMD_MASK;
        if (t_reader) {
            g_reader_futex_wakes.fetch_add(op == FUTEX_WAKE ? 1 : 0, std::memory_order_relaxed);
        } else if (op == FUTEX_WAIT) {
            g_writer_futex_waits.fetch_add(1, std::memory_order_relaxed);
        }
    }
    if (t_reader) {
        g_reader_syscalls.fetch_add(1, std::memory_order_relaxed);
    }
    return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}

namespace qc::dataplane {
namespace {

unsigned g_updates = 10000;
std::string g_only_mode;

constexpr std::uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) {
    return (a << 24) | (b << 16) | (c << 8) | d;
}

NextHop hop(std::uint32_t gen, std::uint8_t depth) {
    return NextHop{
        static_cast<std::uint16_t>(gen),
        MacAddress{static_cast<std::uint8_t>(gen >> 24), static_cast<std::uint8_t>(gen >> 16),
                   static_cast<std::uint8_t>(gen >> 8), static_cast<std::uint8_t>(gen), depth,
                   0x42}};
}

// Generation g's routes: /25 only when g is even, /32 only when g % 3 == 0.
std::vector<Route> generation(std::uint32_t g) {
    std::vector<Route> r{{0, 0, hop(g, 0)},
                         {ip(10, 0, 0, 0), 8, hop(g, 8)},
                         {ip(10, 1, 0, 0), 16, hop(g, 16)},
                         {ip(10, 1, 2, 0), 24, hop(g, 24)}};
    if (g % 2 == 0) {
        r.push_back({ip(10, 1, 2, 128), 25, hop(g, 25)});
    }
    if (g % 3 == 0) {
        r.push_back({ip(10, 1, 2, 200), 32, hop(g, 32)});
    }
    return r;
}

struct Probe {
    std::uint32_t dst;
    std::uint8_t (*depth)(std::uint32_t g);
};
constexpr Probe kProbes[] = {
    {ip(11, 0, 0, 1), [](std::uint32_t) -> std::uint8_t { return 0; }},
    {ip(10, 9, 9, 9), [](std::uint32_t) -> std::uint8_t { return 8; }},
    {ip(10, 1, 9, 9), [](std::uint32_t) -> std::uint8_t { return 16; }},
    {ip(10, 1, 2, 5), [](std::uint32_t) -> std::uint8_t { return 24; }},
    {ip(10, 1, 2, 129), [](std::uint32_t g) -> std::uint8_t { return g % 2 == 0 ? 25 : 24; }},
    {ip(10, 1, 2, 200),
     [](std::uint32_t g) -> std::uint8_t { return g % 3 == 0 ? 32 : (g % 2 == 0 ? 25 : 24); }},
};
constexpr std::size_t kBurst = 32;

std::uint32_t gen_of(const NextHop& nh) {
    const MacAddress& m = *nh.dst_mac;
    return (std::uint32_t{m[0]} << 24) | (std::uint32_t{m[1]} << 16) | (std::uint32_t{m[2]} << 8) |
           m[3];
}

struct ReaderResult {
    std::uint64_t bursts = 0;
    std::uint64_t lookups = 0;
    std::uint64_t failures = 0;
    std::uint64_t versions_seen = 0;
    std::string first_failure;
};

void reader(RouteTable& table, bool use_slot, const std::atomic<bool>& stop,
            std::atomic<unsigned>& ready, ReaderResult& out) {
    urcu_qsbr_register_thread();
    std::size_t slot = 0;
    if (use_slot) {
        slot = table.take_reader_slot();
    }
    t_reader = true;  // counted from here: the steady state
    ready.fetch_add(1);
    std::uint64_t last_version = 0;
    std::uint32_t last_gen = 0;
    while (!stop.load(std::memory_order_relaxed)) {
        if (use_slot) {
            table.quiescent_state(slot);
        } else {
            urcu_qsbr_quiescent_state();
        }
        const RouteSnapshot* snap = table.current();
        const std::uint64_t version = snap->version();
        if (version != last_version) {
            ++out.versions_seen;
        }
        bool ok = version >= last_version;
        std::uint32_t gen = 0;
        std::string bad_lookup;  // built only on a failure
        for (std::size_t i = 0; i < kBurst; ++i) {
            const Probe& p = kProbes[i % std::size(kProbes)];
            const NextHop* nh = snap->lookup(p.dst);
            ++out.lookups;
            if (nh == nullptr || !nh->dst_mac) {
                ok = false;
                break;
            }
            if (i == 0) {
                gen = gen_of(*nh);
                ok = ok && gen >= last_gen;
            }
            ok = ok && gen_of(*nh) == gen && nh->port == static_cast<std::uint16_t>(gen) &&
                 (*nh->dst_mac)[4] == p.depth(gen) && (*nh->dst_mac)[5] == 0x42;
            if (!ok) {
                bad_lookup = "lookup " + std::to_string(i) + " of " + format_ipv4(p.dst) +
                             " found generation " + std::to_string(gen_of(*nh)) + " /" +
                             std::to_string((*nh->dst_mac)[4]) + ", expected /" +
                             std::to_string(p.depth(gen));
                break;
            }
        }
        if (!ok) {
            if (out.failures++ == 0) {
                out.first_failure = "version " + std::to_string(version) + " after " +
                                    std::to_string(last_version) + ", generation " +
                                    std::to_string(gen) + " after " + std::to_string(last_gen) +
                                    ": " + bad_lookup;
            }
        }
        last_version = version;
        last_gen = gen;
        ++out.bursts;
    }
    t_reader = false;
    if (use_slot) {
        table.offline(slot);
        table.release_reader_slot(slot);
    } else {
        urcu_qsbr_thread_offline();
    }
    urcu_qsbr_unregister_thread();
}

void churn(RouteTable::GraceWait wait, bool use_slots, const char* name) {
    if (!g_only_mode.empty() && g_only_mode != name) {
        GTEST_SKIP() << "--wait " << g_only_mode;
    }
    RouteTable table(0, 64);
    table.set_grace_wait(wait);
    std::uint32_t g = 1;
    table.replace(generation(g));

    g_reader_futex_wakes = 0;
    g_reader_syscalls = 0;
    g_writer_futex_waits = 0;
    std::atomic<bool> stop{false};
    std::atomic<unsigned> ready{0};
    ReaderResult results[2];
    std::vector<std::thread> readers;
    for (ReaderResult& r : results) {
        readers.emplace_back(reader, std::ref(table), use_slots, std::cref(stop), std::ref(ready),
                             std::ref(r));
    }
    while (ready.load() < 2) {
        std::this_thread::yield();
    }

    // Updates: mostly whole-generation replaces, plus an add and a removal of
    // an unrelated prefix every 4 updates (the readers never look it up).
    const auto t0 = std::chrono::steady_clock::now();
    unsigned done = 0;
    while (done < g_updates) {
        if (done % 4 == 1) {
            table.add(Route{ip(172, 16, done % 256, 0), 24, hop(g, 24)});
        } else if (done % 4 == 2) {
            ASSERT_TRUE(table.remove(ip(172, 16, (done - 1) % 256, 0), 24));
        } else {
            table.replace(generation(++g));
        }
        ++done;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    stop = true;
    for (std::thread& t : readers) {
        t.join();
    }

    const RouteStats stats = table.stats();
    EXPECT_EQ(stats.updates, g_updates + 1);
    const RouteTable::GraceStats grace = table.grace_stats();
    std::uint64_t bursts = 0;
    for (const ReaderResult& r : results) {
        EXPECT_EQ(r.failures, 0u) << "a reader saw a half-updated table: " << r.first_failure;
        EXPECT_GT(r.bursts, 0u);
        EXPECT_GT(r.versions_seen, 1u) << "the reader never saw the table change";
        bursts += r.bursts;
    }
    std::printf(
        "churn[%s]: %u updates in %.2f s = %.0f updates/s; %llu reader bursts; "
        "reader futex wakes %llu (reader syscalls %llu); writer futex waits %llu; "
        "grace periods %llu (slot waits %llu)\n",
        name, g_updates, seconds, g_updates / seconds, static_cast<unsigned long long>(bursts),
        static_cast<unsigned long long>(g_reader_futex_wakes.load()),
        static_cast<unsigned long long>(g_reader_syscalls.load()),
        static_cast<unsigned long long>(g_writer_futex_waits.load()),
        static_cast<unsigned long long>(grace.grace_periods),
        static_cast<unsigned long long>(grace.slot_waits));
    ::testing::Test::RecordProperty("updates_per_s", std::to_string(g_updates / seconds));
    ::testing::Test::RecordProperty("reader_futex_wakes",
                                    std::to_string(g_reader_futex_wakes.load()));
    if (use_slots && wait == RouteTable::GraceWait::automatic) {
        // The writer never enters liburcu's sleeping wait, so no reader is
        // ever asked to wake it: no syscall at all from the readers.
        EXPECT_EQ(g_reader_syscalls.load(), 0u);
    }
}

TEST(RouteChurn, UrcuSynchronize) {
    churn(RouteTable::GraceWait::urcu, false, "urcu");
}
TEST(RouteChurn, SlotsThenUrcu) {
    churn(RouteTable::GraceWait::slots_then_urcu, true, "slots_then_urcu");
}
TEST(RouteChurn, ReaderSlots) {
    churn(RouteTable::GraceWait::automatic, true, "slots");
}

}  // namespace
}  // namespace qc::dataplane

int main(int argc, char** argv) {
    std::vector<char*> rest{argv[0]};
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--updates") == 0 && i + 1 < argc) {
            qc::dataplane::g_updates = static_cast<unsigned>(std::stoul(argv[++i]));
        } else if (std::strcmp(argv[i], "--wait") == 0 && i + 1 < argc) {
            qc::dataplane::g_only_mode = argv[++i];
        } else {
            rest.push_back(argv[i]);
        }
    }
    return qc::dataplane::test::run_with_eal(static_cast<int>(rest.size()), rest.data(), "churn");
}
