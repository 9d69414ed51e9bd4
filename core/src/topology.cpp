#include "quietcore/core/topology.hpp"

#include <hwloc.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <system_error>
#include <tuple>
#include <utility>

#include "quietcore/core/error.hpp"

namespace qc::core {

namespace {

// Owns an hwloc topology for the few calls it takes to copy the facts out.
class HwlocHandle {
  public:
    HwlocHandle() {
        if (hwloc_topology_init(&topology_) != 0) {
            throw std::system_error(errno, std::generic_category(), "hwloc_topology_init");
        }
        // hwloc drops instruction caches by default; keep every cache.
        hwloc_topology_set_cache_types_filter(topology_, HWLOC_TYPE_FILTER_KEEP_ALL);
        hwloc_topology_set_icache_types_filter(topology_, HWLOC_TYPE_FILTER_KEEP_ALL);
    }
    ~HwlocHandle() { hwloc_topology_destroy(topology_); }
    HwlocHandle(const HwlocHandle&) = delete;
    HwlocHandle& operator=(const HwlocHandle&) = delete;

    hwloc_topology_t get() const noexcept { return topology_; }

  private:
    hwloc_topology_t topology_ = nullptr;
};

std::string errno_text(int err) {
    return err != 0 ? std::strerror(err) : "unknown reason";
}

CpuSet to_cpu_set(hwloc_const_bitmap_t bitmap, const std::string& source) {
    CpuSet set;
    if (bitmap == nullptr) {
        return set;
    }
    // Object cpusets are finite; an infinite one would make the loop endless.
    if (hwloc_bitmap_weight(bitmap) < 0) {
        throw Error(source + ": hwloc reported an infinite CPU set");
    }
    for (int i = hwloc_bitmap_first(bitmap); i != -1; i = hwloc_bitmap_next(bitmap, i)) {
        set.add(static_cast<unsigned>(i));
    }
    return set;
}

CacheType to_cache_type(hwloc_obj_cache_type_t type) {
    switch (type) {
        case HWLOC_OBJ_CACHE_DATA:
            return CacheType::data;
        case HWLOC_OBJ_CACHE_INSTRUCTION:
            return CacheType::instruction;
        case HWLOC_OBJ_CACHE_UNIFIED:
            break;
    }
    return CacheType::unified;
}

std::string counted(std::size_t n, const char* noun) {
    return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

}  // namespace

// Copies everything Topology holds out of a loaded hwloc topology.
class TopologyBuilder {
  public:
    static Topology build(hwloc_topology_t hw, std::string source) {
        Topology topo;
        topo.source_ = std::move(source);
        read_numa_nodes(hw, topo);
        read_cpus(hw, topo);
        read_caches(hw, topo);
        return topo;
    }

  private:
    static void read_numa_nodes(hwloc_topology_t hw, Topology& topo) {
        for (hwloc_obj_t node = hwloc_get_next_obj_by_type(hw, HWLOC_OBJ_NUMANODE, nullptr);
             node != nullptr; node = hwloc_get_next_obj_by_type(hw, HWLOC_OBJ_NUMANODE, node)) {
            NumaNodeInfo info;
            info.os_index = node->os_index;
            info.cpus = to_cpu_set(node->cpuset, topo.source_);
            info.local_memory_bytes = node->attr != nullptr ? node->attr->numanode.local_memory : 0;
            topo.numa_nodes_.push_back(std::move(info));
        }
        std::sort(
            topo.numa_nodes_.begin(), topo.numa_nodes_.end(),
            [](const NumaNodeInfo& a, const NumaNodeInfo& b) { return a.os_index < b.os_index; });
    }

