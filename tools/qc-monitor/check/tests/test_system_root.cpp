// SystemRoot: system paths mapped under a root, missing vs unreadable, sorted
// listings, and the recorder told about every read, listing and exists().
#include <gtest/gtest.h>

#include <vector>

#include "check/system_root.hpp"
#include "quietcore/core/error.hpp"
#include "temp_tree.hpp"

namespace qc::monitor {
namespace {

using testing::TempTree;

struct LogRecorder : ReadRecorder {
    std::vector<std::string> log;
    void file_read(std::string_view path, std::string_view text) override {
        log.push_back("read " + std::string(path) + "=" + std::string(text));
    }
    void directory_listed(std::string_view path) override {
        log.push_back("list " + std::string(path));
    }
};

TEST(SystemRoot, MapsSystemPathsUnderTheRoot) {
    EXPECT_TRUE(SystemRoot().is_live());
    EXPECT_TRUE(SystemRoot("/").is_live());
    EXPECT_EQ(SystemRoot("/").host_path("/proc/cmdline"), "/proc/cmdline");
    const SystemRoot snap("/tmp/snap///");
    EXPECT_FALSE(snap.is_live());
    EXPECT_EQ(snap.root(), "/tmp/snap");
    EXPECT_EQ(snap.host_path("/proc/cmdline"), "/tmp/snap/proc/cmdline");
}

TEST(SystemRoot, ReadsFilesAndTellsMissingFromUnreadable) {
    TempTree tree;
    tree.write("proc/cmdline", "quiet nohz_full=2\n");
    const SystemRoot sys(tree.path());
    EXPECT_EQ(sys.read("/proc/cmdline"), "quiet nohz_full=2\n");
    EXPECT_EQ(sys.read("/proc/nope"), std::nullopt);
    try {
        (void)sys.read("/proc");  // a directory
        FAIL() << "reading a directory must throw";
    } catch (const core::Error& e) {
        EXPECT_NE(std::string(e.what()).find("/proc"), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).find(tree.path()), std::string::npos)
            << "names the system path, not the host path: " << e.what();
    }
}

TEST(SystemRoot, ListsSortedAndMissingAsEmpty) {
    TempTree tree;
    tree.write("proc/irq/24/smp_affinity_list", "0\n");
    tree.write("proc/irq/3/smp_affinity_list", "0\n");
    tree.write("proc/irq/default_smp_affinity", "3\n");
    const SystemRoot sys(tree.path());
    EXPECT_EQ(sys.list("/proc/irq"), (std::vector<std::string>{"24", "3", "default_smp_affinity"}));
    EXPECT_TRUE(sys.list("/proc/nope").empty());
    EXPECT_TRUE(sys.list("/proc/irq/default_smp_affinity").empty());  // a file
    EXPECT_TRUE(sys.exists("/proc/irq/24"));
    EXPECT_TRUE(sys.exists("/proc/irq/default_smp_affinity"));
    EXPECT_FALSE(sys.exists("/proc/irq/99"));
}

TEST(SystemRoot, RecorderHearsReadsListingsAndExists) {
    TempTree tree;
    tree.write("proc/cmdline", "quiet\n");
    tree.write("sys/kernel/mm/ksm/run", "0\n");
    SystemRoot sys(tree.path());
    LogRecorder recorder;
    sys.set_recorder(&recorder);
    (void)sys.read("/proc/cmdline");
    (void)sys.read("/proc/missing");  // nothing to record
    (void)sys.list("/sys/kernel/mm");
    (void)sys.exists("/sys/kernel/mm/ksm");
    (void)sys.exists("/sys/kernel/mm/ksm/run");
    (void)sys.exists("/sys/kernel/mm/nothing");
    (void)sys.list("/sys/nothing");  // missing: nothing to record
    sys.set_recorder(nullptr);
    (void)sys.read("/proc/cmdline");
    EXPECT_EQ(recorder.log, (std::vector<std::string>{
                                "read /proc/cmdline=quiet\n", "list /sys/kernel/mm",
                                "list /sys/kernel/mm/ksm", "read /sys/kernel/mm/ksm/run=0\n"}));
}

}  // namespace
}  // namespace qc::monitor
