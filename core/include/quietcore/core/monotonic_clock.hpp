// CLOCK_MONOTONIC in nanoseconds: the time base of break records and reports
// (the kernel's break record uses the same clock). A vDSO call, no syscall
// on x86_64 and arm64, but still not for an isolated worker's loop: that reads
// the cycle counter.
#pragma once

#include <time.h>

#include <cstdint>

namespace qc::core {

inline std::uint64_t monotonic_ns() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
           static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace qc::core
