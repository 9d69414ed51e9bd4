#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <numaif.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "drop_capability.hpp"
#include "emulated.hpp"
#include "error_of.hpp"
#include "quietcore/core/error.hpp"
#include "quietcore/core/numa_memory.hpp"

namespace qc::core {
namespace {

// qemu-user 7.2 implements neither get_mempolicy nor mbind (ENOSYS), so libnuma
// reports NUMA unavailable and no page can be asked for its node.
constexpr const char* kNoNumaSyscalls =
    "qemu-user has no get_mempolicy/mbind (ENOSYS): libnuma reports NUMA unavailable";

const std::size_t kPage = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));

#define EXPECT_CONTAINS(haystack, needle)                            \
    EXPECT_NE(std::string(haystack).find(needle), std::string::npos) \
        << "\"" << (haystack) << "\" does not contain \"" << (needle) << "\""

using qc::test::error_of;

// Independent of the library: the node the kernel reports for one address.
int kernel_node_of(const void* addr) {
    int node = -1;
    if (::get_mempolicy(&node, nullptr, 0, const_cast<void*>(addr), MPOL_F_NODE | MPOL_F_ADDR) !=
        0) {
        return -errno;
    }
    return node;
}

std::size_t resident_pages(const void* addr, std::size_t bytes) {
    std::vector<unsigned char> vec((bytes + kPage - 1) / kPage);
    EXPECT_EQ(::mincore(const_cast<void*>(addr), bytes, vec.data()), 0);
    std::size_t n = 0;
    for (unsigned char v : vec) {
        n += v & 1;
    }
    return n;
}

TEST(NumaMemory, SupportedOnThisMachineWithNodeZero) {
    auto nodes = allowed_numa_nodes();
    ASSERT_FALSE(nodes.empty());
    EXPECT_EQ(nodes.front(), 0);
    int cur = current_numa_node();
    EXPECT_NE(std::find(nodes.begin(), nodes.end(), cur), nodes.end()) << cur;
}

TEST(NumaMemory, BufferIsPageAlignedAndRoundedUp) {
    NumaBuffer buf(3 * kPage + 1, 0);
    EXPECT_EQ(buf.size(), 3 * kPage + 1);
    EXPECT_EQ(buf.mapped_size(), 4 * kPage);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(buf.data()) % kPage, 0u);
    EXPECT_EQ(buf.node(), 0);
    if (numa_supported()) {
        EXPECT_TRUE(buf.bound());
        EXPECT_EQ(buf.describe(), std::to_string(3 * kPage + 1) + " bytes bound to NUMA node 0");
    }
}

TEST(NumaMemory, NothingResidentBeforePrefaultEverythingAfter) {
    constexpr std::size_t kPages = 64;
    NumaBuffer buf(kPages * kPage, 0);
    EXPECT_EQ(resident_pages(buf.data(), buf.mapped_size()), 0u);
    EXPECT_FALSE(buf.resident());
    for (int n : page_nodes(buf.data(), buf.size())) {
        EXPECT_EQ(n, -ENOENT);
    }
    buf.prefault();
    EXPECT_EQ(resident_pages(buf.data(), buf.mapped_size()), kPages);
    EXPECT_TRUE(buf.resident());
}

TEST(NumaMemory, PagesAreOnTheRequestedNode) {
    QC_SKIP_WHEN_EMULATED(kNoNumaSyscalls);
    for (int node : allowed_numa_nodes()) {
        NumaBuffer buf(16 * kPage, node);
        buf.prefault();
        for (std::size_t off = 0; off < buf.mapped_size(); off += kPage) {
            EXPECT_EQ(kernel_node_of(buf.data() + off), node) << "page at offset " << off;
        }
        auto nodes = page_nodes(buf.data(), buf.size());
        ASSERT_EQ(nodes.size(), 16u);
        for (int n : nodes) {
            EXPECT_EQ(n, node);
        }
        // The policy recorded for the range is MPOL_BIND on exactly that node.
        int mode = -1;
        unsigned long mask[16] = {};
        ASSERT_EQ(::get_mempolicy(&mode, mask, sizeof(mask) * 8, buf.data(), MPOL_F_ADDR), 0);
        EXPECT_EQ(mode, MPOL_BIND);
        EXPECT_EQ(mask[0], 1ul << node);
    }
}

