// Topology: the facts copied out of hwloc for synthetic descriptions, an
// hwloc XML export, the live system, and the errors for bad inputs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <string>

#include "quietcore/core/cpu_set.hpp"
#include "quietcore/core/error.hpp"
#include "quietcore/core/topology.hpp"

namespace qc::core {

void PrintTo(const CpuSet& s, std::ostream* os) {
    *os << "{" << s.to_list() << "}";
}

namespace {

// 2 packages x 2 NUMA nodes x 4 cores x 2 PUs, hwloc's default numbering
// (the PUs of a core are consecutive): 32 CPUs, core k holds CPUs 2k, 2k+1.
const char* const kTwoSocketSmt = "pack:2 numa:2 core:4 pu:2";

// The same shape with cache levels: hwloc puts each L3 with its NUMA node.
const char* const kTwoSocketSmtCaches =
    "pack:2 numa:2 l3:1(size=16MiB) core:4 l2:1(size=1MiB) l1d:1(size=32KiB) pu:2";

// Data files come from core/tests/data, which meson passes in QC_TEST_DATA.
std::string data_file(const std::string& name) {
    const char* dir = std::getenv("QC_TEST_DATA");
    if (dir == nullptr) {
        ADD_FAILURE() << "QC_TEST_DATA is not set";
        return name;
    }
    return std::string(dir) + "/" + name;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

// Structural facts that hold for any topology: cores partition the CPUs,
// every CPU's entries point at objects that contain it.
void expect_consistent(const Topology& topo) {
    CpuSet from_cores;
    for (const CoreInfo& core : topo.cores()) {
        EXPECT_FALSE(core.cpus.empty());
        EXPECT_FALSE(from_cores.intersects(core.cpus)) << "cores overlap at core " << core.index;
        from_cores = from_cores | core.cpus;
    }
    EXPECT_EQ(from_cores, topo.cpu_set());

    CpuSet from_packages;
    for (const PackageInfo& package : topo.packages()) {
        from_packages = from_packages | package.cpus;
    }
    EXPECT_EQ(from_packages, topo.cpu_set());

    ASSERT_EQ(topo.cpus().size(), topo.cpu_set().count());
    for (const CpuInfo& cpu : topo.cpus()) {
        EXPECT_TRUE(cpu.smt_siblings.contains(cpu.os_index));
        ASSERT_LT(cpu.core, topo.cores().size());
        EXPECT_EQ(topo.cores()[cpu.core].cpus, cpu.smt_siblings);
        ASSERT_LT(cpu.package, topo.packages().size());
        EXPECT_TRUE(topo.packages()[cpu.package].cpus.contains(cpu.os_index));
        EXPECT_TRUE(topo.numa_node(cpu.numa_node).cpus.contains(cpu.os_index));
        EXPECT_EQ(&topo.cpu(cpu.os_index), &cpu);
    }
}

std::size_t count_caches(const Topology& topo, const std::string& name) {
    std::size_t n = 0;
    for (const CacheInfo& cache : topo.caches()) {
        n += cache_name(cache) == name ? 1 : 0;
    }
    return n;
}

const CacheInfo* cache_of(const Topology& topo, const std::string& name, unsigned cpu) {
    for (const CacheInfo& cache : topo.caches()) {
        if (cache_name(cache) == name && cache.cpus.contains(cpu)) {
            return &cache;
        }
    }
    return nullptr;
}

// --- synthetic ----------------------------------------------------------------

TEST(TopologySynthetic, CountsPackagesNumaNodesCoresAndCpus) {
    const Topology topo = Topology::from_synthetic(kTwoSocketSmt);
    EXPECT_EQ(topo.packages().size(), 2u);
    EXPECT_EQ(topo.numa_nodes().size(), 4u);
    EXPECT_EQ(topo.cores().size(), 16u);
    EXPECT_EQ(topo.cpus().size(), 32u);
    EXPECT_EQ(topo.cpu_set(), CpuSet::parse_list("0-31"));
    EXPECT_EQ(topo.source(), "hwloc synthetic \"pack:2 numa:2 core:4 pu:2\"");
    EXPECT_EQ(topo.summary(), "2 packages, 4 NUMA nodes, 16 cores, 32 CPUs (SMT)");
    expect_consistent(topo);
}

TEST(TopologySynthetic, PlacesEachCpuInItsPackageNodeAndCore) {
    const Topology topo = Topology::from_synthetic(kTwoSocketSmt);
    const CpuInfo& cpu9 = topo.cpu(9);
    EXPECT_EQ(cpu9.package, 0u);
    EXPECT_EQ(cpu9.numa_node, 1u);
    EXPECT_EQ(cpu9.core, 4u);
    EXPECT_EQ(cpu9.smt_siblings, (CpuSet{8, 9}));

    const CpuInfo& cpu17 = topo.cpu(17);
    EXPECT_EQ(cpu17.package, 1u);
    EXPECT_EQ(cpu17.numa_node, 2u);
    EXPECT_EQ(cpu17.smt_siblings, (CpuSet{16, 17}));

    EXPECT_EQ(topo.packages()[0].cpus, CpuSet::parse_list("0-15"));
    EXPECT_EQ(topo.packages()[1].cpus, CpuSet::parse_list("16-31"));
    EXPECT_EQ(topo.numa_node(3).cpus, CpuSet::parse_list("24-31"));
    EXPECT_EQ(topo.cores()[15].cpus, (CpuSet{30, 31}));
    EXPECT_EQ(topo.cores()[15].package, 1u);
    EXPECT_EQ(topo.cores()[15].numa_node, 3u);
}

TEST(TopologySynthetic, CopiesCachesWithSizesAndSharingCpus) {
    const Topology topo = Topology::from_synthetic(kTwoSocketSmtCaches);
    EXPECT_EQ(topo.numa_nodes().size(), 4u);
    EXPECT_EQ(count_caches(topo, "L3"), 4u);
    EXPECT_EQ(count_caches(topo, "L2"), 16u);
    EXPECT_EQ(count_caches(topo, "L1d"), 16u);
    EXPECT_EQ(topo.caches().size(), 36u);

    const CacheInfo* l3 = cache_of(topo, "L3", 9);
    ASSERT_NE(l3, nullptr);
    EXPECT_EQ(l3->level, 3u);
    EXPECT_EQ(l3->type, CacheType::unified);
    EXPECT_EQ(l3->size_bytes, 16u << 20);
    EXPECT_EQ(l3->cpus, CpuSet::parse_list("8-15"));
    EXPECT_EQ(l3->cpus, topo.numa_node(1).cpus);

    const CacheInfo* l1 = cache_of(topo, "L1d", 9);
    ASSERT_NE(l1, nullptr);
    EXPECT_EQ(l1->type, CacheType::data);
    EXPECT_EQ(l1->size_bytes, 32u << 10);
    EXPECT_EQ(l1->cpus, (CpuSet{8, 9}));

    // Sorted by level: the first cache is an L1, the last an L3.
    EXPECT_EQ(topo.caches().front().level, 1u);
    EXPECT_EQ(topo.caches().back().level, 3u);
}

TEST(TopologySynthetic, SiblingsFollowOsIndexesNotLogicalOrder) {
    // Linux on Intel numbers the second hyperthread of core k as k + 8 here.
    const Topology topo = Topology::from_synthetic(
        "pack:2 core:4 pu:2(indexes=0,8,1,9,2,10,3,11,4,12,5,13,6,14,7,15)");
    EXPECT_EQ(topo.cpu(3).smt_siblings, (CpuSet{3, 11}));
    EXPECT_EQ(topo.cpu(11).smt_siblings, (CpuSet{3, 11}));
    EXPECT_EQ(topo.cpu(3).core, topo.cpu(11).core);
    EXPECT_EQ(topo.packages()[1].cpus, CpuSet::parse_list("4-7,12-15"));
    // One NUMA node when the description names none.
    ASSERT_EQ(topo.numa_nodes().size(), 1u);
    EXPECT_EQ(topo.numa_nodes()[0].cpus, CpuSet::parse_list("0-15"));
    expect_consistent(topo);
}

TEST(TopologySynthetic, PusWithoutCoresAreTheirOwnCores) {
    const Topology topo = Topology::from_synthetic("pack:2 pu:4");
    EXPECT_EQ(topo.cores().size(), 8u);
    EXPECT_EQ(topo.cpu(5).smt_siblings, CpuSet{5});
    EXPECT_EQ(topo.cpu(5).package, 1u);
    EXPECT_EQ(topo.summary(), "2 packages, 1 NUMA node, 8 cores, 8 CPUs");
    expect_consistent(topo);
}

TEST(TopologySynthetic, ConvertsToJsonWithStableFieldNames) {
    const Topology topo = Topology::from_synthetic("pack:1 l2:1(size=1MiB) core:2 pu:2");
    const nlohmann::json j = topo;
    EXPECT_EQ(j.at("source"), "hwloc synthetic \"pack:1 l2:1(size=1MiB) core:2 pu:2\"");
    ASSERT_EQ(j.at("packages").size(), 1u);
    EXPECT_EQ(j.at("packages")[0].at("cpus"), "0-3");
    ASSERT_EQ(j.at("numa_nodes").size(), 1u);
    EXPECT_EQ(j.at("numa_nodes")[0].at("os_index"), 0);
    EXPECT_EQ(j.at("numa_nodes")[0].at("cpus"), "0-3");
    ASSERT_EQ(j.at("cores").size(), 2u);
    EXPECT_EQ(j.at("cores")[1].at("cpus"), "2-3");
    EXPECT_EQ(j.at("cores")[1].at("package"), 0);
    ASSERT_EQ(j.at("caches").size(), 1u);
    EXPECT_EQ(j.at("caches")[0].at("level"), 2);
    EXPECT_EQ(j.at("caches")[0].at("type"), "unified");
    EXPECT_EQ(j.at("caches")[0].at("size_bytes"), 1 << 20);
    EXPECT_EQ(j.at("caches")[0].at("cpus"), "0-3");
    ASSERT_EQ(j.at("cpus").size(), 4u);
    EXPECT_EQ(j.at("cpus")[3].at("cpu"), 3);
    EXPECT_EQ(j.at("cpus")[3].at("core"), 1);
    EXPECT_EQ(j.at("cpus")[3].at("numa_node"), 0);
    EXPECT_EQ(j.at("cpus")[3].at("smt_siblings"), "2-3");
}

TEST(TopologySynthetic, LookupsOfMissingCpusAndNodesThrow) {
    const Topology topo = Topology::from_synthetic("core:2 pu:2");
    EXPECT_FALSE(topo.has_cpu(4));
    EXPECT_TRUE(topo.has_cpu(3));
    EXPECT_NE(error_of([&] { topo.cpu(4); }).find("no CPU 4"), std::string::npos);
    EXPECT_NE(error_of([&] { topo.numa_node(7); }).find("no NUMA node 7"), std::string::npos);
}

// --- XML ------------------------------------------------------------------------

// core/tests/data/topology_2pkg_4numa_smt.xml was made with hwloc 2.9's
//   lstopo-no-graphics -i "pack:2 l3:2(size=16MiB) [numa(memory=4GiB)] core:4
//     l2:1(size=1MiB) l1d:1(size=48KiB) l1i:1(size=32KiB)
//     pu:2(indexes=0,16,1,17,2,18,...,15,31)" --of xml <file>
// (one line; the index list pairs k with k+16 for k = 0..15): two packages,
// each with two L3/NUMA domains of four SMT-2 cores, numbered like Linux on
// Intel (core k holds CPUs k and k+16). hwloc's XML reader accepts no
// comments, hence this note here.
TEST(TopologyXml, ReadsTheExportedMachine) {
    const std::string path = data_file("topology_2pkg_4numa_smt.xml");
    const Topology topo = Topology::from_xml_file(path);
    EXPECT_EQ(topo.source(), "hwloc XML file \"" + path + "\"");
    EXPECT_EQ(topo.packages().size(), 2u);
    EXPECT_EQ(topo.numa_nodes().size(), 4u);
    EXPECT_EQ(topo.cores().size(), 16u);
    EXPECT_EQ(topo.cpu_set(), CpuSet::parse_list("0-31"));
    expect_consistent(topo);

    EXPECT_EQ(topo.cpu(5).smt_siblings, (CpuSet{5, 21}));
    EXPECT_EQ(topo.cpu(21).numa_node, 1u);
    EXPECT_EQ(topo.cpu(21).package, 0u);
    EXPECT_EQ(topo.cpu(24).package, 1u);
    EXPECT_EQ(topo.numa_node(2).cpus, CpuSet::parse_list("8-11,24-27"));
    EXPECT_EQ(topo.numa_node(2).local_memory_bytes, 4ull << 30);
    EXPECT_EQ(topo.packages()[1].cpus, CpuSet::parse_list("8-15,24-31"));
}

TEST(TopologyXml, ReadsCachesOfEveryKind) {
    const Topology topo = Topology::from_xml_file(data_file("topology_2pkg_4numa_smt.xml"));
    EXPECT_EQ(count_caches(topo, "L3"), 4u);
    EXPECT_EQ(count_caches(topo, "L2"), 16u);
    EXPECT_EQ(count_caches(topo, "L1d"), 16u);
    EXPECT_EQ(count_caches(topo, "L1i"), 16u);

    const CacheInfo* l1i = cache_of(topo, "L1i", 21);
    ASSERT_NE(l1i, nullptr);
    EXPECT_EQ(l1i->type, CacheType::instruction);
    EXPECT_EQ(l1i->size_bytes, 32u << 10);
    EXPECT_EQ(l1i->line_bytes, 64u);
    EXPECT_EQ(l1i->cpus, (CpuSet{5, 21}));

    const CacheInfo* l1d = cache_of(topo, "L1d", 5);
    ASSERT_NE(l1d, nullptr);
    EXPECT_EQ(l1d->size_bytes, 48u << 10);

    const CacheInfo* l3 = cache_of(topo, "L3", 31);
    ASSERT_NE(l3, nullptr);
    EXPECT_EQ(l3->cpus, CpuSet::parse_list("12-15,28-31"));
}

// --- live system ------------------------------------------------------------------

std::string read_sysfs(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(TopologyLive, MatchesTheKernelsOwnTopologyFiles) {
    const Topology topo = Topology::from_system();
    EXPECT_EQ(topo.source(), "live system");
    ASSERT_FALSE(topo.cpus().empty());
    expect_consistent(topo);

    // hwloc leaves out CPUs outside this process's cpuset, so compare with
    // what the kernel says about the CPUs hwloc does list.
    const CpuSet online = CpuSet::parse_list(read_sysfs("/sys/devices/system/cpu/online"));
    EXPECT_TRUE(topo.cpu_set().is_subset_of(online));
    for (const CpuInfo& cpu : topo.cpus()) {
        const std::string dir =
            "/sys/devices/system/cpu/cpu" + std::to_string(cpu.os_index) + "/topology/";
        const CpuSet siblings = CpuSet::parse_list(read_sysfs(dir + "thread_siblings_list"));
        EXPECT_EQ(cpu.smt_siblings, siblings & topo.cpu_set()) << "CPU " << cpu.os_index;
        const CpuSet package_cpus =
            CpuSet::parse_list(read_sysfs(dir + "package_cpus_list")) & topo.cpu_set();
        EXPECT_EQ(topo.packages()[cpu.package].cpus, package_cpus) << "CPU " << cpu.os_index;
    }
}

// --- bad inputs ---------------------------------------------------------------------

TEST(TopologyErrors, MissingXmlFileIsNamed) {
    const std::string message =
        error_of([] { Topology::from_xml_file("/nonexistent/quietcore-topology.xml"); });
    EXPECT_NE(message.find("\"/nonexistent/quietcore-topology.xml\""), std::string::npos)
        << message;
    EXPECT_NE(message.find("No such file"), std::string::npos) << message;
}

TEST(TopologyErrors, XmlThatIsNotAnHwlocExportIsNamed) {
    // A file that exists but is no topology: the test's own source directory
    // holds one (meson.build).
    const std::string path = data_file("../meson.build");
    const std::string message = error_of([&] { Topology::from_xml_file(path); });
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("cannot load"), std::string::npos) << message;
}

TEST(TopologyErrors, BadSyntheticDescriptionsAreNamed) {
    for (const std::string bad : {"pack:2 bogus:3", "", "pack:x core:2", "core:2 pu:0"}) {
        const std::string message = error_of([&] { Topology::from_synthetic(bad); });
        EXPECT_NE(message.find("hwloc synthetic \"" + bad + "\""), std::string::npos)
            << "input \"" << bad << "\": " << message;
    }
}

}  // namespace
}  // namespace qc::core
