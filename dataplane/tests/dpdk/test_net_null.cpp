// 2 x net_null: a worker forwards for about a second; received = transmitted
// + drops, the ports' counters agree with the worker's, every mbuf is back
// after stop. Also: isolation through the detected back end, and the queue
// check naming the port.
#include <gtest/gtest.h>

#include <thread>

#include "dpdk_test_support.hpp"
#include "emulated.hpp"
#include "quietcore/dataplane/mempools.hpp"

namespace qc::dataplane {
namespace {

using namespace qc::dataplane::testing;

EalSession& eal() {
    static EalSession session(test_eal_options("null", {"net_null0", "net_null1"}));
    return session;
}

ForwarderConfig null_config(FwdMode mode) {
    eal();
    ForwarderConfig c;
    c.port_names = {"net_null0", "net_null1"};
    c.worker_cpus = {worker_cpu()};
    c.mode = mode;
    c.mbufs_per_pool = 8192;
    c.isolation = IsolationChoice::none;
    return c;
}

void check_accounting(const FwdStats& s) {
    const BurstCounters t = s.totals();
    EXPECT_GT(t.received, 0U);
    EXPECT_EQ(t.received, t.forwarded + t.dropped());
    std::uint64_t port_rx = 0, port_tx = 0;
    for (const PortStats& p : s.ports) {
        port_rx += p.rx;
        port_tx += p.tx;
    }
    EXPECT_EQ(port_rx, t.received);
    EXPECT_EQ(port_tx, t.forwarded);
    EXPECT_TRUE(all_returned(s)) << s.pools.at(0).available << " of " << s.pools.at(0).size;
    EXPECT_GT(s.elapsed_s, 0.0);
}

TEST(NetNull, IoForOneSecond) {
    Forwarder fwd(null_config(FwdMode::io));
    fwd.start();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const FwdStats live = fwd.stats();
    EXPECT_GT(live.totals().received, 0U);
    fwd.stop();
    const FwdStats s = fwd.stats();
    check_accounting(s);
    const WorkerStats& w = s.workers.at(0);
    EXPECT_GT(w.iterations, 0U);
    EXPECT_GT(w.latency.count, 0U);
    EXPECT_LE(w.latency.p50_ns, w.latency.max_ns);
    EXPECT_EQ(w.isolation_backend, "none");
    std::printf("io: %.2f Mpps over %.2f s, latency p50 %llu ns p99 %llu ns\n",
                static_cast<double>(s.totals().forwarded) / s.elapsed_s / 1e6, s.elapsed_s,
                static_cast<unsigned long long>(w.latency.p50_ns),
                static_cast<unsigned long long>(w.latency.p99_ns));
}

TEST(NetNull, MacswapWithoutProbe) {
    ForwarderConfig c = null_config(FwdMode::macswap);
    c.latency_probe = false;
    Forwarder fwd(c);
    fwd.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    fwd.stop();
    const FwdStats s = fwd.stats();
    check_accounting(s);
    EXPECT_EQ(s.workers.at(0).latency.count, 0U);
}

// The worker enters isolation through the back end this kernel supports
// (soft on a stock kernel) and leaves it at stop.
TEST(NetNull, IsolatedWorker) {
    // The soft back end supervises the worker through seccomp user notifications.
    QC_SKIP_WHEN_EMULATED("qemu-user has no seccomp syscall (ENOSYS)");
    ForwarderConfig c = null_config(FwdMode::io);
    c.isolation = IsolationChoice::auto_detect;
    Forwarder fwd(c);
    EXPECT_NE(fwd.isolation_backend(), "none");
    fwd.start();
    // Entering soft isolation locks all memory (mlockall): it takes a while.
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(wait_until(
        [&] {
            const auto state = fwd.stats().workers.at(0).isolation_state;
            return state != isolation::IsolationState::idle &&
                   state != isolation::IsolationState::quiescing;
        },
        std::chrono::seconds(30)));
    std::printf("entering isolation took %.2f s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const WorkerStats live = fwd.stats().workers.at(0);
    EXPECT_EQ(live.isolation_backend, fwd.isolation_backend());
    EXPECT_EQ(live.isolation_error, "");
    EXPECT_NE(live.isolation_state, isolation::IsolationState::idle) << live.isolation_error;
    fwd.stop();
    const FwdStats s = fwd.stats();
    check_accounting(s);
    EXPECT_EQ(s.workers.at(0).isolation_state, isolation::IsolationState::stopped);
    std::printf("isolated io: %.2f Mpps, state %s, breaks %llu, last break '%s'\n",
                static_cast<double>(s.totals().forwarded) / s.elapsed_s / 1e6,
                std::string(isolation::to_string(live.isolation_state)).c_str(),
                static_cast<unsigned long long>(s.workers[0].breaks),
                s.workers[0].last_break.c_str());
}

TEST(NetNull, StopWithoutStartAndTwice) {
    Forwarder fwd(null_config(FwdMode::io));
    fwd.stop();
    fwd.stop();
    EXPECT_THROW(fwd.start(), core::Error);
    EXPECT_TRUE(all_returned(fwd.stats()));
}

TEST(NetNull, TooFewQueuesNamesThePort) {
    eal();
    Mempools pools(std::vector<int>{0}, 1024);
    PortQueueSetup setup;
    setup.queues = 2000;  // beyond any vdev's limit
    setup.pool_for_queue = [&](std::uint16_t) { return pools.for_node(0); };
    setup.socket_for_queue = [](std::uint16_t) { return 0; };
    try {
        Ports ports({"net_null1"}, setup);
        FAIL() << "2000 queues accepted";
    } catch (const core::Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("(net_null1) has "), std::string::npos) << what;
        EXPECT_NE(what.find("2000 workers need 2000"), std::string::npos) << what;
    }
}

}  // namespace
}  // namespace qc::dataplane
