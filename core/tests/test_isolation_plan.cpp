// Isolation plan: reading the kernel's CPU sets from a sysfs tree, and the
// worker / housekeeping choice on synthetic machines with fake sysfs trees.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>

#include "quietcore/core/cpu_set.hpp"
#include "quietcore/core/error.hpp"
#include "quietcore/core/isolation_plan.hpp"
#include "quietcore/core/topology.hpp"

namespace qc::core {

void PrintTo(const CpuSet& s, std::ostream* os) {
    *os << "{" << s.to_list() << "}";
}

namespace {

namespace fs = std::filesystem;

// 2 packages x 2 NUMA nodes x 4 cores x 2 PUs; core k holds CPUs 2k and
// 2k+1, NUMA node n holds CPUs 8n..8n+7.
const char* const kTwoSocketSmt = "pack:2 numa:2 core:4 pu:2";
// One package, 8 cores, numbered like Linux on Intel: core k holds k, k+8.
const char* const kLinuxNumbered =
    "pack:1 core:8 pu:2(indexes=0,8,1,9,2,10,3,11,4,12,5,13,6,14,7,15)";

CpuSet cpus(const char* list) {
    return CpuSet::parse_list(list);
}

// A throw-away <root>/devices/system/cpu with the files the plan reads.
class FakeSysfs {
  public:
    FakeSysfs() {
        std::string pattern = (fs::temp_directory_path() / "qc-sysfs-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("mkdtemp failed");
        }
        root_ = pattern;
        fs::create_directories(cpu_dir());
    }
    ~FakeSysfs() {
        std::error_code ignored;
        fs::remove_all(root_, ignored);
    }
    FakeSysfs(const FakeSysfs&) = delete;
    FakeSysfs& operator=(const FakeSysfs&) = delete;

    // Writes the files as the kernel does (cpulist + newline); nohz_full is
    // left out when nullopt, like on a kernel built without NO_HZ_FULL.
    FakeSysfs& cpu_files(const std::string& possible, const std::string& online,
                         const std::string& isolated, const std::optional<std::string>& nohz_full) {
        write("possible", possible + "\n");
        write("online", online + "\n");
        write("isolated", isolated + "\n");
        if (nohz_full) {
            write("nohz_full", *nohz_full);
        }
        return *this;
    }

    void write(const std::string& name, const std::string& text) {
        std::ofstream(cpu_dir() / name) << text;
    }
    void remove(const std::string& name) { fs::remove(cpu_dir() / name); }

    std::string root() const { return root_.string(); }
    KernelCpuSets read() const { return KernelCpuSets::read(root()); }