TEST(NumaMemory, PrefaultKeepsContents) {
    NumaBuffer buf(4 * kPage, 0);
    for (std::size_t i = 0; i < buf.size(); ++i) {
        buf.data()[i] = static_cast<std::byte>(i * 7);
    }
    buf.prefault();
    for (std::size_t i = 0; i < buf.size(); ++i) {
        ASSERT_EQ(buf.data()[i], static_cast<std::byte>(i * 7)) << i;
    }
}

TEST(NumaMemory, OnCurrentNode) {
    QC_SKIP_WHEN_EMULATED(kNoNumaSyscalls);
    NumaBuffer buf = NumaBuffer::on_current_node(2 * kPage);
    EXPECT_EQ(buf.node(), current_numa_node());
    buf.prefault();
    EXPECT_EQ(kernel_node_of(buf.data()), buf.node());
}

TEST(NumaMemory, MoveTransfersOwnership) {
    NumaBuffer a(kPage, 0);
    std::byte* p = a.data();
    NumaBuffer b(std::move(a));
    EXPECT_EQ(b.data(), p);
    EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move)
    NumaBuffer c(2 * kPage, 0);
    c = std::move(b);
    EXPECT_EQ(c.data(), p);
    EXPECT_EQ(c.mapped_size(), kPage);
    c.prefault();
    EXPECT_TRUE(c.resident());
}

TEST(NumaMemory, BadNodeAndSizeAreRejectedByName) {
    QC_SKIP_WHEN_EMULATED(kNoNumaSyscalls);
    int missing = allowed_numa_nodes().back() + 1;
    std::string msg = error_of([&] { NumaBuffer b(kPage, missing); });
    EXPECT_CONTAINS(msg, "NUMA node " + std::to_string(missing));
    EXPECT_CONTAINS(msg, "does not exist");
    EXPECT_CONTAINS(msg, "nodes this process may use: 0");

    msg = error_of([&] { NumaBuffer b(kPage, -1); });
    EXPECT_CONTAINS(msg, "NUMA node -1 does not exist");

    msg = error_of([&] { NumaBuffer b(0, 0); });
    EXPECT_CONTAINS(msg, "size must not be 0");
    EXPECT_THROW(NumaBuffer(kPage, 4096), Error);
}

TEST(NumaMemory, ParseStatusKb) {
    const char* status = "Name:\tx\nVmLck:\t     132 kB\nVmSize:\t  2048 kB\n";
    EXPECT_EQ(parse_status_kb(status, "VmLck"), 132u * 1024);
    EXPECT_EQ(parse_status_kb(status, "VmSize"), 2048u * 1024);
    EXPECT_EQ(parse_status_kb("VmLck:\t0 kB", "VmLck"), 0u);

    auto parse_error = [](const char* text, const char* field) -> std::string {
        try {
            parse_status_kb(text, field);
        } catch (const ParseError& e) {
            return e.what();
        }
        return "(no error)";
    };
    EXPECT_CONTAINS(parse_error(status, "VmPin"), "VmPin");
    EXPECT_CONTAINS(parse_error(status, "VmPin"), "field not found");
    // Prefix of another field does not count.
    EXPECT_CONTAINS(parse_error("VmLckX:\t1 kB\n", "VmLck"), "field not found");
    EXPECT_CONTAINS(parse_error("VmLck:\tlots kB\n", "VmLck"), "bad token \"lots\"");
    EXPECT_CONTAINS(parse_error("VmLck:\t12 MB\n", "VmLck"), "bad token \" MB\"");
    EXPECT_CONTAINS(parse_error("VmLck:\t   \n", "VmLck"), "no value");
    EXPECT_CONTAINS(parse_error("VmLck:\t99999999999999999999999 kB\n", "VmLck"),
                    "number too large");
}

// AddressSanitizer replaces mlock/mlockall with no-ops (locking its shadow
// memory would be ruinous), so tests of locking skip there, and this one
// calls the kernel directly.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
constexpr const char* kAsanSkip = "AddressSanitizer turns mlock/mlockall into no-ops";

