// The machine's CPU topology as a plain value: packages, NUMA nodes, physical
// cores with their SMT siblings, caches, and the place of every logical CPU.
//
// The facts are copied out of hwloc and the hwloc topology is destroyed, so a
// Topology is cheap to keep, copy and compare in tests. It can come from the
// live system, from an hwloc XML export (lstopo --of xml) or from an hwloc
// synthetic description ("pack:2 numa:2 core:4 pu:2"), which is how the unit
// tests build machines this one is not.
//
// CPUs are always named by their OS index (the number in cpulists, sysfs and
// sched_setaffinity). NUMA nodes are named by their OS index too (what libnuma
// and /sys/devices/system/node use). Packages and cores have no useful OS
// number, so they are named by their position in packages() and cores().
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "quietcore/core/cpu_set.hpp"

namespace qc::core {

struct PackageInfo {
    unsigned index = 0;  // position in Topology::packages()
    CpuSet cpus;
};

struct NumaNodeInfo {
    unsigned os_index = 0;
    CpuSet cpus;                           // empty for a memory-only node
    std::uint64_t local_memory_bytes = 0;  // 0 when hwloc does not know
};

struct CoreInfo {
    unsigned index = 0;      // position in Topology::cores()
    unsigned package = 0;    // index into Topology::packages()
    unsigned numa_node = 0;  // NUMA node OS index
    CpuSet cpus;             // its PUs: the SMT siblings of each other
};

enum class CacheType { unified, data, instruction };

struct CacheInfo {
    unsigned level = 0;  // 1, 2, 3, ...
    CacheType type = CacheType::unified;
    std::uint64_t size_bytes = 0;  // 0 when unknown
    unsigned line_bytes = 0;       // 0 when unknown
    CpuSet cpus;                   // the CPUs sharing this cache
};

struct CpuInfo {
    unsigned os_index = 0;
    unsigned package = 0;    // index into Topology::packages()
    unsigned core = 0;       // index into Topology::cores()
    unsigned numa_node = 0;  // NUMA node OS index
    CpuSet smt_siblings;     // all PUs of its core, itself included
};

class Topology {
  public:
    // Each throws Error naming the input (and hwloc's reason) when hwloc
    // cannot build a topology from it.
    static Topology from_system();
    static Topology from_xml_file(const std::string& path);
    static Topology from_synthetic(const std::string& description);

    // Where the facts came from: "live system", "hwloc XML file \"f.xml\"",
    // "hwloc synthetic \"pack:2 core:2 pu:2\"".
    const std::string& source() const noexcept { return source_; }
    // "2 packages, 4 NUMA nodes, 16 cores, 32 CPUs (SMT 2)".
    std::string summary() const;

    const std::vector<PackageInfo>& packages() const noexcept { return packages_; }
    const std::vector<NumaNodeInfo>& numa_nodes() const noexcept { return numa_nodes_; }
    const std::vector<CoreInfo>& cores() const noexcept { return cores_; }
    const std::vector<CacheInfo>& caches() const noexcept { return caches_; }
    // Sorted by OS index.
    const std::vector<CpuInfo>& cpus() const noexcept { return cpus_; }
    const CpuSet& cpu_set() const noexcept { return cpu_set_; }

    bool has_cpu(unsigned os_index) const noexcept { return cpu_set_.contains(os_index); }
    // Throw Error when the topology has no such CPU / NUMA node.
    const CpuInfo& cpu(unsigned os_index) const;
    const NumaNodeInfo& numa_node(unsigned os_index) const;

  private:
    friend class TopologyBuilder;
    Topology() = default;

    std::string source_;
    std::vector<PackageInfo> packages_;
    std::vector<NumaNodeInfo> numa_nodes_;
    std::vector<CoreInfo> cores_;
    std::vector<CacheInfo> caches_;
    std::vector<CpuInfo> cpus_;
    CpuSet cpu_set_;
};

// "unified", "data", "instruction".
std::string_view to_string(CacheType type) noexcept;
// "L1d", "L1i", "L2", "L3": the short name lstopo uses.
std::string cache_name(const CacheInfo& cache);

// JSON form (field names are stable; CPU sets are cpulist strings):
// {"source", "packages": [{"index", "cpus"}], "numa_nodes": [{"os_index",
// "cpus", "local_memory_bytes"}], "cores": [{"index", "package", "numa_node",
// "cpus"}], "caches": [{"level", "type", "size_bytes", "line_bytes", "cpus"}],
// "cpus": [{"cpu", "package", "core", "numa_node", "smt_siblings"}]}
void to_json(nlohmann::json& out, const Topology& topology);

}  // namespace qc::core
