#include "fwd_options.hpp"

#include <toml++/toml.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace qc::fwd {

namespace {

[[noreturn]] void fail(std::string_view field, const std::string& message) {
    throw OptionsError(std::string(field) + ": " + message);
}

std::string in_quotes(std::string_view text) {
    return "'" + std::string(text) + "'";
}

// Shortest text that reads back as `v` ("10", "0.5").
std::string number(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

// One of `values`, by its to_string() name; the error lists the names.
template <class T, std::size_t N>
T choose(std::string_view text, const std::array<T, N>& values, std::string_view field) {
    std::string names;
    for (const T v : values) {
        if (to_string(v) == text) {
            return v;
        }
        names += (names.empty() ? "" : ", ") + std::string(to_string(v));
    }
    fail(field, in_quotes(text) + " is not one of " + names);
}

using dataplane::FwdMode;
using dataplane::IsolationChoice;
using isolation::BreakPolicy;
using isolation::StrictMode;

constexpr std::array kModes{FwdMode::io, FwdMode::macswap, FwdMode::l3fwd};
constexpr std::array kBackends{IsolationChoice::auto_detect, IsolationChoice::kernel,
                               IsolationChoice::soft, IsolationChoice::none};
constexpr std::array kStrictModes{StrictMode::signal, StrictMode::log, StrictMode::off};
constexpr std::array kPolicies{BreakPolicy::reenter, BreakPolicy::degrade, BreakPolicy::stop};

bool on_off(std::string_view text, std::string_view field) {
    if (text == "on" || text == "off") {
        return text == "on";
    }
    fail(field, in_quotes(text) + " is not one of on, off");
}

// --- values, each checked the same way whichever source gave it -----------

std::int64_t in_range(std::int64_t v, std::int64_t lo, std::int64_t hi, std::string_view field) {
    if (v < lo || v > hi) {
        fail(field,
             std::to_string(v) + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    return v;
}

// A decimal integer from the command line, then checked against lo..hi.
std::int64_t int_from_text(std::string_view text, std::int64_t lo, std::int64_t hi,
                           std::string_view field) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc::result_out_of_range) {
        fail(field,
             in_quotes(text) + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    if (ec != std::errc{} || end != text.data() + text.size()) {
        fail(field, in_quotes(text) + " is not an integer");
    }
    return in_range(v, lo, hi, field);
}

double seconds_in_range(double v, double max, std::string_view field) {
    if (!std::isfinite(v)) {
        fail(field, in_quotes(number(v)) + " is not a number of seconds");
    }
    if (v < 0 || v > max) {
        fail(field, number(v) + " is outside 0.." + number(max) + " seconds");
    }
    return v;
}

double seconds_from_text(std::string_view text, double max, std::string_view field) {
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        fail(field, in_quotes(text) + " is not a number of seconds");
    }
    return seconds_in_range(v, max, field);
}

std::string non_empty(std::string_view text, std::string_view what, std::string_view field) {
    if (text.empty()) {
        fail(field, "empty " + std::string(what));
    }
    return std::string(text);
}

std::string file_prefix(std::string_view text, std::string_view field) {
    non_empty(text, "file prefix", field);
    const bool ok = std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '.';
    });
    if (!ok || text.front() == '.' || text.size() > 64) {
        fail(field, in_quotes(text) +
                        " is not a file prefix (up to 64 letters, digits, '_', '-', '.'; "
                        "not starting with '.')");
    }
    return std::string(text);
}

// Port specs: not empty, no device given twice ("net_null0" and
// "net_null0,size=64" are the same device).
std::vector<std::string> ports(std::vector<std::string> specs, std::string_view field) {
    for (std::size_t i = 0; i < specs.size(); ++i) {
        non_empty(specs[i], "port spec", field);
        const std::string_view name = std::string_view(specs[i]).substr(0, specs[i].find(','));
        for (std::size_t j = 0; j < i; ++j) {
            if (std::string_view(specs[j]).substr(0, specs[j].find(',')) == name) {
                fail(field, "port " + in_quotes(name) + " is given twice");
            }
        }
    }
    return specs;
}

// --- command line ---------------------------------------------------------

// What the command line gave, as text; applied over the config file.
struct CliValues {
    std::optional<std::string> config, workers, mode, burst, duration, stats_interval, json,
        isolation, strict, break_policy, latency, mbufs, tx_first, file_prefix;
    std::vector<std::string> ports, routes;
};

void add_flags(CLI::App& app, CliValues& v) {
    // A flag given twice: the last one wins (lists collect every occurrence).
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    auto list = [&app](const std::string& name, std::vector<std::string>& into,
                       const std::string& help, const std::string& type) {
        app.add_option(name, into, help)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
            ->allow_extra_args(false)
            ->type_name(type);
    };
    auto value = [&app](const std::string& name, std::optional<std::string>& into,
                        const std::string& help, const std::string& type) {
        app.add_option(name, into, help)->type_name(type);
    };
    value("-c,--config", v.config, "TOML config (flags given on the command line win)", "FILE");
    list("--port", v.ports,
         "repeatable: vdev spec (net_null0, net_ring0, net_pcap0,rx_pcap=in.pcap,"
         "tx_pcap=out.pcap, net_tap0,iface=qcA) or PCI address; default: net_null0 net_null1 "
         "(or the bound PCI NICs)",
         "SPEC");
    value("--workers", v.workers,
          "auto: the isolated CPUs, else every online CPU but the first; N: the first N of "
          "those; or a CPU list (one CPU: 3-3)",
          "auto|N|CPULIST");
    value("--mode", v.mode, "io | macswap | l3fwd (default io)", "MODE");
    list("--route", v.routes, "repeatable: \"PREFIX/LEN port N [mac MAC]\"", "ROUTE");
    value("--burst", v.burst, "packets per rx/tx burst, 1..512 (default 32)", "N");
    value("--duration", v.duration, "seconds to run, decimal, 0 = until SIGTERM/SIGINT (default 0)",
          "SECONDS");
    value("--stats-interval", v.stats_interval,
          "seconds between live stats lines, 0 = off (default 1)", "SECONDS");
    value("--json", v.json, "write the summary JSON to this file at stop", "FILE");
    value("--isolation", v.isolation, "auto | kernel | soft | none (default auto)", "BACKEND");
    value("--strict", v.strict, "signal | log | off (default signal)", "MODE");
    value("--break-policy", v.break_policy, "reenter | degrade | stop (default reenter)", "POLICY");
    value("--latency", v.latency, "per-packet latency probe (default on)", "on|off");
    value("--mbufs", v.mbufs, "mbufs per pool, 512..16777216 (default 16384)", "N");
    value("--tx-first", v.tx_first,
          "bursts of 64 B UDP/IPv4 frames injected per port at start (default 0)", "N");
    value("--file-prefix", v.file_prefix,
          "EAL runtime directory / telemetry socket name (default qc-fwd)", "NAME");
    app.footer(
        "Usage: qc-fwd [OPTIONS] [-- EAL-ARGS...]; everything after -- goes to the EAL "
        "verbatim.");
}

// --- TOML -----------------------------------------------------------------

std::string_view type_name(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a float";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::table:
            return "a table";
        case toml::node_type::date:
        case toml::node_type::time:
        case toml::node_type::date_time:
            return "a date/time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

[[noreturn]] void wrong_type(const toml::node& node, std::string_view expected,
                             std::string_view field) {
    fail(field, "expected " + std::string(expected) + ", got " + std::string(type_name(node)));
}

std::string toml_string(const toml::node& node, std::string_view field) {
    if (const auto* s = node.as_string()) {
        return s->get();
    }
    wrong_type(node, "a string", field);
}

std::int64_t toml_int(const toml::node& node, std::int64_t lo, std::int64_t hi,
                      std::string_view field) {
    if (const auto* i = node.as_integer()) {
        return in_range(i->get(), lo, hi, field);
    }
    wrong_type(node, "an integer", field);
}

double toml_seconds(const toml::node& node, double max, std::string_view field) {
    if (const auto* i = node.as_integer()) {
        return seconds_in_range(static_cast<double>(i->get()), max, field);
    }
    if (const auto* f = node.as_floating_point()) {
        return seconds_in_range(f->get(), max, field);
    }
    wrong_type(node, "a number of seconds", field);
}

std::vector<std::string> toml_strings(const toml::node& node, std::string_view field) {
    const auto* array = node.as_array();
    if (array == nullptr) {
        wrong_type(node, "an array of strings", field);
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < array->size(); ++i) {
        out.push_back(
            toml_string(*array->get(i), std::string(field) + "[" + std::to_string(i) + "]"));
    }
    return out;
}

void apply_isolation_table(FwdOptions& o, const toml::node& node, std::string_view file) {
    const std::string field = std::string(file) + ": isolation";
    const auto* table = node.as_table();
    if (table == nullptr) {
        wrong_type(node, "a table (backend, strict, policy)", field);
    }
    for (const auto& [key, value] : *table) {
        const std::string sub = field + "." + std::string(key.str());
        if (key == "backend") {
            o.isolation = choose(toml_string(value, sub), kBackends, sub);
        } else if (key == "strict") {
            o.strict = choose(toml_string(value, sub), kStrictModes, sub);
        } else if (key == "policy") {
            o.break_policy = choose(toml_string(value, sub), kPolicies, sub);
        } else {
            fail(sub, "unknown key (isolation keys: backend, strict, policy)");
        }
    }
}

constexpr std::string_view kTopKeys =
    "ports, workers, mode, routes, burst, duration, stats_interval, json, latency, mbufs, "
    "tx_first, file_prefix, eal, [isolation]";

}  // namespace

WorkersSpec parse_workers(std::string_view text, std::string_view field) {
    WorkersSpec spec;
    spec.text = std::string(text);
    spec.field = std::string(field);
    if (text == "auto") {
        return spec;
    }
    const bool digits_only = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return c >= '0' && c <= '9';
    });
    if (digits_only) {
        spec.kind = WorkersSpec::Kind::count;
        spec.count = static_cast<unsigned>(int_from_text(text, 1, core::CpuSet::kMaxCpus, field));
        return spec;
    }
    try {
        spec.cpus = core::CpuSet::parse_list(text);
    } catch (const core::Error& e) {
        fail(field, in_quotes(text) + " is not auto, a number or a CPU list: " + e.what());
    }
    if (spec.cpus.empty()) {
        fail(field, in_quotes(text) + " names no CPU");
    }
    spec.kind = WorkersSpec::Kind::list;
    return spec;
}