    // Cores and packages are numbered in the order their first PU appears.
    // A PU without a Core ancestor (some synthetic or exotic topologies) is
    // its own core; PUs without a Package share one machine-wide package.
    static void read_cpus(hwloc_topology_t hw, Topology& topo) {
        std::map<hwloc_obj_t, unsigned> core_of;
        std::map<hwloc_obj_t, unsigned> package_of;
        for (hwloc_obj_t pu = hwloc_get_next_obj_by_type(hw, HWLOC_OBJ_PU, nullptr); pu != nullptr;
             pu = hwloc_get_next_obj_by_type(hw, HWLOC_OBJ_PU, pu)) {
            if (pu->os_index == HWLOC_UNKNOWN_INDEX) {
                throw Error(topo.source_ + ": a processing unit has no OS index");
            }
            CpuInfo cpu;
            cpu.os_index = pu->os_index;
            cpu.numa_node = numa_node_of(topo, cpu.os_index);

            hwloc_obj_t package = hwloc_get_ancestor_obj_by_type(hw, HWLOC_OBJ_PACKAGE, pu);
            auto [pkg_it, new_package] =
                package_of.try_emplace(package, static_cast<unsigned>(topo.packages_.size()));
            if (new_package) {
                topo.packages_.push_back(PackageInfo{pkg_it->second, {}});
            }
            cpu.package = pkg_it->second;
            topo.packages_[cpu.package].cpus.add(cpu.os_index);

            hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(hw, HWLOC_OBJ_CORE, pu);
            auto [core_it, new_core] = core_of.try_emplace(
                core != nullptr ? core : pu, static_cast<unsigned>(topo.cores_.size()));
            if (new_core) {
                topo.cores_.push_back(CoreInfo{core_it->second, cpu.package, cpu.numa_node, {}});
            }
            cpu.core = core_it->second;
            topo.cores_[cpu.core].cpus.add(cpu.os_index);

            topo.cpu_set_.add(cpu.os_index);
            topo.cpus_.push_back(std::move(cpu));
        }
        if (topo.cpus_.empty()) {
            throw Error(topo.source_ + ": hwloc found no CPU");
        }
        std::sort(topo.cpus_.begin(), topo.cpus_.end(),
                  [](const CpuInfo& a, const CpuInfo& b) { return a.os_index < b.os_index; });
        for (CpuInfo& cpu : topo.cpus_) {
            cpu.smt_siblings = topo.cores_[cpu.core].cpus;
        }
    }

    // A CPU local to several nodes (e.g. DRAM and HBM nodes of one package)
    // belongs to the lowest-numbered one.
    static unsigned numa_node_of(const Topology& topo, unsigned cpu) {
        for (const NumaNodeInfo& node : topo.numa_nodes_) {
            if (node.cpus.contains(cpu)) {
                return node.os_index;
            }
        }
        throw Error(topo.source_ + ": CPU " + std::to_string(cpu) + " is in no NUMA node");
    }

