#include "quietcore/dataplane/eal_session.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <set>
#include <system_error>

#include "quietcore/core/error.hpp"
#include "quietcore/core/thread.hpp"

namespace qc::dataplane {

namespace {

std::atomic<bool> g_active{false};
std::atomic<bool> g_initialised{false};

bool hex_digits(std::string_view s, std::size_t n) noexcept {
    return s.size() == n &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(c) != 0; });
}

bool contains(const std::vector<std::string>& args, std::initializer_list<std::string_view> any) {
    return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
        return std::any_of(any.begin(), any.end(), [&](std::string_view x) {
            return a == x || (x.starts_with("--") && a.starts_with(std::string(x) + "="));
        });
    });
}

std::string join(const std::vector<unsigned>& cpus) {
    std::string out;
    for (const unsigned c : cpus) {
        out += (out.empty() ? "" : ",") + std::to_string(c);
    }
    return out;
}

}  // namespace

bool is_pci_address(std::string_view s) noexcept {
    // [DDDD:]BB:DD.F
    const std::size_t dot = s.rfind('.');
    if (dot == std::string_view::npos || dot + 2 != s.size() || s[dot + 1] < '0' ||
        s[dot + 1] > '7') {
        return false;
    }
    std::string_view head = s.substr(0, dot);
    const std::size_t last = head.rfind(':');
    if (last == std::string_view::npos || !hex_digits(head.substr(last + 1), 2)) {
        return false;
    }
    head = head.substr(0, last);
    const std::size_t first = head.rfind(':');
    if (first == std::string_view::npos) {
        return hex_digits(head, 2);
    }
    return hex_digits(head.substr(first + 1), 2) && hex_digits(head.substr(0, first), 4);
}

std::string port_name_of(std::string_view spec) {
    if (spec.empty()) {
        throw core::ParseError("port spec", spec, spec, "empty");
    }
    if (is_pci_address(spec)) {
        return spec.size() == 7 ? "0000:" + std::string(spec) : std::string(spec);
    }
    const std::string_view name = spec.substr(0, spec.find(','));
    if (name.empty()) {
        throw core::ParseError("port spec", spec, spec,
                               "no device name before ',' (want a vdev like net_null0 or a "
                               "PCI address like 0000:01:00.0)");
    }
    for (const char c : name) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') {
            throw core::ParseError("port spec", spec, name,
                                   "a device name is letters, digits and '_' (want a vdev like "
                                   "net_null0 or a PCI address like 0000:01:00.0)");
        }
    }
    return std::string(name);
}

unsigned housekeeping_cpu(const std::vector<unsigned>& workers, const core::CpuSet& online) {
    if (workers.empty()) {
        throw core::Error("EAL: no worker CPU given (online CPUs: " + online.to_list() + ")");
    }
    std::set<unsigned> seen;
    for (const unsigned cpu : workers) {
        if (!online.contains(cpu)) {
            throw core::Error("EAL: worker CPU " + std::to_string(cpu) +
                              " is not online (online CPUs: " + online.to_list() + ")");
        }
        if (!seen.insert(cpu).second) {
            throw core::Error("EAL: worker CPU " + std::to_string(cpu) + " is listed twice");
        }
    }
    for (const unsigned cpu : online.cpus()) {
        if (seen.count(cpu) == 0) {
            return cpu;
        }
    }
    throw core::Error("EAL: worker CPUs " + join(workers) +
                      " take every online CPU; one must be left for housekeeping (online CPUs: " +
                      online.to_list() + ")");
}

std::vector<std::string> build_eal_args(const EalOptions& options, const PlatformFacts& platform,
                                        const core::CpuSet& online) {
    if (options.file_prefix.empty()) {
        throw core::Error("EAL: the file prefix is empty");
    }
    const unsigned main_cpu = housekeeping_cpu(options.worker_cpus, online);
    std::vector<unsigned> lcores = options.worker_cpus;
    lcores.push_back(main_cpu);
    std::sort(lcores.begin(), lcores.end());

    bool any_pci = false;
    for (const std::string& spec : options.ports) {
        port_name_of(spec);  // validates
        any_pci = any_pci || is_pci_address(spec);
    }
    const std::vector<std::string>& extra = options.extra_args;

    std::vector<std::string> args{"quietcore"};
    if (!contains(extra, {"-l", "--lcores", "-c"})) {
        args.insert(args.end(), {"-l", join(lcores), "--main-lcore", std::to_string(main_cpu)});
    }
    if (!contains(extra, {"--file-prefix"})) {
        args.push_back("--file-prefix=" + options.file_prefix);
    }
    if (!platform.has_hugepages() && !contains(extra, {"--no-huge"})) {
        args.push_back("--no-huge");
        if (!contains(extra, {"-m", "--socket-mem"})) {
            args.insert(args.end(), {"-m", "512"});
        }
        // DPDK 22.11: --no-huge implies legacy memory, which --in-memory
        // refuses; --no-shconf is the part of --in-memory that still applies
        // (no shared config files: nothing is left behind).
        if (!contains(extra, {"--in-memory", "--no-shconf"})) {
            args.push_back("--no-shconf");
        }
    }
    if ((!platform.has_bound_nic() || !any_pci) &&
        !contains(extra, {"--no-pci", "-a", "--allow", "-b", "--block"})) {
        args.push_back("--no-pci");
    }
    for (const std::string& spec : options.ports) {
        if (is_pci_address(spec)) {
            args.insert(args.end(), {"-a", spec});
        } else {
            args.insert(args.end(), {"--vdev", spec});
        }
    }
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

EalSession::EalSession(const EalOptions& options, const std::filesystem::path& probe_root)
    : platform_(probe_platform(probe_root)) {
    const core::CpuSet online = core::online_cpus();
    args_ = build_eal_args(options, platform_, online);
    if (g_initialised.exchange(true)) {
        throw core::Error("EAL: already initialised in this process (one EAL per process)");
    }
    std::vector<char*> argv;
    std::vector<std::string> copy = args_;  // rte_eal_init may permute argv
    for (std::string& a : copy) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    if (rte_eal_init(static_cast<int>(argv.size() - 1), argv.data()) < 0) {
        throw core::Error("EAL: rte_eal_init failed: " + std::string(rte_strerror(rte_errno)) +
                          " (arguments: " + command_line() + ")");
    }
    main_lcore_ = rte_get_main_lcore();
    g_active = true;
}

EalSession::~EalSession() {
    std::uint16_t port = 0;
    RTE_ETH_FOREACH_DEV(port) {
        rte_eth_dev_close(port);  // Forwarders stop their ports
    }
    const std::filesystem::path runtime_dir = rte_eal_get_runtime_dir();
    rte_eal_cleanup();
    // The telemetry socket is unlinked by an exit handler, after this: do it
    // now so the (otherwise empty) runtime directory can go too.
    std::error_code ignored;
    std::filesystem::remove(runtime_dir / "dpdk_telemetry.v2", ignored);
    std::filesystem::remove(runtime_dir, ignored);  // only when empty
    g_active = false;
}

std::string EalSession::command_line() const {
    std::string out;
    for (const std::string& a : args_) {
        out += (out.empty() ? "" : " ") + a;
    }
    return out;
}

bool EalSession::active() noexcept {
    return g_active.load();
}

}  // namespace qc::dataplane
