// qc-fwd's flags, TOML config and worker CPU choice (fwd_options.hpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "fwd_options.hpp"

namespace qc::fwd {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

FwdOptions parse(const std::vector<std::string>& args) {
    std::vector<std::string> storage{"qc-fwd"};
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<const char*> argv;
    for (const std::string& s : storage) {
        argv.push_back(s.c_str());
    }
    argv.push_back(nullptr);
    return parse_fwd_options(static_cast<int>(storage.size()), argv.data());
}

// The OptionsError message, or "(no error)".
std::string error_of(const std::vector<std::string>& args) {
    try {
        parse(args);
    } catch (const OptionsError& e) {
        return e.what();
    }
    return "(no error)";
}

std::string toml_error(const std::string& text) {
    FwdOptions o;
    try {
        apply_toml(o, text, "config.toml");
    } catch (const OptionsError& e) {
        return e.what();
    }
    return "(no error)";
}

// A config file that removes itself.
class TempConfig {
  public:
    explicit TempConfig(const std::string& text) {
        char name[] = "/tmp/qc-fwd-test-XXXXXX";
        const int fd = mkstemp(name);
        EXPECT_GE(fd, 0);
        close(fd);
        path_ = name;
        std::ofstream(path_) << text;
    }
    ~TempConfig() { std::remove(path_.c_str()); }
    TempConfig(const TempConfig&) = delete;
    TempConfig& operator=(const TempConfig&) = delete;
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

TEST(FwdOptions, DefaultsFollowTheContract) {
    const FwdOptions o = parse({});
    EXPECT_FALSE(o.config_path);
    EXPECT_THAT(o.ports, IsEmpty());
    EXPECT_EQ(o.workers.kind, WorkersSpec::Kind::automatic);
    EXPECT_EQ(o.mode, dataplane::FwdMode::io);
    EXPECT_THAT(o.routes, IsEmpty());
    EXPECT_EQ(o.burst, 32);
    EXPECT_EQ(o.duration_s, 0.0);
    EXPECT_EQ(o.stats_interval_s, 1.0);
    EXPECT_FALSE(o.json_path);
    EXPECT_EQ(o.isolation, dataplane::IsolationChoice::auto_detect);
    EXPECT_EQ(o.strict, isolation::StrictMode::signal);
    EXPECT_EQ(o.break_policy, isolation::BreakPolicy::reenter);
    EXPECT_TRUE(o.latency);
    EXPECT_EQ(o.mbufs, 16384u);
    EXPECT_EQ(o.tx_first, 0u);
    EXPECT_EQ(o.file_prefix, "qc-fwd");
    EXPECT_THAT(o.eal_args, IsEmpty());
    EXPECT_THAT(o.help, IsEmpty());
}

TEST(FwdOptions, EveryFlag) {
    const FwdOptions o = parse({"--port",           "net_ring0",
                                "--port",           "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap",
                                "--workers",        "1-3",
                                "--mode",           "l3fwd",
                                "--route",          "10.1.0.0/16 port 1",
                                "--route",          "10.2.0.0/16 port 0 mac 02:00:00:00:00:02",
                                "--burst",          "512",
                                "--duration",       "2.5",
                                "--stats-interval", "0",
                                "--json",           "/tmp/out.json",
                                "--isolation",      "soft",
                                "--strict",         "log",
                                "--break-policy",   "degrade",
                                "--latency",        "off",
                                "--mbufs",          "8192",
                                "--tx-first",       "4",
                                "--file-prefix",    "qc-test_1.a"});
    EXPECT_THAT(o.ports, ElementsAre("net_ring0", "net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap"));
    EXPECT_EQ(o.workers.kind, WorkersSpec::Kind::list);
    EXPECT_EQ(o.workers.cpus, (core::CpuSet{1, 2, 3}));
    EXPECT_EQ(o.mode, dataplane::FwdMode::l3fwd);
    EXPECT_THAT(o.routes,
                ElementsAre("10.1.0.0/16 port 1", "10.2.0.0/16 port 0 mac 02:00:00:00:00:02"));
    EXPECT_EQ(o.burst, 512);
    EXPECT_EQ(o.duration_s, 2.5);
    EXPECT_EQ(o.stats_interval_s, 0.0);
    EXPECT_EQ(o.json_path, "/tmp/out.json");
    EXPECT_EQ(o.isolation, dataplane::IsolationChoice::soft);
    EXPECT_EQ(o.strict, isolation::StrictMode::log);
    EXPECT_EQ(o.break_policy, isolation::BreakPolicy::degrade);
    EXPECT_FALSE(o.latency);
    EXPECT_EQ(o.mbufs, 8192u);
    EXPECT_EQ(o.tx_first, 4u);
    EXPECT_EQ(o.file_prefix, "qc-test_1.a");
}

TEST(FwdOptions, EqualsSyntaxAndOtherEnumValues) {
    const FwdOptions o =
        parse({"--mode=macswap", "--isolation=none", "--strict=off", "--break-policy=stop",
               "--latency=on", "--burst=1", "--workers=auto", "--isolation=kernel"});
    EXPECT_EQ(o.mode, dataplane::FwdMode::macswap);
    EXPECT_EQ(o.isolation, dataplane::IsolationChoice::kernel);  // the last one given
    EXPECT_EQ(o.strict, isolation::StrictMode::off);
    EXPECT_EQ(o.break_policy, isolation::BreakPolicy::stop);
    EXPECT_TRUE(o.latency);
    EXPECT_EQ(o.burst, 1);
    EXPECT_EQ(o.workers.kind, WorkersSpec::Kind::automatic);
}

TEST(FwdOptions, WorkersCountAndList) {
    FwdOptions o = parse({"--workers", "2"});
    EXPECT_EQ(o.workers.kind, WorkersSpec::Kind::count);
    EXPECT_EQ(o.workers.count, 2u);
    EXPECT_EQ(o.workers.field, "--workers");
    o = parse({"--workers", "3-3"});
    EXPECT_EQ(o.workers.kind, WorkersSpec::Kind::list);
    EXPECT_EQ(o.workers.cpus, (core::CpuSet{3}));
    o = parse({"--workers", "1,3"});
    EXPECT_EQ(o.workers.cpus, (core::CpuSet{1, 3}));
}

TEST(FwdOptions, EverythingAfterDoubleDashIsEal) {
    FwdOptions o = parse({"--burst", "64", "--", "--vdev=net_ring0", "-l", "0-1", "--burst", "7"});
    EXPECT_EQ(o.burst, 64);
    EXPECT_THAT(o.eal_args, ElementsAre("--vdev=net_ring0", "-l", "0-1", "--burst", "7"));
    o = parse({"--"});
    EXPECT_THAT(o.eal_args, IsEmpty());
    // An EAL flag before "--" is a qc-fwd error.
    EXPECT_THAT(error_of({"--vdev=net_ring0"}), HasSubstr("--vdev"));
}

TEST(FwdOptions, HelpIsReturnedNotThrown) {
    const FwdOptions o = parse({"--help"});
    EXPECT_THAT(o.help, HasSubstr("--port"));
    EXPECT_THAT(o.help, HasSubstr("--break-policy"));
    EXPECT_THAT(o.help, HasSubstr("EAL"));
}

TEST(FwdOptions, BadFlagsNameTheFlagAndTheValue) {
    struct Case {
        std::vector<std::string> args;
        std::string expected;
    };
    const std::vector<Case> cases{
        {{"--bogus"}, "--bogus"},
        {{"--burst"}, "--burst"},
        {{"--burst", "0"}, "--burst: 0 is outside 1..512"},
        {{"--burst", "513"}, "--burst: 513 is outside 1..512"},
        {{"--burst=-1"}, "--burst: -1 is outside 1..512"},
        {{"--burst", "-1"}, "--burst"},
        {{"--port", "net_null0", "net_null1"}, "net_null1"},
        {{"--burst", "32x"}, "--burst: '32x' is not an integer"},
        {{"--burst", "99999999999999999999"}, "--burst: '99999999999999999999' is outside"},
        {{"--duration", "-1"}, "--duration: -1 is outside 0.."},
        {{"--duration", "soon"}, "--duration: 'soon' is not a number of seconds"},
        {{"--duration", "inf"}, "--duration: 'inf' is not a number of seconds"},
        {{"--stats-interval", "100000"}, "--stats-interval: 100000 is outside 0..86400"},
        {{"--mode", "bridge"}, "--mode: 'bridge' is not one of io, macswap, l3fwd"},
        {{"--isolation", "hard"}, "--isolation: 'hard' is not one of auto, kernel, soft, none"},
        {{"--strict", "kill"}, "--strict: 'kill' is not one of signal, log, off"},
        {{"--break-policy", "sometimes"},
         "--break-policy: 'sometimes' is not one of reenter, degrade, stop"},
        {{"--latency", "yes"}, "--latency: 'yes' is not one of on, off"},
        {{"--mbufs", "100"}, "--mbufs: 100 is outside 512..16777216"},
        {{"--tx-first", "65537"}, "--tx-first: 65537 is outside 0..65536"},
        {{"--file-prefix", "a/b"}, "--file-prefix: 'a/b' is not a file prefix"},
        {{"--file-prefix", ".hidden"}, "--file-prefix: '.hidden' is not a file prefix"},
        {{"--file-prefix", ""}, "--file-prefix: empty file prefix"},
        {{"--file-prefix="}, "--file-prefix"},
        {{"--json", ""}, "--json: empty path"},
        {{"--port", ""}, "--port: empty port spec"},
        {{"--port", "net_null0", "--port", "net_null0,size=64"},
         "--port: port 'net_null0' is given twice"},
        {{"--workers", "0"}, "--workers: 0 is outside 1..8192"},
        {{"--workers", "many"}, "--workers: 'many' is not auto, a number or a CPU list"},
        {{"--workers", "1-"}, "--workers: '1-' is not auto, a number or a CPU list"},
        {{"--workers", "3-1"}, "--workers: '3-1'"},
        {{"--workers", "9000-9001"}, "--workers: '9000-9001'"},
        {{"--config", "/nonexistent/qc-fwd.toml"},
         "/nonexistent/qc-fwd.toml: cannot open the config file"},
    };
    for (const Case& c : cases) {
        EXPECT_THAT(error_of(c.args), HasSubstr(c.expected)) << c.args.front();
    }
}

TEST(FwdOptions, TomlEveryKey) {
    FwdOptions o;
    apply_toml(o, R"(
ports = ["net_ring0", "net_ring1"]
workers = "1-2"
mode = "l3fwd"
routes = ["10.1.0.0/16 port 1", "10.2.0.0/16 port 0"]
burst = 64
duration = 10
stats_interval = 0.5
json = "summary.json"
latency = false
mbufs = 4096
tx_first = 2
file_prefix = "qc-toml"
eal = ["--log-level=lib.eal:debug"]
[isolation]
backend = "soft"
strict = "off"
policy = "stop"
)",
               "config.toml");
    EXPECT_THAT(o.ports, ElementsAre("net_ring0", "net_ring1"));
    EXPECT_EQ(o.workers.kind, WorkersSpec::Kind::list);
    EXPECT_EQ(o.workers.cpus, (core::CpuSet{1, 2}));
    EXPECT_EQ(o.workers.field, "config.toml: workers");
    EXPECT_EQ(o.mode, dataplane::FwdMode::l3fwd);
    EXPECT_THAT(o.routes, ElementsAre("10.1.0.0/16 port 1", "10.2.0.0/16 port 0"));
    EXPECT_EQ(o.burst, 64);
    EXPECT_EQ(o.duration_s, 10.0);
    EXPECT_EQ(o.stats_interval_s, 0.5);
    EXPECT_EQ(o.json_path, "summary.json");
    EXPECT_FALSE(o.latency);
    EXPECT_EQ(o.mbufs, 4096u);
    EXPECT_EQ(o.tx_first, 2u);
    EXPECT_EQ(o.file_prefix, "qc-toml");
    EXPECT_THAT(o.eal_args, ElementsAre("--log-level=lib.eal:debug"));
    EXPECT_EQ(o.isolation, dataplane::IsolationChoice::soft);
    EXPECT_EQ(o.strict, isolation::StrictMode::off);
    EXPECT_EQ(o.break_policy, isolation::BreakPolicy::stop);
}

TEST(FwdOptions, TomlWorkersAndLatencyForms) {
    FwdOptions o;
    apply_toml(o, "workers = 2\nlatency = \"off\"\n", "c.toml");
    EXPECT_EQ(o.workers.kind, WorkersSpec::Kind::count);
    EXPECT_EQ(o.workers.count, 2u);
    EXPECT_FALSE(o.latency);
    apply_toml(o, "workers = \"auto\"\nlatency = true\n", "c.toml");
    EXPECT_EQ(o.workers.kind, WorkersSpec::Kind::automatic);
    EXPECT_TRUE(o.latency);
    apply_toml(o, "workers = \"3\"\n", "c.toml");  // same grammar as --workers
    EXPECT_EQ(o.workers.kind, WorkersSpec::Kind::count);
    EXPECT_EQ(o.workers.count, 3u);
}

TEST(FwdOptions, BadTomlNamesTheFileAndTheField) {
    struct Case {
        std::string toml;
        std::string expected;
    };
    const std::vector<Case> cases{
        {"burts = 32", "config.toml: burts: unknown key (keys: ports, workers"},
        {"[isolation]\nmode = \"soft\"",
         "config.toml: isolation.mode: unknown key (isolation keys: backend, strict, policy)"},
        {"[stats]\ninterval = 1", "config.toml: stats: unknown key"},
        {"isolation = \"soft\"", "config.toml: isolation: expected a table"},
        {"burst = 0", "config.toml: burst: 0 is outside 1..512"},
        {"burst = 1000", "config.toml: burst: 1000 is outside 1..512"},
        {"burst = \"32\"", "config.toml: burst: expected an integer, got a string"},
        {"burst = 32.0", "config.toml: burst: expected an integer, got a float"},
        {"mbufs = 10", "config.toml: mbufs: 10 is outside 512..16777216"},
        {"tx_first = -1", "config.toml: tx_first: -1 is outside 0..65536"},
        {"duration = -5", "config.toml: duration: -5 is outside 0.."},
        {"duration = \"10s\"", "config.toml: duration: expected a number of seconds, got a string"},
        {"duration = inf", "config.toml: duration: 'inf' is not a number of seconds"},
        {"stats_interval = 1e6", "config.toml: stats_interval: 1e+06 is outside 0..86400"},
        {"mode = \"bridge\"", "config.toml: mode: 'bridge' is not one of io, macswap, l3fwd"},
        {"mode = 1", "config.toml: mode: expected a string, got an integer"},
        {"[isolation]\npolicy = \"sometimes\"",
         "config.toml: isolation.policy: 'sometimes' is not one of reenter, degrade, stop"},
        {"[isolation]\nstrict = \"kill\"",
         "config.toml: isolation.strict: 'kill' is not one of signal, log, off"},
        {"[isolation]\nbackend = \"hard\"",
         "config.toml: isolation.backend: 'hard' is not one of auto, kernel, soft, none"},
        {"[isolation]\nbackend = true",
         "config.toml: isolation.backend: expected a string, got a boolean"},
        {"latency = 1", "config.toml: latency: expected a boolean or \"on\"/\"off\""},
        {"latency = \"maybe\"", "config.toml: latency: 'maybe' is not one of on, off"},
        {"ports = \"net_null0\"", "config.toml: ports: expected an array of strings, got a string"},
        {"ports = [\"net_null0\", 1]", "config.toml: ports[1]: expected a string, got an integer"},
        {"ports = [\"net_null0\", \"net_null0\"]",
         "config.toml: ports: port 'net_null0' is given twice"},
        {"routes = [\"10.0.0.0/8 port 0\", true]",
         "config.toml: routes[1]: expected a string, got a boolean"},
        {"routes = \"10.0.0.0/8 port 0\"", "config.toml: routes: expected an array of strings"},
        {"eal = [1]", "config.toml: eal[0]: expected a string, got an integer"},
        {"workers = 0", "config.toml: workers: 0 is outside 1..8192"},
        {"workers = \"1-x\"", "config.toml: workers: '1-x' is not auto, a number or a CPU list"},
        {"workers = true", "config.toml: workers: expected \"auto\", an integer or a CPU list"},
        {"json = \"\"", "config.toml: json: empty path"},
        {"file_prefix = \"../x\"", "config.toml: file_prefix: '../x' is not a file prefix"},
        {"burst = ", "config.toml:1:"},
        {"burst = 1\nburst = 2", "config.toml:2:"},
    };
    for (const Case& c : cases) {
        EXPECT_THAT(toml_error(c.toml), HasSubstr(c.expected)) << c.toml;
    }
}

TEST(FwdOptions, ConfigFileUnderTheFlags) {
    TempConfig config(R"(
ports = ["net_ring0", "net_ring1"]
routes = ["10.1.0.0/16 port 1"]
burst = 64
mode = "macswap"
duration = 3
eal = ["--log-level=8"]
[isolation]
policy = "degrade"
)");
    // File only.
    FwdOptions o = parse({"--config", config.path()});
    EXPECT_EQ(o.config_path, config.path());
    EXPECT_EQ(o.burst, 64);
    EXPECT_EQ(o.mode, dataplane::FwdMode::macswap);
    EXPECT_EQ(o.duration_s, 3.0);
    EXPECT_THAT(o.ports, ElementsAre("net_ring0", "net_ring1"));
    EXPECT_THAT(o.eal_args, ElementsAre("--log-level=8"));
    EXPECT_EQ(o.break_policy, isolation::BreakPolicy::degrade);

    // Flags win, whatever their position; lists given on the command line
    // replace the file's lists; values the flags do not give stay the file's.
    o = parse({"--burst", "16", "-c", config.path(), "--port", "net_null0", "--break-policy",
               "stop", "--route", "10.9.0.0/16 port 0", "--", "--no-pci"});
    EXPECT_EQ(o.burst, 16);
    EXPECT_EQ(o.mode, dataplane::FwdMode::macswap);
    EXPECT_EQ(o.duration_s, 3.0);
    EXPECT_THAT(o.ports, ElementsAre("net_null0"));
    EXPECT_THAT(o.routes, ElementsAre("10.9.0.0/16 port 0"));
    EXPECT_THAT(o.eal_args, ElementsAre("--no-pci"));
    EXPECT_EQ(o.break_policy, isolation::BreakPolicy::stop);

    TempConfig workers("workers = 2\n[isolation]\nbackend = \"none\"\n");
    o = parse({"-c", workers.path(), "--workers", "auto", "--isolation", "soft"});
    EXPECT_EQ(o.workers.kind, WorkersSpec::Kind::automatic);
    EXPECT_EQ(o.workers.field, "--workers");
    EXPECT_EQ(o.isolation, dataplane::IsolationChoice::soft);
    o = parse({"-c", workers.path()});
    EXPECT_EQ(o.workers.kind, WorkersSpec::Kind::count);
    EXPECT_EQ(o.workers.field, workers.path() + ": workers");
    EXPECT_EQ(o.isolation, dataplane::IsolationChoice::none);
}

TEST(FwdOptions, BadConfigFileIsAnErrorEvenWhenAFlagOverridesTheField) {
    TempConfig config("burst = 0\n");
    const std::string message = error_of({"--burst", "32", "--config", config.path()});
    EXPECT_THAT(message, StartsWith(config.path() + ": burst: 0 is outside 1..512"));
    TempConfig syntax("mode = \n");
    EXPECT_THAT(error_of({"--config", syntax.path()}), StartsWith(syntax.path() + ":1:"));
}

TEST(FwdOptions, FlagErrorsAreReportedOverAGoodConfig) {
    TempConfig config("burst = 8\n");
    EXPECT_THAT(error_of({"-c", config.path(), "--burst", "0"}),
                HasSubstr("--burst: 0 is outside 1..512"));
}

// --- resolve_workers ------------------------------------------------------

WorkersSpec spec(const std::string& text) {
    return parse_workers(text, "--workers");
}

std::string resolve_error(const WorkersSpec& s, const core::CpuSet& isolated,
                          const core::CpuSet& online) {
    try {
        resolve_workers(s, isolated, online);
    } catch (const OptionsError& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(ResolveWorkers, AutoTakesTheIsolatedOnlineCpus) {
    const ResolvedWorkers r = resolve_workers(spec("auto"), {2, 3, 9}, {0, 1, 2, 3, 4});
    EXPECT_THAT(r.cpus, ElementsAre(2u, 3u));  // 9 is not online
    EXPECT_THAT(r.warning, IsEmpty());
}

TEST(ResolveWorkers, AutoWithoutIsolationTakesAllButTheFirstOnline) {
    EXPECT_THAT(resolve_workers(spec("auto"), {}, {0, 1}).cpus, ElementsAre(1u));
    EXPECT_THAT(resolve_workers(spec("auto"), {7}, {2, 4, 5}).cpus, ElementsAre(4u, 5u));
}

TEST(ResolveWorkers, OneCpuMachineUsesItWithAWarning) {
    const ResolvedWorkers r = resolve_workers(spec("auto"), {}, {0});
    EXPECT_THAT(r.cpus, ElementsAre(0u));
    EXPECT_THAT(r.warning, HasSubstr("only CPU 0 is online"));
    const ResolvedWorkers one = resolve_workers(spec("1"), {}, {0});
    EXPECT_THAT(one.cpus, ElementsAre(0u));
    EXPECT_THAT(one.warning, Not(IsEmpty()));
}

TEST(ResolveWorkers, CountTakesTheFirstOfTheAutoList) {
    EXPECT_THAT(resolve_workers(spec("2"), {1, 2, 3}, {0, 1, 2, 3}).cpus, ElementsAre(1u, 2u));
    EXPECT_THAT(resolve_workers(spec("2"), {}, {0, 1, 2, 3}).cpus, ElementsAre(1u, 2u));
    EXPECT_THAT(resolve_error(spec("2"), {}, {0, 1}),
                HasSubstr("--workers: 2 workers asked, but auto offers 1 (online CPUs but the "
                          "first: 1)"));
    EXPECT_THAT(resolve_error(spec("3"), {1, 2}, {0, 1, 2, 3}),
                HasSubstr("--workers: 3 workers asked, but auto offers 2 (isolated CPUs: 1-2)"));
}

TEST(ResolveWorkers, ListIsExactlyThoseCpus) {
    EXPECT_THAT(resolve_workers(spec("0-1"), {1}, {0, 1}).cpus, ElementsAre(0u, 1u));
    EXPECT_THAT(resolve_error(spec("1,5"), {}, {0, 1, 2}),
                HasSubstr("--workers: CPU 5 is not online (online: 0-2)"));
    WorkersSpec from_file = parse_workers("4-4", "config.toml: workers");
    EXPECT_THAT(resolve_error(from_file, {}, {0, 1}),
                HasSubstr("config.toml: workers: CPU 4 is not online"));
}

TEST(ResolveWorkers, FromKernelCpuSets) {
    core::KernelCpuSets kernel;
    kernel.online = core::CpuSet{0, 1, 2, 3};
    kernel.isolated = core::CpuSet{3};
    kernel.nohz_full = core::CpuSet{2};
    EXPECT_THAT(resolve_workers(spec("auto"), kernel).cpus, ElementsAre(2u, 3u));
    kernel.isolated = {};
    kernel.nohz_full = {};
    EXPECT_THAT(resolve_workers(spec("auto"), kernel).cpus, ElementsAre(1u, 2u, 3u));
}

TEST(ResolveWorkers, NoOnlineCpuIsAnError) {
    EXPECT_THAT(resolve_error(spec("auto"), {}, {}), HasSubstr("no CPU is online"));
}

TEST(FwdOptions, StrictModeNames) {
    EXPECT_EQ(to_string(isolation::StrictMode::signal), "signal");
    EXPECT_EQ(to_string(isolation::StrictMode::log), "log");
    EXPECT_EQ(to_string(isolation::StrictMode::off), "off");
    EXPECT_EQ(to_string(isolation::StrictMode::kill), "kill");
}

}  // namespace
}  // namespace qc::fwd
