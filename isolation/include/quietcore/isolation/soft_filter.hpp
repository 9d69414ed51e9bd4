// The seccomp filter of soft isolation: every syscall of the thread that
// installs it becomes a user notification for the housekeeping supervisor
// (seccomp_monitor.hpp), except exit, exit_group and rt_sigreturn.
//
// Why those three: exit/exit_group end the thread (the kernel back end lets
// them through as well), and rt_sigreturn is the tail of a signal delivery
// that has already been recorded as the break; it must succeed even when no
// supervisor listens any more, or the thread would crash returning from its
// STRICT handler.
//
// libseccomp 2.5.4 cannot load a filter with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
// (2.6 added SCMP_FLTATR_CTL_WAITKILL), so the program is built with libseccomp,
// exported as BPF (seccomp_export_bpf to a memfd, read back once) and loaded
// with the raw seccomp(2) syscall. That also makes install() async-signal-safe,
// so a forked child can call it between fork and exec.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

namespace qc::isolation {

struct FilterOptions {
    // Ask for SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux 5.19): once the
    // supervisor has received a notification, only a fatal signal interrupts
    // the waiting thread. Without it any signal interrupts the wait, the
    // notification disappears and the syscall is restarted.
    bool wait_killable_recv = true;
};

// What install() did. On failure nothing is installed.
struct FilterInstallResult {
    int listener_fd = -1;             // the notification fd (O_CLOEXEC), -1 on failure
    int error = 0;                    // errno of the failure, 0 on success
    bool wait_killable_recv = false;  // the flag is in effect
    bool set_no_new_privs = false;    // no_new_privs had to be set (no CAP_SYS_ADMIN)
};

class SeccompFilter {
  public:
    // Builds the BPF program for the native architecture (housekeeping: it
    // allocates). Throws qc::core::Error naming the libseccomp call that failed.
    explicit SeccompFilter(FilterOptions options = {});

    // On the thread to monitor: installs the filter on this thread only (not
    // TSYNC); threads and processes it creates later inherit it. Raw syscalls
    // only, async-signal-safe. Without CAP_SYS_ADMIN the kernel needs
    // no_new_privs: it is set then (for this thread only) and the load retried.
    // A kernel that rejects WAIT_KILLABLE_RECV with EINVAL gets the filter
    // without it.
    FilterInstallResult install() const noexcept;

    const std::vector<sock_filter>& program() const noexcept { return program_; }
    const FilterOptions& options() const noexcept { return options_; }

  private:
    FilterOptions options_;
    std::vector<sock_filter> program_;
};

// The AUDIT_ARCH_* value of this build's native syscall ABI (what
// seccomp_data.arch says for its syscalls).
std::uint32_t native_audit_arch() noexcept;

// "getppid" for (AUDIT_ARCH_X86_64, 110); "syscall 999" when libseccomp does
// not know the number for that architecture.
std::string syscall_name(std::uint32_t audit_arch, int nr);

}  // namespace qc::isolation
