#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "emulated.hpp"
#include "quietcore/core/numa_memory.hpp"
#include "quietcore/isolation/capabilities.hpp"
#include "quietcore/isolation/kernel_backend.hpp"

namespace qc::isolation {
namespace {

// qemu-user does not implement the seccomp syscall (ENOSYS): the probe rightly
// finds no user notification while the host kernel's actions_avail lists it.
constexpr const char* kNoSeccomp =
    "qemu-user has no seccomp syscall, while the host kernel's files describe seccomp";

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Linux release "6.18.44-..." as major * 1000 + minor.
int kernel_version() {
    struct utsname u {};
    uname(&u);
    int major = 0, minor = 0;
    std::sscanf(u.release, "%d.%d", &major, &minor);
    return major * 1000 + minor;
}

TEST(Capabilities, SeccompUserNotificationMatchesActionsAvail) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    const std::string avail = read_file("/proc/sys/kernel/seccomp/actions_avail");
    if (avail.empty()) {
        GTEST_SKIP() << "/proc/sys/kernel/seccomp/actions_avail is not readable";
    }
    EXPECT_EQ(seccomp_user_notif_available(), avail.find("user_notif") != std::string::npos)
        << avail;
}

TEST(Capabilities, WaitKillableRecvMatchesTheKernelVersion) {
    QC_SKIP_WHEN_EMULATED(kNoSeccomp);
    // The flag arrived in Linux 5.19.
    EXPECT_EQ(seccomp_wait_killable_recv_supported(), kernel_version() >= 5019);
}

TEST(Capabilities, ProbingInstallsNoSeccompFilter) {
    const Capabilities caps = Capabilities::probe();
    const std::string status = read_file("/proc/self/status");
    EXPECT_NE(status.find("Seccomp:\t0"), std::string::npos) << status;
    (void)caps;
}

TEST(Capabilities, ProbeReportsThisMachine) {
    const Capabilities caps = Capabilities::probe();
    struct utsname u {};
    uname(&u);
    EXPECT_EQ(caps.kernel_release, u.release);
    EXPECT_EQ(caps.task_isolation_prctl, kernel_task_isolation_present());
    const core::KernelCpuSets sets = core::KernelCpuSets::read();
    EXPECT_EQ(caps.cpus.online, sets.online);
    EXPECT_EQ(caps.cpus.isolated, sets.isolated);
    EXPECT_EQ(caps.cpus.nohz_full, sets.nohz_full);
    EXPECT_EQ(caps.seccomp_user_notif, seccomp_user_notif_available());
    EXPECT_EQ(caps.backend(), caps.task_isolation_prctl ? BackendKind::kernel : BackendKind::soft);
}

TEST(Capabilities, SentencesSayWhatWasFound) {
    Capabilities caps;
    caps.kernel_release = "6.1.0-test";
    caps.cpus.isolated = core::CpuSet{2, 3};
    caps.cpus.nohz_full_state = core::NohzFullState::off;
    caps.seccomp_user_notif = true;
    caps.seccomp_wait_killable_recv = false;
    std::string all;
    for (const auto& s : describe(caps)) {
        EXPECT_FALSE(s.empty());
        EXPECT_EQ(s.back(), '.') << s;
        all += s + "\n";
    }
    EXPECT_NE(all.find("6.1.0-test has no task-isolation prctl"), std::string::npos) << all;
    EXPECT_NE(all.find("CPUs 2-3 are isolated"), std::string::npos) << all;
    EXPECT_NE(all.find("nohz_full= was not given"), std::string::npos) << all;
    EXPECT_NE(all.find("WAIT_KILLABLE_RECV is not supported"), std::string::npos) << all;
    EXPECT_NE(all.find("soft back end is used"), std::string::npos) << all;

    caps.task_isolation_prctl = true;
    caps.cpus.nohz_full_state = core::NohzFullState::on;
    caps.cpus.nohz_full = core::CpuSet{1};
    all.clear();
    for (const auto& s : describe(caps)) {
        all += s + "\n";
    }
    EXPECT_NE(all.find("has the task-isolation prctl"), std::string::npos) << all;
    EXPECT_NE(all.find("CPUs 1 run tick-free"), std::string::npos) << all;
    EXPECT_NE(all.find("kernel back end is used"), std::string::npos) << all;
}

TEST(Capabilities, JsonCarriesEveryFact) {
    Capabilities caps = Capabilities::probe();
    nlohmann::json j;
    to_json(j, caps);
    EXPECT_EQ(j.at("kernel_release"), caps.kernel_release);
    EXPECT_EQ(j.at("task_isolation_prctl"), caps.task_isolation_prctl);
    EXPECT_EQ(j.at("seccomp_user_notif"), caps.seccomp_user_notif);
    EXPECT_EQ(j.at("seccomp_wait_killable_recv"), caps.seccomp_wait_killable_recv);
    EXPECT_EQ(j.at("backend"), caps.task_isolation_prctl ? "kernel" : "soft");
    EXPECT_EQ(j.at("cpus").at("online"), caps.cpus.online.to_list());
    EXPECT_EQ(j.at("cpus").at("isolated"), caps.cpus.isolated.to_list());
}

// Stands in for the soft back end: select_backend only needs a Backend.
class NamedBackend : public Backend {
  public:
    std::string_view name() const noexcept override { return "soft"; }
    void enter(const IsolationRequest&, BreakMailbox&) override {}
    void leave() noexcept override {}
};

TEST(SelectBackend, KernelWhenThePrctlExistsElseTheSoftFactory) {
    Capabilities caps;
    caps.kernel_release = "x";
    int soft_made = 0;
    auto factory = [&]() -> std::unique_ptr<Backend> {
        ++soft_made;
        return std::make_unique<NamedBackend>();
    };
    caps.task_isolation_prctl = true;
    EXPECT_EQ(select_backend(caps, factory)->name(), "kernel");
    EXPECT_EQ(soft_made, 0);
    caps.task_isolation_prctl = false;
    EXPECT_EQ(select_backend(caps, factory)->name(), "soft");
    EXPECT_EQ(soft_made, 1);
}

TEST(SelectBackend, NoSoftFactoryOnAStockKernelIsAnError) {
    Capabilities caps;
    caps.kernel_release = "6.1.0-stock";
    for (const SoftBackendFactory& f :
         {SoftBackendFactory{}, SoftBackendFactory{[] { return std::unique_ptr<Backend>(); }}}) {
        try {
            select_backend(caps, f);
            FAIL();
        } catch (const IsolationError& e) {
            EXPECT_EQ(e.code(), ENOSYS);
            EXPECT_NE(std::string(e.what()).find("6.1.0-stock"), std::string::npos) << e.what();
        }
    }
}

}  // namespace
}  // namespace qc::isolation
