// qc-fwd's JSON summary, table and live line from hand-built FwdStats.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "fwd_options.hpp"
#include "fwd_report.hpp"

namespace qc::fwd {
namespace {

using dataplane::DropReason;
using dataplane::FwdStats;
using dataplane::index;
using dataplane::WorkerStats;
using ::testing::HasSubstr;
using ::testing::Not;

std::set<std::string> keys(const nlohmann::json& object) {
    std::set<std::string> out;
    for (const auto& [key, value] : object.items()) {
        out.insert(key);
    }
    return out;
}

const std::set<std::string> kReasons{"not_ipv4",     "truncated",   "bad_header_length",
                                     "bad_checksum", "ttl_expired", "no_route",
                                     "tx_full"};

// Two workers, two ports, one pool; every count distinct so a swapped field shows.
FwdStats sample() {
    FwdStats s;
    s.elapsed_s = 2.0;
    WorkerStats a;
    a.cpu = 1;
    a.lcore = 1;
    a.packets.received = 5'000'000;
    a.packets.forwarded = 4'000'000;
    a.packets.drops[index(DropReason::no_route)] = 600'000;
    a.packets.drops[index(DropReason::tx_full)] = 400'000;
    a.iterations = 123'456;
    a.latency = {4'000'000, 250, 900, 1'500, 42'000};
    a.isolation_backend = "soft";
    a.isolation_state = isolation::IsolationState::isolated;
    a.breaks = 2;
    a.last_break = "syscall 39 on CPU 1";
    WorkerStats b;
    b.cpu = 3;
    b.lcore = 2;
    b.packets.received = 1'000'000;
    b.packets.forwarded = 999'990;
    b.packets.drops[index(DropReason::bad_checksum)] = 7;
    b.packets.drops[index(DropReason::ttl_expired)] = 3;
    b.iterations = 99;
    b.isolation_backend = "none";
    b.isolation_state = isolation::IsolationState::idle;
    b.isolation_error = "EINVAL: not pinned";
    s.workers = {a, b};
    s.ports = {{0, "net_null0", 0, 10, 20, 1, 2, 3, 4}, {1, "net_null1", -1, 11, 21, 0, 0, 0, 0}};
    s.pools = {{0, 16384, 16384}};
    s.routes = {5, 2, 17};
    return s;
}

TEST(FwdReport, MppsIsTransmittedOverElapsed) {
    EXPECT_DOUBLE_EQ(mpps(4'000'000, 2.0), 2.0);
    EXPECT_DOUBLE_EQ(mpps(1'500'000, 0.5), 3.0);
    EXPECT_EQ(mpps(100, 0.0), 0.0);
    EXPECT_EQ(mpps(100, -1.0), 0.0);
}

TEST(FwdReport, JsonSchemaIsTheContracts) {
    const nlohmann::json j = summary_json(sample(), {dataplane::FwdMode::l3fwd, 64, "SIGTERM"});
    EXPECT_EQ(keys(j), (std::set<std::string>{"tool", "mode", "burst", "elapsed_s", "stop_reason",
                                              "ports", "workers", "totals", "mbufs",
                                              "mbufs_all_returned", "routes"}));
    EXPECT_EQ(j["tool"], "qc-fwd");
    EXPECT_EQ(j["mode"], "l3fwd");
    EXPECT_EQ(j["burst"], 64);
    EXPECT_EQ(j["elapsed_s"], 2.0);
    EXPECT_EQ(j["stop_reason"], "SIGTERM");

    ASSERT_EQ(j["ports"].size(), 2u);
    const nlohmann::json& p0 = j["ports"][0];
    EXPECT_EQ(keys(p0), (std::set<std::string>{"id", "name", "numa", "rx", "tx", "imissed",
                                               "ierrors", "oerrors", "rx_nombuf"}));
    EXPECT_EQ(p0["id"], 0);
    EXPECT_EQ(p0["name"], "net_null0");
    EXPECT_EQ(p0["numa"], 0);
    EXPECT_EQ(p0["rx"], 10);
    EXPECT_EQ(p0["tx"], 20);
    EXPECT_EQ(p0["imissed"], 1);
    EXPECT_EQ(p0["ierrors"], 2);
    EXPECT_EQ(p0["oerrors"], 3);
    EXPECT_EQ(p0["rx_nombuf"], 4);
    EXPECT_EQ(j["ports"][1]["numa"], -1);
    EXPECT_EQ(j["ports"][1]["name"], "net_null1");

    ASSERT_EQ(j["workers"].size(), 2u);
    const nlohmann::json& w = j["workers"][0];
    EXPECT_EQ(keys(w), (std::set<std::string>{"cpu", "lcore", "received", "transmitted", "dropped",
                                              "iterations", "mpps", "latency_ns", "isolation"}));
    EXPECT_EQ(w["cpu"], 1);
    EXPECT_EQ(w["lcore"], 1);
    EXPECT_EQ(w["received"], 5'000'000);
    EXPECT_EQ(w["transmitted"], 4'000'000);
    EXPECT_EQ(keys(w["dropped"]), kReasons);
    EXPECT_EQ(w["dropped"]["no_route"], 600'000);
    EXPECT_EQ(w["dropped"]["tx_full"], 400'000);
    EXPECT_EQ(w["dropped"]["not_ipv4"], 0);
    EXPECT_EQ(w["iterations"], 123'456);
    EXPECT_DOUBLE_EQ(w["mpps"].get<double>(), 2.0);
    EXPECT_EQ(keys(w["latency_ns"]), (std::set<std::string>{"count", "p50", "p99", "p999", "max"}));
    EXPECT_EQ(w["latency_ns"]["count"], 4'000'000);
    EXPECT_EQ(w["latency_ns"]["p50"], 250);
    EXPECT_EQ(w["latency_ns"]["p99"], 900);
    EXPECT_EQ(w["latency_ns"]["p999"], 1'500);
    EXPECT_EQ(w["latency_ns"]["max"], 42'000);
    EXPECT_EQ(keys(w["isolation"]),
              (std::set<std::string>{"backend", "state", "breaks", "last_break", "error"}));
    EXPECT_EQ(w["isolation"]["backend"], "soft");
    EXPECT_EQ(w["isolation"]["state"], "isolated");
    EXPECT_EQ(w["isolation"]["breaks"], 2);
    EXPECT_EQ(w["isolation"]["last_break"], "syscall 39 on CPU 1");
    EXPECT_EQ(w["isolation"]["error"], "");
    const nlohmann::json& w1 = j["workers"][1];
    EXPECT_EQ(w1["cpu"], 3);
    EXPECT_EQ(w1["lcore"], 2);
    EXPECT_DOUBLE_EQ(w1["mpps"].get<double>(), 999'990 / 2.0 / 1e6);
    EXPECT_EQ(w1["dropped"]["bad_checksum"], 7);
    EXPECT_EQ(w1["dropped"]["ttl_expired"], 3);
    EXPECT_EQ(w1["isolation"]["state"], "idle");
    EXPECT_EQ(w1["isolation"]["error"], "EINVAL: not pinned");

    const nlohmann::json& t = j["totals"];
    EXPECT_EQ(keys(t), (std::set<std::string>{"received", "transmitted", "dropped",
                                              "dropped_by_reason", "mpps", "accounting_ok"}));
    EXPECT_EQ(t["received"], 6'000'000);
    EXPECT_EQ(t["transmitted"], 4'999'990);
    EXPECT_EQ(t["dropped"], 1'000'010);
    EXPECT_EQ(keys(t["dropped_by_reason"]), kReasons);
    EXPECT_EQ(t["dropped_by_reason"]["no_route"], 600'000);
    EXPECT_EQ(t["dropped_by_reason"]["tx_full"], 400'000);
    EXPECT_EQ(t["dropped_by_reason"]["bad_checksum"], 7);
    EXPECT_EQ(t["dropped_by_reason"]["ttl_expired"], 3);
    EXPECT_DOUBLE_EQ(t["mpps"].get<double>(), 4'999'990 / 2.0 / 1e6);
    EXPECT_EQ(t["accounting_ok"], true);

    ASSERT_EQ(j["mbufs"].size(), 1u);
    EXPECT_EQ(keys(j["mbufs"][0]), (std::set<std::string>{"numa", "size", "available"}));
    EXPECT_EQ(j["mbufs"][0]["size"], 16384);
    EXPECT_EQ(j["mbufs"][0]["available"], 16384);
    EXPECT_EQ(j["mbufs_all_returned"], true);
    EXPECT_EQ(j["routes"], (nlohmann::json{{"version", 5}, {"count", 2}, {"updates", 17}}));
    EXPECT_EQ(stop_exit_code(sample()), kExitOk);
}

TEST(FwdReport, AccountingBrokenInOneWorker) {
    FwdStats s = sample();
    s.workers[1].packets.received += 1;  // one packet neither sent nor dropped
    EXPECT_FALSE(accounting_ok(s));
    EXPECT_EQ(summary_json(s, {})["totals"]["accounting_ok"], false);
    EXPECT_EQ(stop_exit_code(s), kExitAccounting);
    EXPECT_THAT(summary_table(s, {}), HasSubstr("ACCOUNTING BROKEN"));
}

TEST(FwdReport, AccountingBrokenEvenWhenTotalsBalance) {
    // Worker 0 lost one packet, worker 1 counted one too many: the sums agree,
    // yet each worker's identity is broken.
    FwdStats s = sample();
    s.workers[0].packets.forwarded -= 1;
    s.workers[1].packets.forwarded += 1;
    EXPECT_FALSE(accounting_ok(s));
    EXPECT_EQ(summary_json(s, {})["totals"]["accounting_ok"], false);
}

TEST(FwdReport, MbufsNotReturned) {
    FwdStats s = sample();
    s.pools.push_back({1, 8192, 8000});
    EXPECT_FALSE(mbufs_all_returned(s));
    const nlohmann::json j = summary_json(s, {});
    EXPECT_EQ(j["mbufs_all_returned"], false);
    EXPECT_EQ(j["totals"]["accounting_ok"], true);
    EXPECT_EQ(j["mbufs"][1]["available"], 8000);
    EXPECT_EQ(stop_exit_code(s), kExitAccounting);
    EXPECT_THAT(summary_table(s, {}), HasSubstr("8000/8192 available (NOT ALL RETURNED)"));
}

TEST(FwdReport, EmptyStats) {
    const nlohmann::json j = summary_json(FwdStats{}, {dataplane::FwdMode::io, 32, "duration"});
    EXPECT_TRUE(j["ports"].is_array());
    EXPECT_TRUE(j["workers"].is_array());
    EXPECT_TRUE(j["mbufs"].is_array());
    EXPECT_EQ(j["totals"]["mpps"], 0.0);
    EXPECT_EQ(j["totals"]["accounting_ok"], true);
    EXPECT_EQ(keys(j["totals"]["dropped_by_reason"]), kReasons);
    EXPECT_EQ(j["mbufs_all_returned"], true);
}

TEST(FwdReport, TableHasPerWorkerFiguresAndTotals) {
    const std::string table = summary_table(sample(), {dataplane::FwdMode::io, 32, "duration"});
    EXPECT_THAT(table, HasSubstr("mode io, burst 32, 2.000 s, stopped by duration"));
    // Worker rows: CPU, Mpps, latency percentiles, isolation, drops.
    EXPECT_THAT(table, HasSubstr("2.000"));
    EXPECT_THAT(table, HasSubstr("0.500"));
    EXPECT_THAT(table, HasSubstr("42000"));
    EXPECT_THAT(table, HasSubstr("1500"));
    EXPECT_THAT(table, HasSubstr("soft/isolated 2 breaks"));
    EXPECT_THAT(table, HasSubstr("none/idle 0 breaks"));
    EXPECT_THAT(table, HasSubstr("no_route:600000 tx_full:400000"));
    EXPECT_THAT(table, HasSubstr("bad_checksum:7 ttl_expired:3"));
    EXPECT_THAT(table, HasSubstr("cpu 1 last break: syscall 39 on CPU 1"));
    EXPECT_THAT(table, HasSubstr("cpu 3 isolation error: EINVAL: not pinned"));
    EXPECT_THAT(table, HasSubstr("net_null1"));
    EXPECT_THAT(table, HasSubstr("mbufs numa 0: 16384/16384 available\n"));
    EXPECT_THAT(table, HasSubstr("routes: 2 (version 5, 17 updates)"));
    EXPECT_THAT(table,
                HasSubstr("total: 2.500 Mpps; received 6000000 = transmitted 4999990 + dropped "
                          "1000010 ("));
    EXPECT_THAT(table, HasSubstr("accounting ok"));
    EXPECT_THAT(table, Not(HasSubstr("BROKEN")));
}

TEST(FwdReport, TableShowsDashForUnmeasuredLatency) {
    FwdStats s = sample();
    s.workers.resize(1);
    s.workers[0].latency = {};
    s.workers[0].latency.p50_ns = 777;  // not shown: count is 0
    const std::string table = summary_table(s, {});
    EXPECT_THAT(table, Not(HasSubstr("777")));
    EXPECT_THAT(table, HasSubstr(" -  "));
}

TEST(FwdReport, StatsLineIsOverTheInterval) {
    FwdStats before = sample();
    before.elapsed_s = 1.0;
    FwdStats now = before;
    now.elapsed_s = 1.5;
    now.workers[0].packets.received += 2'000'000;
    now.workers[0].packets.forwarded += 1'000'000;
    now.workers[0].packets.drops[index(DropReason::no_route)] += 999'000;
    now.workers[1].packets.received += 500'000;
    now.workers[1].packets.forwarded += 499'999;
    now.workers[1].packets.drops[index(DropReason::tx_full)] += 1;
    now.workers[1].isolation_state = isolation::IsolationState::broken;
    now.workers[1].breaks = 1;
    const std::string line = stats_line(before, now);
    EXPECT_THAT(line, HasSubstr("[1.5 s]"));
    EXPECT_THAT(line, HasSubstr("rx 5.000 Mpps"));  // 2.5 M over 0.5 s
    EXPECT_THAT(line, HasSubstr("tx 3.000 Mpps"));  // 1.5 M over 0.5 s
    EXPECT_THAT(line, HasSubstr("drops 999001 (no_route:999000 tx_full:1)"));
    EXPECT_THAT(line, HasSubstr("cpu1 isolated(2 breaks)"));
    EXPECT_THAT(line, HasSubstr("cpu3 broken(1 break)"));
    EXPECT_THAT(line, Not(HasSubstr("\n")));
}

TEST(FwdReport, FirstStatsLineFromNothing) {
    const std::string line = stats_line(FwdStats{}, sample());
    EXPECT_THAT(line, HasSubstr("rx 3.000 Mpps"));  // 6 M over 2 s
    EXPECT_THAT(line, HasSubstr("tx 2.500 Mpps"));
    EXPECT_THAT(line, HasSubstr("drops 1000010"));
    // No interval yet: no rate, no division by zero.
    const std::string same = stats_line(sample(), sample());
    EXPECT_THAT(same, HasSubstr("rx 0.000 Mpps, tx 0.000 Mpps, drops 0 |"));
}

}  // namespace
}  // namespace qc::fwd