    static void read_caches(hwloc_topology_t hw, Topology& topo) {
        const int depth = hwloc_topology_get_depth(hw);
        for (int d = 0; d < depth; ++d) {
            if (!hwloc_obj_type_is_cache(hwloc_get_depth_type(hw, d))) {
                continue;
            }
            for (hwloc_obj_t obj = hwloc_get_next_obj_by_depth(hw, d, nullptr); obj != nullptr;
                 obj = hwloc_get_next_obj_by_depth(hw, d, obj)) {
                CacheInfo cache;
                cache.level = obj->attr->cache.depth;
                cache.type = to_cache_type(obj->attr->cache.type);
                cache.size_bytes = obj->attr->cache.size;
                cache.line_bytes = obj->attr->cache.linesize;
                cache.cpus = to_cpu_set(obj->cpuset, topo.source_);
                if (!cache.cpus.empty()) {
                    topo.caches_.push_back(std::move(cache));
                }
            }
        }
        std::sort(topo.caches_.begin(), topo.caches_.end(),
                  [](const CacheInfo& a, const CacheInfo& b) {
                      return std::tuple(a.level, a.type, a.cpus.first()) <
                             std::tuple(b.level, b.type, b.cpus.first());
                  });
    }
};

Topology Topology::from_system() {
    HwlocHandle hw;
    if (hwloc_topology_load(hw.get()) != 0) {
        const int err = errno;
        throw Error("live system: hwloc cannot read the topology: " + errno_text(err));
    }
    return TopologyBuilder::build(hw.get(), "live system");
}

Topology Topology::from_xml_file(const std::string& path) {
    const std::string source = "hwloc XML file \"" + path + "\"";
    HwlocHandle hw;
    if (hwloc_topology_set_xml(hw.get(), path.c_str()) != 0) {
        const int err = errno;
        throw Error(source + ": cannot read it: " + errno_text(err));
    }
    if (hwloc_topology_load(hw.get()) != 0) {
        const int err = errno;
        throw Error(source + ": hwloc cannot load it (not a valid hwloc topology export): " +
                    errno_text(err));
    }
    return TopologyBuilder::build(hw.get(), source);
}

Topology Topology::from_synthetic(const std::string& description) {
    const std::string source = "hwloc synthetic \"" + description + "\"";
    HwlocHandle hw;
    if (hwloc_topology_set_synthetic(hw.get(), description.c_str()) != 0) {
        throw Error(source + ": not a valid hwloc synthetic description " +
                    "(levels like \"pack:2 numa:2 core:4 pu:2\")");
    }
    if (hwloc_topology_load(hw.get()) != 0) {
        const int err = errno;
        throw Error(source + ": hwloc cannot build it: " + errno_text(err));
    }
    return TopologyBuilder::build(hw.get(), source);
}

std::string Topology::summary() const {
    std::string text = counted(packages_.size(), "package") + ", " +
                       counted(numa_nodes_.size(), "NUMA node") + ", " +
                       counted(cores_.size(), "core") + ", " + counted(cpus_.size(), "CPU");
    if (cpus_.size() > cores_.size()) {
        text += " (SMT)";
    }
    return text;
}

const CpuInfo& Topology::cpu(unsigned os_index) const {
    auto it =
        std::lower_bound(cpus_.begin(), cpus_.end(), os_index,
                         [](const CpuInfo& cpu, unsigned wanted) { return cpu.os_index < wanted; });
    if (it == cpus_.end() || it->os_index != os_index) {
        throw Error(source_ + ": no CPU " + std::to_string(os_index));
    }
    return *it;
}

const NumaNodeInfo& Topology::numa_node(unsigned os_index) const {
    for (const NumaNodeInfo& node : numa_nodes_) {
        if (node.os_index == os_index) {
            return node;
        }
    }
    throw Error(source_ + ": no NUMA node " + std::to_string(os_index));
}

std::string_view to_string(CacheType type) noexcept {
    switch (type) {
        case CacheType::data:
            return "data";
        case CacheType::instruction:
            return "instruction";
        case CacheType::unified:
            break;
    }
    return "unified";
}

std::string cache_name(const CacheInfo& cache) {
    std::string name = "L" + std::to_string(cache.level);
    if (cache.type == CacheType::data) {
        name += 'd';
    } else if (cache.type == CacheType::instruction) {
        name += 'i';
    }
    return name;
}

void to_json(nlohmann::json& out, const Topology& topology) {
    out = nlohmann::json::object();
    out["source"] = topology.source();
    auto& packages = out["packages"] = nlohmann::json::array();
    for (const PackageInfo& p : topology.packages()) {
        packages.push_back({{"index", p.index}, {"cpus", p.cpus.to_list()}});
    }
    auto& nodes = out["numa_nodes"] = nlohmann::json::array();
    for (const NumaNodeInfo& n : topology.numa_nodes()) {
        nodes.push_back({{"os_index", n.os_index},
                         {"cpus", n.cpus.to_list()},
                         {"local_memory_bytes", n.local_memory_bytes}});
    }
    auto& cores = out["cores"] = nlohmann::json::array();
    for (const CoreInfo& c : topology.cores()) {
        cores.push_back({{"index", c.index},
                         {"package", c.package},
                         {"numa_node", c.numa_node},
                         {"cpus", c.cpus.to_list()}});
    }
    auto& caches = out["caches"] = nlohmann::json::array();
    for (const CacheInfo& c : topology.caches()) {
        caches.push_back({{"level", c.level},
                          {"type", to_string(c.type)},
                          {"size_bytes", c.size_bytes},
                          {"line_bytes", c.line_bytes},
                          {"cpus", c.cpus.to_list()}});
    }
    auto& cpus = out["cpus"] = nlohmann::json::array();
    for (const CpuInfo& c : topology.cpus()) {
        cpus.push_back({{"cpu", c.os_index},
                        {"package", c.package},
                        {"core", c.core},
                        {"numa_node", c.numa_node},
                        {"smt_siblings", c.smt_siblings.to_list()}});
    }
}

}  // namespace qc::core
