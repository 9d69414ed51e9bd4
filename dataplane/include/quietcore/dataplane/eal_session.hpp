// DPDK's EAL for the life of a process (DESIGN.md "Data plane"): the argument
// vector built from EalOptions and the platform probe, rte_eal_init in the
// constructor, ports closed and rte_eal_cleanup in the destructor. DPDK allows
// one EAL per process: a second session is an error, also after the first
// was destroyed.
//
// Lcores: a main (housekeeping) lcore on the first online CPU that is not a
// worker CPU, and one lcore per worker CPU, lcore id = CPU id (`-l`,
// `--main-lcore`). Embedded default: no free hugepages -> `--no-huge -m 512
// --no-shconf` (DPDK 22.11 refuses `--in-memory` with `--no-huge`: "--legacy-mem
// is not compatible with --in-memory"); no bound NIC (or no PCI port asked
// for) -> `--no-pci`. Ports:
// a PCI address -> `-a ADDR`, anything else -> `--vdev SPEC`. extra_args are
// appended verbatim, last, and switch off the defaults they already set.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "quietcore/core/cpu_set.hpp"
#include "quietcore/dataplane/platform_probe.hpp"

namespace qc::dataplane {

struct EalOptions {
    std::vector<std::string> ports;  // as given: PCI address -> -a, else vdev spec -> --vdev
    std::vector<unsigned> worker_cpus;
    std::string file_prefix = "qc-fwd";
    std::vector<std::string> extra_args;  // passed through verbatim (after `--` on the CLI)
};

// "0000:01:00.0" or "01:00.0" (domain optional), hex digits, function 0-7.
bool is_pci_address(std::string_view text) noexcept;

// The ethdev name a port spec gives: a vdev spec's device name (text before
// the first ','), a PCI address with its domain ("01:00.0" -> "0000:01:00.0").
// Throws core::ParseError naming the spec when it is empty or its device name
// is not [A-Za-z0-9_]+ (for example "net_pcap0 ,rx_pcap=x", ",iface=a").
std::string port_name_of(std::string_view spec);

// The main lcore's CPU: the first of `online` not among the workers. Throws
// core::Error naming the worker list when every online CPU is a worker, and
// naming the CPU when a worker CPU is not online or listed twice, or when
// there is no worker.
unsigned housekeeping_cpu(const std::vector<unsigned>& worker_cpus, const core::CpuSet& online);

// The whole argument vector, argv[0] ("quietcore") included. Pure: what the
// machine offers comes in `platform` and `online`. Throws as port_name_of()
// and housekeeping_cpu(), and core::Error for an empty file prefix.
std::vector<std::string> build_eal_args(const EalOptions& options, const PlatformFacts& platform,
                                        const core::CpuSet& online);

class EalSession {
  public:
    // Probes the platform under `probe_root`, builds the arguments and runs
    // rte_eal_init. Throws core::Error with rte_strerror(rte_errno) and the
    // arguments when EAL refuses, or when an EAL was already initialised in
    // this process.
    explicit EalSession(const EalOptions& options, const std::filesystem::path& probe_root = "/");
    ~EalSession();
    EalSession(const EalSession&) = delete;
    EalSession& operator=(const EalSession&) = delete;

    const std::vector<std::string>& args() const noexcept { return args_; }
    std::string command_line() const;  // args joined by spaces
    const PlatformFacts& platform() const noexcept { return platform_; }
    unsigned main_lcore() const noexcept { return main_lcore_; }

    // An EalSession is alive in this process.
    static bool active() noexcept;

  private:
    PlatformFacts platform_;
    std::vector<std::string> args_;
    unsigned main_lcore_ = 0;
};

}  // namespace qc::dataplane
