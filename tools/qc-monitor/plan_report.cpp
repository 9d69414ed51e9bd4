#include "plan_report.hpp"

#include <algorithm>
#include <cstdint>
#include <iomanip>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace qc::monitor {

namespace {

using core::CacheInfo;
using core::CpuSet;
using core::Finding;

std::string list_or_none(const CpuSet& cpus) {
    return cpus.empty() ? "none" : cpus.to_list();
}

// 49152 -> "48 KiB", 16777216 -> "16 MiB", 1500000 -> "1.4 MiB".
std::string human_size(std::uint64_t bytes) {
    if (bytes == 0) {
        return "size unknown";
    }
    static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
        value /= 1024.0;
        ++unit;
    }
    std::ostringstream text;
    if (value == static_cast<double>(static_cast<std::uint64_t>(value))) {
        text << static_cast<std::uint64_t>(value);
    } else {
        text << std::fixed << std::setprecision(1) << value;
    }
    text << ' ' << kUnits[unit];
    return text.str();
}

std::string nohz_text(const core::KernelCpuSets& kernel) {
    switch (kernel.nohz_full_state) {
        case core::NohzFullState::unsupported:
            return "not supported by this kernel";
        case core::NohzFullState::off:
            return "off";
        case core::NohzFullState::on:
            break;
    }
    return kernel.nohz_full.to_list();
}

std::string candidate_source_text(core::CandidateSource source) {
    switch (source) {
        case core::CandidateSource::user:
            return "requested by the user";
        case core::CandidateSource::kernel:
            return "what the kernel isolates";
        case core::CandidateSource::soft:
            break;
    }
    return "soft plan, the kernel isolates nothing";
}

void print_cpu_table(std::ostream& out, const core::Topology& topo,
                     const core::IsolationPlan& plan) {
    out << "  PACKAGE  NUMA  CORE  CPU  ROLE\n";
    // Rows grouped by core so SMT siblings sit together whatever their numbers.
    for (const core::CoreInfo& core : topo.cores()) {
        for (unsigned cpu : core.cpus.cpus()) {
            out << "  " << std::left << std::setw(9) << core.package << std::setw(6)
                << core.numa_node << std::setw(6) << core.index << std::setw(5) << cpu
                << to_string(plan.role(cpu)) << '\n';
        }
    }
}

// One entry per cache kind and size: "L2 1 MiB x16 (each shared by 2 CPUs)".
void print_caches(std::ostream& out, const core::Topology& topo) {
    struct Group {
        std::size_t count = 0;
        std::size_t min_sharing = SIZE_MAX;
        std::size_t max_sharing = 0;
    };
    std::map<std::tuple<unsigned, core::CacheType, std::uint64_t>, Group> groups;
    for (const CacheInfo& cache : topo.caches()) {
        Group& g = groups[{cache.level, cache.type, cache.size_bytes}];
        ++g.count;
        g.min_sharing = std::min(g.min_sharing, cache.cpus.count());
        g.max_sharing = std::max(g.max_sharing, cache.cpus.count());
    }
    out << "Caches:";
    if (groups.empty()) {
        out << " none reported\n";
        return;
    }
    out << '\n';
    for (const auto& [key, g] : groups) {
        const auto& [level, type, size] = key;
        CacheInfo sample;
        sample.level = level;
        sample.type = type;
        out << "  " << std::left << std::setw(4) << core::cache_name(sample) << std::setw(10)
            << human_size(size) << 'x' << g.count << " (each shared by ";
        if (g.min_sharing != g.max_sharing) {
            out << g.min_sharing << "-";
        }
        out << g.max_sharing << (g.max_sharing == 1 ? " CPU)\n" : " CPUs)\n");
    }
}

void print_findings(std::ostream& out, const std::vector<Finding>& findings) {
    out << "Findings:\n";
    for (const Finding& f : findings) {
        out << "  " << std::left << std::setw(10) << to_string(f.severity) << to_string(f.kind)
            << ": " << f.message << '\n';
    }
}

}  // namespace

void print_plan_report(std::ostream& out, const core::Topology& topology,
                       const core::KernelCpuSets& kernel, const core::IsolationPlan& plan) {
    out << "Topology: " << topology.source() << ": " << topology.summary() << "\n";
    print_cpu_table(out, topology, plan);
    print_caches(out, topology);
    out << "Kernel (" << kernel.sysfs_root << "/devices/system/cpu):\n"
        << "  possible      " << list_or_none(kernel.possible) << '\n'
        << "  online        " << list_or_none(kernel.online) << '\n'
        << "  isolated      " << list_or_none(kernel.isolated) << '\n'
        << "  nohz_full     " << nohz_text(kernel) << '\n';
    out << "Plan (candidates: " << candidate_source_text(plan.candidate_source) << "):\n"
        << "  candidates    " << list_or_none(plan.candidates) << '\n'
        << "  workers       " << list_or_none(plan.workers) << '\n'
        << "  housekeeping  " << list_or_none(plan.housekeeping) << '\n'
        << "  idle          " << list_or_none(plan.idle) << '\n'
        << "  offline       " << list_or_none(plan.offline) << '\n';
    print_findings(out, plan.findings);
}

nlohmann::json plan_report_json(const core::Topology& topology, const core::KernelCpuSets& kernel,
                                const core::IsolationPlan& plan) {
    nlohmann::json topo_json = topology;
    for (auto& cpu : topo_json.at("cpus")) {
        cpu["role"] = to_string(plan.role(cpu.at("cpu").get<unsigned>()));
    }
    return {{"topology", std::move(topo_json)}, {"kernel", kernel}, {"plan", plan}};
}

}  // namespace qc::monitor