void apply_toml(FwdOptions& o, std::string_view toml_text, std::string_view file) {
    toml::table root;
    try {
        root = toml::parse(toml_text, file);
    } catch (const toml::parse_error& e) {
        const toml::source_position at = e.source().begin;
        throw OptionsError(std::string(file) + ":" + std::to_string(at.line) + ":" +
                           std::to_string(at.column) + ": " + std::string(e.description()));
    }
    for (const auto& [key_, node] : root) {
        const std::string_view key = key_.str();
        const std::string field = std::string(file) + ": " + std::string(key);
        if (key == "ports") {
            o.ports = ports(toml_strings(node, field), field);
        } else if (key == "workers") {
            if (node.is_integer()) {
                o.workers = WorkersSpec{};
                o.workers.kind = WorkersSpec::Kind::count;
                o.workers.count =
                    static_cast<unsigned>(toml_int(node, 1, core::CpuSet::kMaxCpus, field));
                o.workers.text = std::to_string(o.workers.count);
                o.workers.field = field;
            } else if (node.is_string()) {
                o.workers = parse_workers(toml_string(node, field), field);
            } else {
                wrong_type(node, "\"auto\", an integer or a CPU list string", field);
            }
        } else if (key == "mode") {
            o.mode = choose(toml_string(node, field), kModes, field);
        } else if (key == "routes") {
            o.routes = toml_strings(node, field);
        } else if (key == "burst") {
            o.burst = static_cast<std::uint16_t>(toml_int(node, 1, kMaxBurst, field));
        } else if (key == "duration") {
            o.duration_s = toml_seconds(node, kMaxDurationS, field);
        } else if (key == "stats_interval") {
            o.stats_interval_s = toml_seconds(node, kMaxStatsIntervalS, field);
        } else if (key == "json") {
            o.json_path = non_empty(toml_string(node, field), "path", field);
        } else if (key == "latency") {
            if (const auto* b = node.as_boolean()) {
                o.latency = b->get();
            } else if (node.is_string()) {
                o.latency = on_off(toml_string(node, field), field);
            } else {
                wrong_type(node, "a boolean or \"on\"/\"off\"", field);
            }
        } else if (key == "mbufs") {
            o.mbufs = static_cast<std::uint32_t>(toml_int(node, kMinMbufs, kMaxMbufs, field));
        } else if (key == "tx_first") {
            o.tx_first = static_cast<std::uint32_t>(toml_int(node, 0, kMaxTxFirst, field));
        } else if (key == "file_prefix") {
            o.file_prefix = file_prefix(toml_string(node, field), field);
        } else if (key == "eal") {
            o.eal_args = toml_strings(node, field);
        } else if (key == "isolation") {
            apply_isolation_table(o, node, file);
        } else {
            fail(field, "unknown key (keys: " + std::string(kTopKeys) + ")");
        }
    }
}