TEST(NumaMemory, LockedBytesReadsThisProcess) {
    std::size_t before = locked_memory_bytes();
    NumaBuffer buf(kPage, 0);
    ASSERT_EQ(::syscall(SYS_mlock, buf.data(), kPage), 0);
    EXPECT_GE(locked_memory_bytes(), before + kPage);
    ASSERT_EQ(::syscall(SYS_munlock, buf.data(), kPage), 0);
    EXPECT_EQ(locked_memory_bytes(), before);
}

// Runs `fn` in a forked child (so the test process keeps its memory and
// capabilities); the child's exit code and message come back.
struct ChildResult {
    int exit_code;
    std::string message;
};
template <typename Fn>
ChildResult in_child(Fn&& fn) {
    int pipefd[2];
    if (::pipe(pipefd) != 0) {
        return {-1, "pipe failed"};
    }
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(pipefd[0]);
        std::string msg;
        int code = fn(msg);
        (void)!::write(pipefd[1], msg.data(), msg.size());
        ::_exit(code);
    }
    ::close(pipefd[1]);
    std::string msg;
    std::array<char, 512> buf;
    for (ssize_t n; (n = ::read(pipefd[0], buf.data(), buf.size())) > 0;) {
        msg.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(pipefd[0]);
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
        return {-1, msg + " (child did not exit normally)"};
    }
    return {WEXITSTATUS(status), msg};
}

TEST(NumaMemory, LockAllMemoryRaisesVmLck) {
    if (kAddressSanitizer) {
        GTEST_SKIP() << kAsanSkip;
    }
    auto r = in_child([](std::string& msg) {
        try {
            std::size_t before = locked_memory_bytes();
            lock_all_memory();
            std::size_t after_current = locked_memory_bytes();
            // MCL_FUTURE: a mapping made afterwards is locked (and resident).
            NumaBuffer later(64 * kPage, 0);
            std::size_t after_future = locked_memory_bytes();
            bool resident = later.resident();
            msg = std::to_string(before) + " " + std::to_string(after_current) + " " +
                  std::to_string(after_future);
            if (before != 0) {
                return 2;
            }
            if (after_current == 0) {
                return 3;
            }
            if (after_future < after_current + 64 * kPage || !resident) {
                return 4;
            }
            return 0;
        } catch (const std::exception& e) {
            msg = e.what();
            return 1;
        }
    });
    EXPECT_EQ(r.exit_code, 0) << "VmLck before / after mlockall / after a new mapping: "
                              << r.message;
    EXPECT_EQ(locked_memory_bytes(), 0u) << "the test process itself must stay unlocked";
}

TEST(NumaMemory, LockAllMemoryOnceLocksAgainOnlyAfterAnUnlock) {
    if (kAddressSanitizer) {
        GTEST_SKIP() << kAsanSkip;
    }
    auto r = in_child([](std::string& msg) {
        try {
            lock_all_memory_once();
            if (locked_memory_bytes() == 0) {
                return 2;
            }
            // munlockall behind its back: "once" means it does not lock again.
            if (::munlockall() != 0) {
                return 9;
            }
            lock_all_memory_once();
            if (locked_memory_bytes() != 0) {
                msg = "locked a second time";
                return 3;
            }
            // After unlock_all_memory() it locks again.
            unlock_all_memory();
            lock_all_memory_once();
            if (locked_memory_bytes() == 0) {
                msg = "did not lock after unlock_all_memory";
                return 4;
            }
            return 0;
        } catch (const std::exception& e) {
            msg = e.what();
            return 1;
        }
    });
    EXPECT_EQ(r.exit_code, 0) << r.message;
    EXPECT_EQ(locked_memory_bytes(), 0u) << "the test process itself must stay unlocked";
}

TEST(NumaMemory, LockAllMemoryWithoutCapabilityOrLimitIsEperm) {
    if (kAddressSanitizer) {
        GTEST_SKIP() << kAsanSkip;
    }
    auto r = in_child([](std::string& msg) {
        rlimit zero{0, 0};
        if (::setrlimit(RLIMIT_MEMLOCK, &zero) != 0 || !qc::test::drop_capability(CAP_IPC_LOCK)) {
            msg = "could not drop CAP_IPC_LOCK / RLIMIT_MEMLOCK";
            return 9;
        }
        try {
            lock_all_memory();
        } catch (const std::system_error& e) {
            msg = e.what();
            return e.code().value() == EPERM ? 0 : 2;
        }
        return 1;
    });
    ASSERT_NE(r.exit_code, 9) << r.message;
    EXPECT_EQ(r.exit_code, 0) << r.message;
    EXPECT_CONTAINS(r.message, "mlockall(MCL_CURRENT|MCL_FUTURE)");
    EXPECT_CONTAINS(r.message, "RLIMIT_MEMLOCK is 0 bytes");
    EXPECT_CONTAINS(r.message, "CAP_IPC_LOCK");
}

