#include <gtest/gtest.h>

#include <string>

#include "quietcore/core/emulation.hpp"
#include "quietcore/core/text_file.hpp"

namespace qc::core {
namespace {

TEST(CpuinfoArchitecture, TellsX86FromArm64ByTheirOwnKeys) {
    EXPECT_EQ(cpuinfo_architecture("processor\t: 0\n"
                                   "vendor_id\t: AuthenticAMD\n"
                                   "flags\t\t: fpu tsc constant_tsc\n"),
              "x86_64");
    EXPECT_EQ(cpuinfo_architecture("processor\t: 0\n"
                                   "BogoMIPS\t: 125.00\n"
                                   "Features\t: fp asimd evtstrm cpuid\n"
                                   "CPU implementer\t: 0x41\n"),
              "aarch64");
}

TEST(CpuinfoArchitecture, IsEmptyWhenNoKeyTells) {
    EXPECT_EQ(cpuinfo_architecture(""), "");
    EXPECT_EQ(cpuinfo_architecture("processor\t: 0\nBogoMIPS : 50.00\n"), "");
    // Keys match whole: "vmx flags" is not "flags".
    EXPECT_EQ(cpuinfo_architecture("vmx flags\t: vnmi\nno colon here\n"), "");
}

TEST(UserModeEmulation, AgreesWithThisKernelsCpuinfo) {
    const std::string cpuinfo = read_text_file("/proc/cpuinfo");
    const std::string_view kernel_arch = cpuinfo_architecture(cpuinfo);
    const std::string why = user_mode_emulation();
    if (kernel_arch == compiled_architecture() || kernel_arch.empty()) {
        EXPECT_EQ(why, "");
    } else {
        EXPECT_EQ(why, "user-mode emulation: " + std::string(compiled_architecture()) +
                           " code, the kernel's /proc/cpuinfo describes " +
                           std::string(kernel_arch));
    }
#if defined(__x86_64__)
    // Natively built and run on this machine's x86_64 kernel.
    EXPECT_EQ(why, "");
#endif
}

}  // namespace
}  // namespace qc::core
