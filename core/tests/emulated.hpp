// Skipping, only under user-mode emulation (the cross-arm64 suite run by
// qemu-aarch64-static on x86_64), the tests that need what the emulator does
// not provide. Natively, and in a kernel booted under qemu-system-aarch64,
// user_mode_emulation() is empty and the test runs in full.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "quietcore/core/emulation.hpp"

// At the top of a test body: QC_SKIP_WHEN_EMULATED("qemu-user has no seccomp syscall");
#define QC_SKIP_WHEN_EMULATED(why)                                           \
    if (const std::string qc_emulation_ = ::qc::core::user_mode_emulation(); \
        !qc_emulation_.empty())                                              \
    GTEST_SKIP() << qc_emulation_ << ": " << (why)