TEST(NumaMemory, LockAllMemoryOverTheLimitIsEnomem) {
    if (kAddressSanitizer) {
        GTEST_SKIP() << kAsanSkip;
    }
    auto r = in_child([](std::string& msg) {
        rlimit small{64 * 1024, 64 * 1024};
        if (::setrlimit(RLIMIT_MEMLOCK, &small) != 0 || !qc::test::drop_capability(CAP_IPC_LOCK)) {
            msg = "could not drop CAP_IPC_LOCK / lower RLIMIT_MEMLOCK";
            return 9;
        }
        try {
            lock_all_memory();
        } catch (const std::system_error& e) {
            msg = e.what();
            return e.code().value() == ENOMEM ? 0 : 2;
        }
        return 1;
    });
    ASSERT_NE(r.exit_code, 9) << r.message;
    EXPECT_EQ(r.exit_code, 0) << r.message;
    EXPECT_CONTAINS(r.message, "RLIMIT_MEMLOCK is 65536 bytes but the process maps");
    EXPECT_CONTAINS(r.message, "ulimit -l");
}

// The fallback for real: a seccomp filter makes the NUMA syscalls fail with
// ENOSYS, as on a kernel built without CONFIG_NUMA, so libnuma reports NUMA
// unavailable.
bool make_numa_syscalls_enosys() {
#if defined(__x86_64__)
    constexpr std::uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
    constexpr std::uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
    return false;
#endif
    constexpr std::uint32_t kEnosys = SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA);
    std::array filter{
        sock_filter BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        sock_filter BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
        sock_filter BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        sock_filter BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        sock_filter BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_get_mempolicy, 3, 0),
        sock_filter BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mbind, 2, 0),
        sock_filter BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_move_pages, 1, 0),
        sock_filter BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        sock_filter BPF_STMT(BPF_RET | BPF_K, kEnosys),
    };
    sock_fprog prog{static_cast<unsigned short>(filter.size()), filter.data()};
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

TEST(NumaMemory, FallsBackToOrdinaryMemoryWithoutNuma) {
    QC_SKIP_WHEN_EMULATED(kNoNumaSyscalls);
    auto r = in_child([](std::string& msg) {
        if (!make_numa_syscalls_enosys()) {
            msg = "could not install the seccomp filter";
            return 9;
        }
        if (numa_supported()) {
            msg = "libnuma still reports NUMA available";
            return 1;
        }
        try {
            if (allowed_numa_nodes() != std::vector<int>{0} || current_numa_node() != 0) {
                msg = "nodes without NUMA are not {0}";
                return 2;
            }
            NumaBuffer buf(8 * kPage, 0);
            buf.prefault();
            if (buf.bound() || !buf.resident()) {
                msg = "fallback buffer bound or not resident";
                return 3;
            }
            for (int n : page_nodes(buf.data(), buf.size())) {
                if (n != 0) {
                    msg = "page_nodes without NUMA: " + std::to_string(n);
                    return 4;
                }
            }
            msg = buf.describe() + "\n";
            try {
                NumaBuffer other(kPage, 1);
                return 5;
            } catch (const Error& e) {
                msg += e.what();
            }
            return 0;
        } catch (const std::exception& e) {
            msg = e.what();
            return 6;
        }
    });
    ASSERT_NE(r.exit_code, 9) << r.message;
    EXPECT_EQ(r.exit_code, 0) << r.message;
    EXPECT_CONTAINS(r.message, "bytes of ordinary memory: NUMA is not available");
    EXPECT_CONTAINS(r.message, "NUMA node 1: NUMA is not available (libnuma), so only node 0");
}

}  // namespace
}  // namespace qc::core
