// qc-fwd's command line and TOML config (the interface of issue 6's contract:
// flags, TOML keys, exit codes). Everything here is plain values: parsing
// needs neither EAL nor a running machine, except resolve_workers(), which is
// given the machine's CPU sets by its caller.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quietcore/core/cpu_set.hpp"
#include "quietcore/core/error.hpp"
#include "quietcore/core/isolation_plan.hpp"
#include "quietcore/dataplane/fwd_mode.hpp"
#include "quietcore/isolation/backend.hpp"
#include "quietcore/isolation/isolation_state.hpp"

namespace qc::fwd {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;     // a runtime error
inline constexpr int kExitUsage = 2;       // bad flag, bad config file, bad value
inline constexpr int kExitAccounting = 3;  // accounting identity broken or mbufs not returned

// A bad flag, config file or value. The message names the flag ("--burst: ...")
// or the file and the TOML field ("config.toml: isolation.policy: ...").
class OptionsError : public core::Error {
  public:
    using core::Error::Error;
};

// --workers / workers =
//   "auto"     the kernel's isolated CPUs, else every online CPU but the first
//   N          (a plain decimal number, also TOML integer) the first N of the auto list
//   CPULIST    cpulist syntax ("1-3", "1,3"); a single CPU is written "3-3"
struct WorkersSpec {
    enum class Kind { automatic, count, list };
    Kind kind = Kind::automatic;
    unsigned count = 0;  // Kind::count, >= 1
    core::CpuSet cpus;   // Kind::list, not empty
    std::string text = "auto";
    std::string field = "--workers";  // where it came from, for error messages
};

// Throws OptionsError prefixed with `field` ("--workers", "config.toml: workers").
WorkersSpec parse_workers(std::string_view text, std::string_view field);

struct FwdOptions {
    std::optional<std::string> config_path;  // -c/--config
    // --port / ports = [...], as given (vdev spec or PCI address). Empty: the
    // embedded default (net_null0 net_null1, or the bound PCI NICs), decided
    // by the framework's EAL session.
    std::vector<std::string> ports;
    WorkersSpec workers;
    dataplane::FwdMode mode = dataplane::FwdMode::io;
    std::vector<std::string> routes;  // route texts, parsed by dataplane::parse_route
    std::uint16_t burst = 32;         // 1..512
    double duration_s = 0;            // 0: until SIGTERM/SIGINT
    double stats_interval_s = 1;      // 0: no live stats
    std::optional<std::string> json_path;
    dataplane::IsolationChoice isolation = dataplane::IsolationChoice::auto_detect;
    isolation::StrictMode strict = isolation::StrictMode::signal;
    isolation::BreakPolicy break_policy = isolation::BreakPolicy::reenter;
    bool latency = true;
    std::uint32_t mbufs = 16384;  // per pool
    std::uint32_t tx_first = 0;   // bursts injected per port at start
    std::string file_prefix = "qc-fwd";
    std::vector<std::string> eal_args;  // after `--` (or eal = [...]), verbatim

    // Non-empty when --help was given: print it and exit kExitOk.
    std::string help;
};

// Limits of the numeric values (inclusive).
inline constexpr std::uint16_t kMaxBurst = 512;
inline constexpr std::uint32_t kMinMbufs = 512;
inline constexpr std::uint32_t kMaxMbufs = 1u << 24;
inline constexpr std::uint32_t kMaxTxFirst = 65536;
inline constexpr double kMaxDurationS = 365.0 * 86400;
inline constexpr double kMaxStatsIntervalS = 86400;

// Parses argv: flags, then `--config` (TOML, read through toml++) under them —
// a value given on the command line wins; a list given on the command line
// (--port, --route, EAL args) replaces the file's list. Everything after the
// first `--` is EAL arguments. Throws OptionsError; --help fills `help`.
FwdOptions parse_fwd_options(int argc, const char* const* argv);
inline FwdOptions parse_fwd_options(int argc, char** argv) {
    return parse_fwd_options(argc, const_cast<const char* const*>(argv));
}

// Applies a TOML document to `options` (what --config does; exposed for
// tests). `file` names the source in messages. Throws OptionsError, also for
// keys the contract does not define.
void apply_toml(FwdOptions& options, std::string_view toml_text, std::string_view file);

struct ResolvedWorkers {
    std::vector<unsigned> cpus;  // ascending for auto/N, never empty
    std::string warning;         // "" or why the choice is weak (1-CPU machine)
};

// The worker CPUs for a spec (pure). `isolated`: CPUs the kernel isolates
// (KernelCpuSets::kernel_isolated()); `online`: the online CPUs.
//   auto: isolated ∩ online if not empty, else every online CPU but the first
//         (on a 1-CPU machine that CPU, with a warning);
//   N:    the first N of the auto list (error when it is shorter);
//   list: exactly those CPUs (error naming a CPU that is not online).
// Throws OptionsError naming spec.field.
ResolvedWorkers resolve_workers(const WorkersSpec& spec, const core::CpuSet& isolated,
                                const core::CpuSet& online);
ResolvedWorkers resolve_workers(const WorkersSpec& spec, const core::KernelCpuSets& kernel);

std::string_view to_string(isolation::StrictMode mode) noexcept;  // "signal", "log", "off", "kill"

}  // namespace qc::fwd
