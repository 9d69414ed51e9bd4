// EAL argument building and the platform probe (suite unit, no EAL): the
// embedded default, PCI vs vdev ports, errors naming their input, a fake
// /proc + /sys tree.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "quietcore/core/error.hpp"
#include "quietcore/dataplane/eal_session.hpp"
#include "quietcore/dataplane/platform_probe.hpp"

namespace qc::dataplane {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string joined(const std::vector<std::string>& args) {
    std::string out;
    for (const std::string& a : args) {
        out += (out.empty() ? "" : " ") + a;
    }
    return out;
}

template <typename F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const core::Error& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(PciAddress, Recognised) {
    EXPECT_TRUE(is_pci_address("0000:01:00.0"));
    EXPECT_TRUE(is_pci_address("01:00.7"));
    EXPECT_TRUE(is_pci_address("abcd:ef:1f.3"));
    EXPECT_FALSE(is_pci_address("01:00.8"));
    EXPECT_FALSE(is_pci_address("net_null0"));
    EXPECT_FALSE(is_pci_address("000:01:00.0"));
    EXPECT_FALSE(is_pci_address("0000:01:00"));
    EXPECT_FALSE(is_pci_address(""));
}

TEST(PortName, OfSpecs) {
    EXPECT_EQ(port_name_of("net_null0"), "net_null0");
    EXPECT_EQ(port_name_of("net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap"), "net_pcap0");
    EXPECT_EQ(port_name_of("01:00.0"), "0000:01:00.0");
    EXPECT_EQ(port_name_of("0000:02:00.1"), "0000:02:00.1");
    EXPECT_THAT(error_of([] { port_name_of(",iface=a"); }), HasSubstr("\",iface=a\""));
    EXPECT_THAT(error_of([] { port_name_of("net tap0"); }), HasSubstr("bad token \"net tap0\""));
    EXPECT_THAT(error_of([] { port_name_of(""); }), HasSubstr("port spec"));
}

TEST(EalArgs, EmbeddedDefault) {
    EalOptions o;
    o.ports = {"net_null0", "net_null1"};
    o.worker_cpus = {1};
    o.file_prefix = "qc-test";
    const auto args = build_eal_args(o, PlatformFacts{}, core::CpuSet{0, 1});
    EXPECT_EQ(joined(args),
              "quietcore -l 0,1 --main-lcore 0 --file-prefix=qc-test --no-huge -m 512 "
              "--no-shconf --no-pci --vdev net_null0 --vdev net_null1");
}

TEST(EalArgs, HugepagesAndPciNic) {
    EalOptions o;
    o.ports = {"0000:01:00.0", "net_tap0,iface=qcA"};
    o.worker_cpus = {2, 3};
    o.extra_args = {"--log-level=8"};
    PlatformFacts p;
    p.hugepages_free = 512;
    p.bound_nics = {"0000:01:00.0"};
    const auto args = build_eal_args(o, p, core::CpuSet::parse_list("0-3"));
    EXPECT_EQ(joined(args),
              "quietcore -l 0,2,3 --main-lcore 0 --file-prefix=qc-fwd -a 0000:01:00.0 --vdev "
              "net_tap0,iface=qcA --log-level=8");
}

TEST(EalArgs, MainLcoreIsFirstNonWorker) {
    EalOptions o;
    o.worker_cpus = {0, 2};
    const auto args = build_eal_args(o, PlatformFacts{}, core::CpuSet::parse_list("0-3"));
    EXPECT_THAT(joined(args), HasSubstr("-l 0,1,2 --main-lcore 1 "));
}

TEST(EalArgs, ExtraArgsReplaceDefaults) {
    EalOptions o;
    o.worker_cpus = {1};
    o.extra_args = {"-m", "1024", "-a", "0000:03:00.0"};
    const auto args = build_eal_args(o, PlatformFacts{}, core::CpuSet{0, 1});
    EXPECT_EQ(joined(args),
              "quietcore -l 0,1 --main-lcore 0 --file-prefix=qc-fwd --no-huge --no-shconf -m "
              "1024 -a 0000:03:00.0");
}

TEST(EalArgs, ErrorsNameTheInput) {
    EalOptions o;
    o.worker_cpus = {5};
    EXPECT_THAT(error_of([&] {
                    build_eal_args(o, {}, core::CpuSet{0, 1});
                }),
                HasSubstr("worker CPU 5 is not online (online CPUs: 0-1)"));
    o.worker_cpus = {0, 1};
    EXPECT_THAT(error_of([&] {
                    build_eal_args(o, {}, core::CpuSet{0, 1});
                }),
                HasSubstr("worker CPUs 0,1 take every online CPU"));
    o.worker_cpus = {1, 1};
    EXPECT_THAT(error_of([&] {
                    build_eal_args(o, {}, core::CpuSet{0, 1, 2});
                }),
                HasSubstr("worker CPU 1 is listed twice"));
    o.worker_cpus = {};
    EXPECT_THAT(error_of([&] {
                    build_eal_args(o, {}, core::CpuSet{0, 1});
                }),
                HasSubstr("no worker CPU"));
    o.worker_cpus = {1};
    o.ports = {"net_null0", "bad port"};
    EXPECT_THAT(error_of([&] {
                    build_eal_args(o, {}, core::CpuSet{0, 1});
                }),
                HasSubstr("\"bad port\""));
}

struct FakeTree : ::testing::Test {
    std::filesystem::path root =
        std::filesystem::temp_directory_path() / ("qc-probe-" + std::to_string(::getpid()));
    void SetUp() override { std::filesystem::create_directories(root); }
    void TearDown() override { std::filesystem::remove_all(root); }
    void write(const std::string& rel, const std::string& text = "") {
        std::filesystem::create_directories((root / rel).parent_path());
        std::ofstream(root / rel) << text;
    }
};

TEST_F(FakeTree, NothingThere) {
    const PlatformFacts f = probe_platform(root);
    EXPECT_EQ(f.hugepages_free, 0U);
    EXPECT_TRUE(f.bound_nics.empty());
    EXPECT_FALSE(f.has_hugepages());
    EXPECT_FALSE(f.has_bound_nic());
}

TEST_F(FakeTree, HugepagesAndBoundDevices) {
    write("proc/meminfo",
          "MemTotal:       24000000 kB\nHugePages_Total:     128\nHugePages_Free:      120\n"
          "Hugepagesize:       2048 kB\n");
    write("sys/bus/pci/drivers/vfio-pci/0000:01:00.0");
    write("sys/bus/pci/drivers/vfio-pci/bind");
    write("sys/bus/pci/drivers/vfio-pci/new_id");
    write("sys/bus/pci/drivers/igb_uio/0000:00:1f.6");
    write("sys/bus/pci/drivers/e1000e/0000:00:19.0");  // a kernel driver: not for DPDK
    const PlatformFacts f = probe_platform(root);
    EXPECT_EQ(f.hugepages_free, 120U);
    EXPECT_THAT(f.bound_nics, ElementsAre("0000:00:1f.6", "0000:01:00.0"));
}

TEST(Meminfo, Parse) {
    EXPECT_EQ(parse_hugepages_free("HugePages_Free:   7\n"), 7U);
    EXPECT_EQ(parse_hugepages_free("HugePages_Total: 7\n"), 0U);
    EXPECT_EQ(parse_hugepages_free("HugePages_Free: x\n"), 0U);
    EXPECT_EQ(parse_hugepages_free(""), 0U);
}

}  // namespace
}  // namespace qc::dataplane
