// Whether this process runs under a user-mode emulator: an aarch64 binary run
// by qemu-aarch64-static on an x86_64 host (the cross-arm64 suite). The
// emulator translates the program's syscalls to the host kernel, so whatever
// the kernel reports about the process (seccomp, ptrace, per-thread /proc
// files, context switches of "this thread") describes the emulator, and some
// requests (seccomp filters, perf events) are refused. Tests use this to skip
// only what cannot work there, naming the reason; the programs do not change
// their behaviour.
#pragma once

#include <string>
#include <string_view>

namespace qc::core {

// The architecture that /proc/cpuinfo text describes, from keys only one
// architecture has ("vendor_id"/"flags" on x86_64, "CPU implementer"/"Features"
// on arm64): "x86_64", "aarch64", or "" when it tells neither.
std::string_view cpuinfo_architecture(std::string_view cpuinfo);

// The architecture this code was compiled for: "x86_64" or "aarch64".
std::string_view compiled_architecture() noexcept;

// Empty on a native run; otherwise why this looks emulated, e.g.
// "user-mode emulation: aarch64 code, the kernel's /proc/cpuinfo describes x86_64".
// A kernel booted in qemu-system-aarch64 is not emulation in this sense:
// its /proc/cpuinfo describes the arm64 CPU the code runs on.
std::string user_mode_emulation();

}  // namespace qc::core
