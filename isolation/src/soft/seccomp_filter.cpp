#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "quietcore/core/error.hpp"
#include "quietcore/isolation/soft_filter.hpp"

namespace qc::isolation {

namespace {

struct ContextDeleter {
    void operator()(void* ctx) const noexcept { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

void check(int rc, const char* what) {
    if (rc < 0) {
        throw core::Error(std::string("seccomp filter: ") + what +
                          " failed: " + std::strerror(-rc));
    }
}

// seccomp_export_bpf() only writes to a file descriptor: a memfd holds the
// program until it is read back.
std::vector<sock_filter> export_program(void* ctx) {
    const int fd = static_cast<int>(::syscall(SYS_memfd_create, "qc-seccomp-bpf", MFD_CLOEXEC));
    if (fd < 0) {
        throw core::Error(std::string("seccomp filter: memfd_create failed: ") +
                          std::strerror(errno));
    }
    std::string bytes;
    try {
        check(seccomp_export_bpf(ctx, fd), "seccomp_export_bpf");
        if (::lseek(fd, 0, SEEK_SET) != 0) {
            throw core::Error("seccomp filter: lseek on the BPF memfd failed");
        }
        char chunk[4096];
        for (;;) {
            const ssize_t n = ::read(fd, chunk, sizeof chunk);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                throw core::Error(std::string("seccomp filter: reading the BPF program failed: ") +
                                  std::strerror(errno));
            }
            if (n == 0) {
                break;
            }
            bytes.append(chunk, static_cast<std::size_t>(n));
        }
    } catch (...) {
        ::close(fd);
        throw;
    }
    ::close(fd);
    if (bytes.empty() || bytes.size() % sizeof(sock_filter) != 0) {
        throw core::Error("seccomp filter: exported BPF program has " +
                          std::to_string(bytes.size()) + " bytes, not whole instructions");
    }
    std::vector<sock_filter> program(bytes.size() / sizeof(sock_filter));
    std::memcpy(program.data(), bytes.data(), bytes.size());
    return program;
}

long load(const sock_fprog& prog, unsigned long flags) noexcept {
    return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

}  // namespace

SeccompFilter::SeccompFilter(FilterOptions options) : options_(options) {
    Context ctx(seccomp_init(SCMP_ACT_NOTIFY));
    if (!ctx) {
        throw core::Error("seccomp filter: seccomp_init(SCMP_ACT_NOTIFY) failed");
    }
    // Syscalls of a foreign ABI (int 0x80 on x86_64) are reported too, not killed.
    check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_NOTIFY),
          "seccomp_attr_set(ACT_BADARCH)");
    for (const char* name : {"exit", "exit_group", "rt_sigreturn"}) {
        const int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) {
            throw core::Error(std::string("seccomp filter: unknown syscall ") + name);
        }
        check(seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, nr, 0),
              (std::string("seccomp_rule_add(ALLOW ") + name + ")").c_str());
    }
    program_ = export_program(ctx.get());
}

FilterInstallResult SeccompFilter::install() const noexcept {
    FilterInstallResult result;
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(program_.size());
    prog.filter = const_cast<sock_filter*>(program_.data());

    unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER;
    if (options_.wait_killable_recv) {
        flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    }
    long fd = load(prog, flags);
    if (fd < 0 && errno == EACCES) {
        // No CAP_SYS_ADMIN: the kernel insists on no_new_privs.
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            result.error = errno;
            return result;
        }
        result.set_no_new_privs = true;
        fd = load(prog, flags);
    }
    if (fd < 0 && errno == EINVAL && (flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) != 0) {
        // Kernels before 5.19 do not know the flag.
        flags &= ~static_cast<unsigned long>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
        fd = load(prog, flags);
    }
    if (fd < 0) {
        result.error = errno;
        return result;
    }
    result.listener_fd = static_cast<int>(fd);
    result.wait_killable_recv = (flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) != 0;
    return result;
}

std::uint32_t native_audit_arch() noexcept {
    return seccomp_arch_native();
}

std::string syscall_name(std::uint32_t audit_arch, int nr) {
    std::unique_ptr<char, decltype(&std::free)> name(
        seccomp_syscall_resolve_num_arch(audit_arch, nr), &std::free);
    if (!name) {
        return "syscall " + std::to_string(nr);
    }
    return name.get();
}

}  // namespace qc::isolation