  private:
    fs::path cpu_dir() const { return root_ / "devices/system/cpu"; }
    fs::path root_;
};

std::vector<const Finding*> findings_of(const IsolationPlan& plan, FindingKind kind) {
    std::vector<const Finding*> out;
    for (const Finding& f : plan.findings) {
        if (f.kind == kind) {
            out.push_back(&f);
        }
    }
    return out;
}

// The one finding of that kind; fails the test when there is not exactly one.
Finding the_finding(const IsolationPlan& plan, FindingKind kind) {
    const auto found = findings_of(plan, kind);
    EXPECT_EQ(found.size(), 1u) << "findings of kind " << to_string(kind);
    return found.empty() ? Finding{} : *found.front();
}

bool has_finding(const IsolationPlan& plan, FindingKind kind, Severity severity,
                 const CpuSet& concerned) {
    for (const Finding* f : findings_of(plan, kind)) {
        if (f->severity == severity && f->cpus == concerned) {
            return true;
        }
    }
    return false;
}

std::string all_findings(const IsolationPlan& plan) {
    std::string text;
    for (const Finding& f : plan.findings) {
        text += std::string(to_string(f.severity)) + " " + std::string(to_string(f.kind)) + " {" +
                f.cpus.to_list() + "}: " + f.message + "\n";
    }
    return text;
}

// The rules every plan must keep, whatever its inputs.
void expect_rules_hold(const Topology& topo, const KernelCpuSets& kernel,
                       const IsolationPlan& plan) {
    SCOPED_TRACE(all_findings(plan));
    const CpuSet usable = topo.cpu_set() & kernel.online;
    EXPECT_EQ(plan.workers | plan.housekeeping | plan.idle, usable);
    EXPECT_FALSE(plan.workers.intersects(plan.housekeeping));
    EXPECT_FALSE(plan.workers.intersects(plan.idle));
    EXPECT_FALSE(plan.idle.intersects(plan.housekeeping));
    EXPECT_EQ(plan.offline, topo.cpu_set() - kernel.online);
    EXPECT_FALSE(plan.housekeeping.empty());
    for (unsigned w : plan.workers.cpus()) {
        const CpuSet siblings = topo.cpu(w).smt_siblings;
        EXPECT_FALSE(siblings.intersects(plan.housekeeping)) << "worker " << w;
        EXPECT_EQ((siblings & plan.workers).count(), 1u) << "worker " << w;
        EXPECT_TRUE(plan.housekeeping.intersects(topo.numa_node(topo.cpu(w).numa_node).cpus))
            << "worker " << w << " has no housekeeping CPU on its NUMA node";
    }
    for (const Finding& f : plan.findings) {
        EXPECT_FALSE(f.message.empty());
        EXPECT_EQ(f.message.back(), '.') << f.message;
    }
}

struct Scenario {
    Topology topo;
    KernelCpuSets kernel;
    IsolationPlan plan;
};

Scenario plan_for(const std::string& synthetic, FakeSysfs& sysfs,
                  const std::optional<CpuSet>& requested = std::nullopt) {
    Topology topo = Topology::from_synthetic(synthetic);
    KernelCpuSets kernel = sysfs.read();
    IsolationPlan plan = plan_isolation(topo, kernel, requested);
    expect_rules_hold(topo, kernel, plan);
    return {std::move(topo), std::move(kernel), std::move(plan)};
}

// --- reading sysfs ----------------------------------------------------------------

TEST(KernelCpuSets, ReadsTheCpuFiles) {
    FakeSysfs sysfs;
    sysfs.cpu_files("0-7", "0-6", "2-3", "2-5\n");
    const KernelCpuSets k = sysfs.read();
    EXPECT_EQ(k.sysfs_root, sysfs.root());
    EXPECT_EQ(k.possible, cpus("0-7"));
    EXPECT_EQ(k.online, cpus("0-6"));
    EXPECT_EQ(k.isolated, cpus("2-3"));
    EXPECT_EQ(k.nohz_full, cpus("2-5"));
    EXPECT_EQ(k.nohz_full_state, NohzFullState::on);
    EXPECT_EQ(k.kernel_isolated(), cpus("2-5"));
}

TEST(KernelCpuSets, NohzFullAbsentNullOrEmptyMeansNoTicklessCpu) {
    FakeSysfs sysfs;
    sysfs.cpu_files("0-1", "0-1", "", std::nullopt);
    EXPECT_EQ(sysfs.read().nohz_full_state, NohzFullState::unsupported);
    EXPECT_TRUE(sysfs.read().nohz_full.empty());
    EXPECT_TRUE(sysfs.read().isolated.empty());

    sysfs.write("nohz_full", "(null)\n");
    EXPECT_EQ(sysfs.read().nohz_full_state, NohzFullState::off);
    EXPECT_TRUE(sysfs.read().nohz_full.empty());

    sysfs.write("nohz_full", "\n");
    EXPECT_EQ(sysfs.read().nohz_full_state, NohzFullState::off);
}

std::string read_error(const FakeSysfs& sysfs) {
    try {
        sysfs.read();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(KernelCpuSets, MissingRequiredFileIsNamed) {
    FakeSysfs sysfs;
    sysfs.cpu_files("0-1", "0-1", "", std::nullopt);
    sysfs.remove("online");
    const std::string message = read_error(sysfs);
    EXPECT_NE(message.find(sysfs.root() + "/devices/system/cpu/online"), std::string::npos)
        << message;
}

TEST(KernelCpuSets, MalformedFilesNameFileAndToken) {
    FakeSysfs sysfs;
    sysfs.cpu_files("0-1", "0-1", "1-x", std::nullopt);
    std::string message = read_error(sysfs);
    EXPECT_NE(message.find("/devices/system/cpu/isolated"), std::string::npos) << message;
    EXPECT_NE(message.find("1-x"), std::string::npos) << message;

    sysfs.cpu_files("0-1", "0-1", "", "garbage\n");
    message = read_error(sysfs);
    EXPECT_NE(message.find("/devices/system/cpu/nohz_full"), std::string::npos) << message;
    EXPECT_NE(message.find("garbage"), std::string::npos) << message;
}

// --- no kernel isolation: the soft plan --------------------------------------------

TEST(IsolationPlan, SoftPlanKeepsFirstCoreOfEachNumaNode) {
    FakeSysfs sysfs;
    sysfs.cpu_files("0-31", "0-31", "", std::nullopt);
    const auto [topo, kernel, plan] = plan_for(kTwoSocketSmt, sysfs);
    EXPECT_EQ(plan.candidate_source, CandidateSource::soft);
    EXPECT_EQ(plan.housekeeping, cpus("0-1,8-9,16-17,24-25"));
    EXPECT_EQ(plan.workers, cpus("2,4,6,10,12,14,18,20,22,26,28,30"));
    EXPECT_EQ(plan.idle, cpus("3,5,7,11,13,15,19,21,23,27,29,31"));
    EXPECT_EQ(plan.candidates, cpus("2-7,10-15,18-23,26-31"));

    const Finding soft = the_finding(plan, FindingKind::soft_isolation_only);
    EXPECT_EQ(soft.severity, Severity::warning);
    EXPECT_NE(soft.message.find("only soft isolation is possible"), std::string::npos);
    EXPECT_TRUE(has_finding(plan, FindingKind::soft_housekeeping_reserved, Severity::info,
                            cpus("0-1,8-9,16-17,24-25")));
    EXPECT_TRUE(has_finding(plan, FindingKind::nohz_full_unsupported, Severity::info, {}));
    EXPECT_TRUE(has_finding(plan, FindingKind::worker_chosen, Severity::info, CpuSet{10}));
    EXPECT_TRUE(has_finding(plan, FindingKind::sibling_kept_idle, Severity::info, CpuSet{11}));
    EXPECT_EQ(findings_of(plan, FindingKind::worker_chosen).size(), 12u);
    EXPECT_EQ(plan.role(0), CpuRole::housekeeping);
    EXPECT_EQ(plan.role(2), CpuRole::worker);
    EXPECT_EQ(plan.role(3), CpuRole::idle_sibling);
}

TEST(IsolationPlan, SoftPlanOnTwoCpusWithoutSmtLikeThisMachine) {
    FakeSysfs sysfs;
    sysfs.cpu_files("0-1", "0-1", "", "(null)\n");
    const auto [topo, kernel, plan] = plan_for("pack:1 core:2 pu:1", sysfs);
    EXPECT_EQ(plan.candidate_source, CandidateSource::soft);
    EXPECT_EQ(plan.housekeeping, CpuSet{0});
    EXPECT_EQ(plan.workers, CpuSet{1});
    EXPECT_TRUE(plan.idle.empty());
    EXPECT_TRUE(has_finding(plan, FindingKind::soft_isolation_only, Severity::warning, {}));
    EXPECT_TRUE(has_finding(plan, FindingKind::nohz_full_off, Severity::info, {}));
    EXPECT_TRUE(findings_of(plan, FindingKind::sibling_kept_idle).empty());
}

TEST(IsolationPlan, SoftPlanOnOneCpuHasNoWorker) {
    FakeSysfs sysfs;
    sysfs.cpu_files("0", "0", "", std::nullopt);
    const auto [topo, kernel, plan] = plan_for("pack:1 core:1 pu:1", sysfs);
    EXPECT_EQ(plan.housekeeping, CpuSet{0});
    EXPECT_TRUE(plan.workers.empty());
    EXPECT_TRUE(has_finding(plan, FindingKind::no_workers, Severity::warning, {}));
}

// --- candidates from the kernel -------------------------------------------------------

TEST(IsolationPlan, KernelIsolatedCpuWhoseSiblingIsNotIsolatedDoesHousekeeping) {
    FakeSysfs sysfs;
    // Core 2 = {2,10} fully isolated; core 3 = {3,11} only half.
    sysfs.cpu_files("0-15", "0-15", "2-3,10", "2-3,10\n");
    const auto [topo, kernel, plan] = plan_for(kLinuxNumbered, sysfs);
    EXPECT_EQ(plan.candidate_source, CandidateSource::kernel);
    EXPECT_EQ(plan.candidates, cpus("2-3,10"));
    EXPECT_EQ(plan.workers, CpuSet{2});
    EXPECT_EQ(plan.idle, CpuSet{10});
    EXPECT_EQ(plan.housekeeping, cpus("0-1,3-9,11-15"));

    const Finding split = the_finding(plan, FindingKind::sibling_is_housekeeping);
    EXPECT_EQ(split.severity, Severity::warning);
    EXPECT_EQ(split.cpus, CpuSet{3});
    EXPECT_NE(split.message.find("CPU 11"), std::string::npos) << split.message;
    EXPECT_TRUE(
        has_finding(plan, FindingKind::kernel_isolated_housekeeping, Severity::warning, CpuSet{3}));
    EXPECT_TRUE(
        has_finding(plan, FindingKind::candidates_from_kernel, Severity::info, cpus("2-3,10")));
    EXPECT_TRUE(has_finding(plan, FindingKind::sibling_kept_idle, Severity::info, CpuSet{10}));
    EXPECT_TRUE(findings_of(plan, FindingKind::soft_isolation_only).empty());
}

TEST(IsolationPlan, NumaNodeWithOnlyIsolatedCpusGetsACoreBack) {
    FakeSysfs sysfs;
    // All of NUMA node 1 (8-15) and half of node 0 are isolated.
    sysfs.cpu_files("0-31", "0-31", "4-15", "4-15\n");
    const auto [topo, kernel, plan] = plan_for(kTwoSocketSmt, sysfs);
    EXPECT_EQ(plan.workers, cpus("4,6,10,12,14"));
    EXPECT_EQ(plan.idle, cpus("5,7,11,13,15"));
    EXPECT_EQ(plan.housekeeping, cpus("0-3,8-9,16-31"));

    const Finding restored = the_finding(plan, FindingKind::numa_node_housekeeping_restored);
    EXPECT_EQ(restored.severity, Severity::warning);
    EXPECT_EQ(restored.cpus, cpus("8-9"));
    EXPECT_NE(restored.message.find("NUMA node 1"), std::string::npos) << restored.message;
    EXPECT_TRUE(has_finding(plan, FindingKind::kernel_isolated_housekeeping, Severity::warning,
                            cpus("8-9")));
}

TEST(IsolationPlan, NohzFullWithoutIsolcpusIsNamed) {
    FakeSysfs sysfs;
    // nohz_full= covers NUMA node 2 (16-23) but isolcpus= is not given.
    sysfs.cpu_files("0-31", "0-31", "", "16-23\n");
    const auto [topo, kernel, plan] = plan_for(kTwoSocketSmt, sysfs);
    EXPECT_EQ(plan.candidate_source, CandidateSource::kernel);
    EXPECT_TRUE(has_finding(plan, FindingKind::nohz_full_without_isolcpus, Severity::warning,
                            cpus("16-23")));
    EXPECT_TRUE(findings_of(plan, FindingKind::isolcpus_without_nohz_full).empty());
    // The whole node is a candidate, so its first core goes back.
    EXPECT_TRUE(has_finding(plan, FindingKind::numa_node_housekeeping_restored, Severity::warning,
                            cpus("16-17")));
    EXPECT_EQ(plan.workers, cpus("18,20,22"));
    EXPECT_EQ(plan.idle, cpus("19,21,23"));
    EXPECT_EQ(plan.housekeeping, cpus("0-17,24-31"));
}

TEST(IsolationPlan, IsolcpusWithoutNohzFullIsNamed) {
    FakeSysfs sysfs;
    sysfs.cpu_files("0-31", "0-31", "2-7", "(null)\n");
    const auto [topo, kernel, plan] = plan_for(kTwoSocketSmt, sysfs);
    EXPECT_EQ(plan.candidate_source, CandidateSource::kernel);
    EXPECT_TRUE(
        has_finding(plan, FindingKind::isolcpus_without_nohz_full, Severity::warning, cpus("2-7")));
    EXPECT_TRUE(has_finding(plan, FindingKind::nohz_full_off, Severity::info, {}));
    EXPECT_EQ(plan.workers, cpus("2,4,6"));
    EXPECT_EQ(plan.idle, cpus("3,5,7"));
    EXPECT_EQ(plan.housekeeping, cpus("0-1,8-31"));
    EXPECT_TRUE(findings_of(plan, FindingKind::kernel_isolated_housekeeping).empty());
}

TEST(IsolationPlan, XmlMachineWithLinuxNumberingAndTwoNodes) {
    // The XML machine: core k holds CPUs k and k+16; NUMA node 0 holds
    // cores 0-3 (CPUs 0-3,16-19), node 1 cores 4-7 (CPUs 4-7,20-23).
    const char* dir = std::getenv("QC_TEST_DATA");
    ASSERT_NE(dir, nullptr) << "QC_TEST_DATA is not set";
    const Topology topo =
        Topology::from_xml_file(std::string(dir) + "/topology_2pkg_4numa_smt.xml");
    FakeSysfs sysfs;
    sysfs.cpu_files("0-31", "0-31", "2-7,18-23", "2-7,18-23\n");
    const KernelCpuSets kernel = sysfs.read();
    const IsolationPlan plan = plan_isolation(topo, kernel);
    expect_rules_hold(topo, kernel, plan);
    EXPECT_EQ(plan.workers, cpus("2-3,5-7"));
    EXPECT_EQ(plan.idle, cpus("18-19,21-23"));
    EXPECT_EQ(plan.housekeeping, cpus("0-1,4,8-17,20,24-31"));
    EXPECT_TRUE(has_finding(plan, FindingKind::numa_node_housekeeping_restored, Severity::warning,
                            cpus("4,20")));
}

// --- candidates from the user --------------------------------------------------------

TEST(IsolationPlan, UserRequestSplittingSiblingsIsAViolation) {
    FakeSysfs sysfs;
    sysfs.cpu_files("0-15", "0-15", "", std::nullopt);
    // Core 1 = {1,9} fully requested; core 2 = {2,10} only CPU 2.
    const auto [topo, kernel, plan] = plan_for(kLinuxNumbered, sysfs, cpus("1-2,9"));
    EXPECT_EQ(plan.candidate_source, CandidateSource::user);
    EXPECT_EQ(plan.workers, CpuSet{1});
    EXPECT_EQ(plan.idle, CpuSet{9});
    EXPECT_EQ(plan.housekeeping, cpus("0,2-8,10-15"));
    const Finding split = the_finding(plan, FindingKind::sibling_is_housekeeping);
    EXPECT_EQ(split.severity, Severity::violation);
    EXPECT_EQ(split.cpus, CpuSet{2});
    EXPECT_NE(split.message.find("requested"), std::string::npos) << split.message;
    EXPECT_TRUE(has_finding(plan, FindingKind::soft_isolation_only, Severity::warning, {}));
    EXPECT_TRUE(
        has_finding(plan, FindingKind::candidates_from_user, Severity::info, cpus("1-2,9")));
}

TEST(IsolationPlan, UserRequestWithOfflineAndMissingCpus) {
    FakeSysfs sysfs;
    // CPUs 30 and 31 (core 15) are offline; CPU 40 does not exist.
    sysfs.cpu_files("0-31", "0-29", "", std::nullopt);
    const auto [topo, kernel, plan] = plan_for(kTwoSocketSmt, sysfs, cpus("4-7,30-31,40"));
    EXPECT_EQ(plan.workers, cpus("4,6"));
    EXPECT_EQ(plan.idle, cpus("5,7"));
    EXPECT_EQ(plan.housekeeping, cpus("0-3,8-29"));
    EXPECT_EQ(plan.offline, cpus("30-31"));
    EXPECT_EQ(plan.role(31), CpuRole::offline);
    EXPECT_TRUE(
        has_finding(plan, FindingKind::candidate_offline, Severity::violation, cpus("30-31")));
    EXPECT_TRUE(
        has_finding(plan, FindingKind::candidate_not_present, Severity::violation, CpuSet{40}));
    EXPECT_TRUE(has_finding(plan, FindingKind::offline_in_topology, Severity::info, cpus("30-31")));
}

TEST(IsolationPlan, OfflineSiblingDoesNotBlockAWorker) {
    FakeSysfs sysfs;
    sysfs.cpu_files("0-31", "0-30", "", std::nullopt);
    const auto [topo, kernel, plan] = plan_for(kTwoSocketSmt, sysfs, CpuSet{30});
    EXPECT_EQ(plan.workers, CpuSet{30});
    EXPECT_TRUE(plan.idle.empty());
    EXPECT_TRUE(findings_of(plan, FindingKind::sibling_is_housekeeping).empty());
}

TEST(IsolationPlan, UserRequestCoveringAWholeNodeIsCutBackAsAViolation) {
    FakeSysfs sysfs;
    sysfs.cpu_files("0-1", "0-1", "", std::nullopt);
    const auto [topo, kernel, plan] = plan_for("pack:1 core:2 pu:1", sysfs, cpus("0-1"));
    EXPECT_EQ(plan.workers, CpuSet{1});
    EXPECT_EQ(plan.housekeeping, CpuSet{0});
    EXPECT_TRUE(has_finding(plan, FindingKind::numa_node_housekeeping_restored, Severity::violation,
                            CpuSet{0}));
}

TEST(IsolationPlan, UserWorkersOutsideKernelIsolationAreNamed) {
    FakeSysfs sysfs;
    sysfs.cpu_files("0-31", "0-31", "4-7", "4-7\n");
    const auto [topo, kernel, plan] = plan_for(kTwoSocketSmt, sysfs, cpus("4-5,12-13"));
    EXPECT_EQ(plan.workers, cpus("4,12"));
    EXPECT_EQ(plan.idle, cpus("5,13"));
    EXPECT_TRUE(
        has_finding(plan, FindingKind::worker_not_kernel_isolated, Severity::warning, CpuSet{12}));
    EXPECT_TRUE(
        has_finding(plan, FindingKind::worker_not_nohz_full, Severity::warning, CpuSet{12}));
    EXPECT_TRUE(has_finding(plan, FindingKind::kernel_isolated_housekeeping, Severity::warning,
                            cpus("6-7")));
    EXPECT_TRUE(findings_of(plan, FindingKind::soft_isolation_only).empty());
}

// --- topology and sysfs disagreeing ---------------------------------------------------

TEST(IsolationPlan, OnlineCpusMissingFromTopologyAreNamed) {
    FakeSysfs sysfs;
    sysfs.cpu_files("0-33", "0-33", "", std::nullopt);
    const auto [topo, kernel, plan] = plan_for(kTwoSocketSmt, sysfs, cpus("2-3,32"));
    EXPECT_TRUE(
        has_finding(plan, FindingKind::online_outside_topology, Severity::warning, cpus("32-33")));
    EXPECT_TRUE(
        has_finding(plan, FindingKind::candidate_not_present, Severity::violation, CpuSet{32}));
    EXPECT_EQ(plan.workers, CpuSet{2});
}

TEST(IsolationPlan, NoOnlineCpuOfTheTopologyIsAnError) {
    FakeSysfs sysfs;
    sysfs.cpu_files("0-63", "40-41", "", std::nullopt);
    const Topology topo = Topology::from_synthetic(kTwoSocketSmt);
    const KernelCpuSets kernel = sysfs.read();
    try {
        plan_isolation(topo, kernel);
        FAIL() << "expected an Error";
    } catch (const Error& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find(kTwoSocketSmt), std::string::npos) << message;
        EXPECT_NE(message.find("40-41"), std::string::npos) << message;
    }
}

// --- JSON -----------------------------------------------------------------------------

TEST(IsolationPlanJson, HasStableFieldNames) {
    FakeSysfs sysfs;
    sysfs.cpu_files("0-3", "0-3", "2-3", "(null)\n");
    const auto [topo, kernel, plan] = plan_for("pack:1 core:2 pu:2", sysfs);
    const nlohmann::json k = kernel;
    EXPECT_EQ(k.at("sysfs_root"), sysfs.root());
    EXPECT_EQ(k.at("possible"), "0-3");
    EXPECT_EQ(k.at("online"), "0-3");
    EXPECT_EQ(k.at("isolated"), "2-3");
    EXPECT_EQ(k.at("nohz_full"), "");
    EXPECT_EQ(k.at("nohz_full_state"), "off");

    const nlohmann::json p = plan;
    EXPECT_EQ(p.at("candidate_source"), "kernel");
    EXPECT_EQ(p.at("candidates"), "2-3");
    EXPECT_EQ(p.at("workers"), "2");
    EXPECT_EQ(p.at("idle"), "3");
    EXPECT_EQ(p.at("housekeeping"), "0-1");
    EXPECT_EQ(p.at("offline"), "");
    ASSERT_EQ(p.at("findings").size(), plan.findings.size());
    bool saw_isolcpus_warning = false;
    for (const auto& f : p.at("findings")) {
        EXPECT_FALSE(f.at("message").get<std::string>().empty());
        if (f.at("kind") == "isolcpus-without-nohz-full") {
            EXPECT_EQ(f.at("severity"), "warning");
            EXPECT_EQ(f.at("cpus"), "2-3");
            saw_isolcpus_warning = true;
        }
    }
    EXPECT_TRUE(saw_isolcpus_warning);
}

}  // namespace
}  // namespace qc::core
