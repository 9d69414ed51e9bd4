// Memory an isolated worker touches: allocated on its NUMA node, pre-faulted
// and locked before isolation starts, so steady state takes no page fault
// (DESIGN.md "Two kinds of thread"). Everything here is housekeeping/set-up
// code: it allocates, makes syscalls and throws.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace qc::core {

// libnuma's verdict (numa_available()). Without NUMA everything falls back
// to ordinary memory and node 0 is the only node.
bool numa_supported() noexcept;

// Nodes with memory this process may allocate on (libnuma's
// numa_all_nodes_ptr); {0} without NUMA.
std::vector<int> allowed_numa_nodes();

// The node of the CPU the calling thread runs on right now (0 without NUMA).
// Call it after pinning, or the answer may be stale.
int current_numa_node();

// For each page of [addr, addr+bytes): its node, or a negative errno
// (-ENOENT: not resident; -EFAULT: not mapped). move_pages(2) query mode:
// it does not fault anything in. Without NUMA, resident pages report 0.
std::vector<int> page_nodes(const void* addr, std::size_t bytes);

// A fixed-size, page-aligned anonymous buffer whose pages can only come from
// one node (mmap + mbind(MPOL_BIND) before any page exists). Move-only.
class NumaBuffer {
  public:
    NumaBuffer() noexcept = default;
    // Throws qc::core::Error naming the node when it does not exist or the
    // process may not use it, or when bytes is 0; std::system_error when
    // mmap/mbind fail. Pages are not touched yet: call prefault().
    NumaBuffer(std::size_t bytes, int node);
    static NumaBuffer on_current_node(std::size_t bytes);
    NumaBuffer(NumaBuffer&& other) noexcept;
    NumaBuffer& operator=(NumaBuffer&& other) noexcept;
    NumaBuffer(const NumaBuffer&) = delete;
    NumaBuffer& operator=(const NumaBuffer&) = delete;
    ~NumaBuffer();

    std::byte* data() noexcept { return data_; }
    const std::byte* data() const noexcept { return data_; }
    // The size asked for; the mapping is rounded up to whole pages.
    std::size_t size() const noexcept { return size_; }
    std::size_t mapped_size() const noexcept { return mapped_; }
    int node() const noexcept { return node_; }
    // True when bound with mbind; false when NUMA is unavailable and this is
    // ordinary memory.
    bool bound() const noexcept { return bound_; }
    // "4096 bytes bound to NUMA node 0" or "... ordinary memory: NUMA is not
    // available (libnuma)".
    std::string describe() const;

    // Writes one byte in every page so each is allocated (on the node) now
    // rather than at first use. Idempotent; contents are preserved.
    void prefault() noexcept;
    // True when every page is resident (mincore).
    bool resident() const;

  private:
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::size_t mapped_ = 0;
    int node_ = 0;
    bool bound_ = false;
};

// mlockall(MCL_CURRENT | MCL_FUTURE): every page mapped now and later stays
// resident. Throws std::system_error whose message names the cause
// (RLIMIT_MEMLOCK and its value, CAP_IPC_LOCK) and what to change.
// AddressSanitizer builds turn mlockall into a no-op that succeeds; check
// locked_memory_bytes() where it matters.
void lock_all_memory();
// lock_all_memory() unless it already succeeded in this process since the
// last unlock_all_memory(): with MCL_FUTURE every later mapping is locked
// anyway, and a second pass over a large address space (DPDK's --no-huge
// heap) is slow. For re-entering isolation after a break.
void lock_all_memory_once();
void unlock_all_memory();

// Bytes of locked memory of this process (VmLck in /proc/self/status).
std::size_t locked_memory_bytes();

// One "<field>:  <n> kB" line of /proc/<pid>/status text, in bytes. Throws
// ParseError naming the field and the bad line when the field is missing or
// malformed.
std::size_t parse_status_kb(std::string_view status_text, std::string_view field);

}  // namespace qc::core