FwdOptions parse_fwd_options(int argc, const char* const* argv) {
    FwdOptions o;
    // Split at the first "--": the rest belongs to the EAL, never to CLI11.
    int flag_count = argc;
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--") {
            flag_count = i;
            break;
        }
    }
    std::vector<std::string> eal_args(argv + std::min(flag_count + 1, argc), argv + argc);

    CLI::App app{"qc-fwd: DPDK packet forwarder on isolated cores", "qc-fwd"};
    CliValues cli;
    add_flags(app, cli);
    try {
        app.parse(flag_count, argv);
    } catch (const CLI::Success&) {  // --help
        o.help = app.help();
        return o;
    } catch (const CLI::ParseError& e) {
        throw OptionsError(e.what());
    }

    if (cli.config) {
        const std::string& path = non_empty(*cli.config, "path", "--config");
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            fail(path, "cannot open the config file (--config)");
        }
        std::ostringstream text;
        text << in.rdbuf();
        if (in.bad()) {
            fail(path, "cannot read the config file (--config)");
        }
        apply_toml(o, text.str(), path);
        o.config_path = path;
    }

    if (!cli.ports.empty()) {
        o.ports = ports(cli.ports, "--port");
    }
    if (cli.workers) {
        o.workers = parse_workers(*cli.workers, "--workers");
    }
    if (cli.mode) {
        o.mode = choose(*cli.mode, kModes, "--mode");
    }
    if (!cli.routes.empty()) {
        o.routes = cli.routes;
    }
    if (cli.burst) {
        o.burst = static_cast<std::uint16_t>(int_from_text(*cli.burst, 1, kMaxBurst, "--burst"));
    }
    if (cli.duration) {
        o.duration_s = seconds_from_text(*cli.duration, kMaxDurationS, "--duration");
    }
    if (cli.stats_interval) {
        o.stats_interval_s =
            seconds_from_text(*cli.stats_interval, kMaxStatsIntervalS, "--stats-interval");
    }
    if (cli.json) {
        o.json_path = non_empty(*cli.json, "path", "--json");
    }
    if (cli.isolation) {
        o.isolation = choose(*cli.isolation, kBackends, "--isolation");
    }
    if (cli.strict) {
        o.strict = choose(*cli.strict, kStrictModes, "--strict");
    }
    if (cli.break_policy) {
        o.break_policy = choose(*cli.break_policy, kPolicies, "--break-policy");
    }
    if (cli.latency) {
        o.latency = on_off(*cli.latency, "--latency");
    }
    if (cli.mbufs) {
        o.mbufs =
            static_cast<std::uint32_t>(int_from_text(*cli.mbufs, kMinMbufs, kMaxMbufs, "--mbufs"));
    }
    if (cli.tx_first) {
        o.tx_first =
            static_cast<std::uint32_t>(int_from_text(*cli.tx_first, 0, kMaxTxFirst, "--tx-first"));
    }
    if (cli.file_prefix) {
        o.file_prefix = file_prefix(*cli.file_prefix, "--file-prefix");
    }
    if (flag_count < argc) {
        o.eal_args = std::move(eal_args);
    }
    return o;
}

ResolvedWorkers resolve_workers(const WorkersSpec& spec, const core::CpuSet& isolated,
                                const core::CpuSet& online) {
    if (online.empty()) {
        fail(spec.field, "no CPU is online");
    }
    ResolvedWorkers out;
    if (spec.kind == WorkersSpec::Kind::list) {
        for (unsigned cpu : spec.cpus.cpus()) {
            if (!online.contains(cpu)) {
                fail(spec.field, "CPU " + std::to_string(cpu) +
                                     " is not online (online: " + online.to_list() + ")");
            }
        }
        out.cpus = spec.cpus.cpus();
        return out;
    }
    const core::CpuSet isolated_online = isolated & online;
    std::string source;
    if (!isolated_online.empty()) {
        out.cpus = isolated_online.cpus();
        source = "isolated CPUs";
    } else {
        const auto first = static_cast<unsigned>(online.first());
        out.cpus = (online - core::CpuSet{first}).cpus();
        source = "online CPUs but the first";
        if (out.cpus.empty()) {
            out.cpus = {first};
            out.warning = "only CPU " + std::to_string(first) +
                          " is online: the worker shares it with housekeeping";
        }
    }
    if (spec.kind == WorkersSpec::Kind::count) {
        if (spec.count > out.cpus.size()) {
            core::CpuSet listed;
            for (unsigned cpu : out.cpus) {
                listed.add(cpu);
            }
            fail(spec.field, std::to_string(spec.count) + " workers asked, but auto offers " +
                                 std::to_string(out.cpus.size()) + " (" + source + ": " +
                                 listed.to_list() + "); give a CPU list instead");
        }
        out.cpus.resize(spec.count);
    }
    return out;
}

ResolvedWorkers resolve_workers(const WorkersSpec& spec, const core::KernelCpuSets& kernel) {
    return resolve_workers(spec, kernel.kernel_isolated(), kernel.online);
}

std::string_view to_string(isolation::StrictMode mode) noexcept {
    switch (mode) {
        case isolation::StrictMode::off:
            return "off";
        case isolation::StrictMode::log:
            return "log";
        case isolation::StrictMode::signal:
            return "signal";
        case isolation::StrictMode::kill:
            return "kill";
    }
    return "unknown";
}

}  // namespace qc::fwd
