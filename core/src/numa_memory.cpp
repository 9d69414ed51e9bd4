#include "quietcore/core/numa_memory.hpp"

#include <numa.h>
#include <numaif.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include "quietcore/core/error.hpp"
#include "quietcore/core/text_file.hpp"

namespace qc::core {

namespace {

std::size_t page_size() noexcept {
    return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

std::string node_list(const std::vector<int>& nodes) {
    std::string s;
    for (int n : nodes) {
        s += (s.empty() ? "" : ",") + std::to_string(n);
    }
    return s.empty() ? "none" : s;
}

struct NodemaskDeleter {
    void operator()(bitmask* m) const noexcept { numa_free_nodemask(m); }
};

void check_node(int node) {
    const std::string what = "NUMA node " + std::to_string(node);
    if (!numa_supported()) {
        if (node != 0) {
            throw Error(what + ": NUMA is not available (libnuma), so only node 0 exists");
        }
        return;
    }
    std::vector<int> allowed = allowed_numa_nodes();
    for (int n : allowed) {
        if (n == node) {
            return;
        }
    }
    if (node < 0 || node > numa_max_node()) {
        throw Error(what + " does not exist (highest node " + std::to_string(numa_max_node()) +
                    "; nodes this process may use: " + node_list(allowed) + ")");
    }
    throw Error(what + " has no memory or is outside this process's allowed nodes (" +
                node_list(allowed) + ")");
}

}  // namespace

bool numa_supported() noexcept {
    return numa_available() >= 0;
}

std::vector<int> allowed_numa_nodes() {
    if (!numa_supported()) {
        return {0};
    }
    std::vector<int> nodes;
    for (int n = 0; n <= numa_max_node(); ++n) {
        if (numa_bitmask_isbitset(numa_all_nodes_ptr, static_cast<unsigned>(n))) {
            nodes.push_back(n);
        }
    }
    return nodes;
}

int current_numa_node() {
    if (!numa_supported()) {
        return 0;
    }
    int cpu = ::sched_getcpu();
    if (cpu < 0) {
        throw std::system_error(errno, std::generic_category(), "sched_getcpu");
    }
    int node = numa_node_of_cpu(cpu);
    if (node < 0) {
        throw std::system_error(errno, std::generic_category(),
                                "numa_node_of_cpu(" + std::to_string(cpu) + ")");
    }
    return node;
}

std::vector<int> page_nodes(const void* addr, std::size_t bytes) {
    const std::size_t ps = page_size();
    auto first = reinterpret_cast<std::uintptr_t>(addr) & ~(ps - 1);
    auto end = reinterpret_cast<std::uintptr_t>(addr) + bytes;
    std::vector<void*> pages;
    for (std::uintptr_t p = first; p < end; p += ps) {
        pages.push_back(reinterpret_cast<void*>(p));
    }
    std::vector<int> status(pages.size(), -EFAULT);
    if (pages.empty()) {
        return status;
    }
    // nodes == nullptr: query only.
    if (::move_pages(0, pages.size(), pages.data(), nullptr, status.data(), 0) != 0) {
        if (errno != ENOSYS) {
            throw std::system_error(errno, std::generic_category(), "move_pages (query)");
        }
        // No NUMA in the kernel: resident pages are on node 0.
        std::vector<unsigned char> vec(pages.size());
        if (::mincore(reinterpret_cast<void*>(first), pages.size() * ps, vec.data()) != 0) {
            throw std::system_error(errno, std::generic_category(), "mincore");
        }
        for (std::size_t i = 0; i < pages.size(); ++i) {
            status[i] = (vec[i] & 1) ? 0 : -ENOENT;
        }
    }
    return status;
}

NumaBuffer::NumaBuffer(std::size_t bytes, int node) : size_(bytes), node_(node) {
    if (bytes == 0) {
        throw Error("NumaBuffer on NUMA node " + std::to_string(node) + ": size must not be 0");
    }
    check_node(node);
    const std::size_t ps = page_size();
    mapped_ = (bytes + ps - 1) / ps * ps;
    void* p = ::mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        throw std::system_error(errno, std::generic_category(),
                                "NumaBuffer: mmap of " + std::to_string(mapped_) + " bytes");
    }
    data_ = static_cast<std::byte*>(p);
    if (!numa_supported()) {
        return;  // ordinary memory; bound() says so
    }
    // Bind before any page exists, so every page is allocated on the node
    // (MPOL_BIND: never elsewhere, even under memory pressure).
    std::unique_ptr<bitmask, NodemaskDeleter> mask(numa_allocate_nodemask());
    numa_bitmask_setbit(mask.get(), static_cast<unsigned>(node));
    if (::mbind(p, mapped_, MPOL_BIND, mask->maskp, mask->size + 1, 0) != 0) {
        int err = errno;
        ::munmap(p, mapped_);
        data_ = nullptr;
        throw std::system_error(err, std::generic_category(),
                                "NumaBuffer: mbind to NUMA node " + std::to_string(node));
    }
    bound_ = true;
}

NumaBuffer NumaBuffer::on_current_node(std::size_t bytes) {
    return NumaBuffer(bytes, current_numa_node());
}

NumaBuffer::NumaBuffer(NumaBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)),
      node_(other.node_),
      bound_(std::exchange(other.bound_, false)) {}

NumaBuffer& NumaBuffer::operator=(NumaBuffer&& other) noexcept {
    if (this != &other) {
        if (data_) {
            ::munmap(data_, mapped_);
        }
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
        mapped_ = std::exchange(other.mapped_, 0);
        node_ = other.node_;
        bound_ = std::exchange(other.bound_, false);
    }
    return *this;
}

NumaBuffer::~NumaBuffer() {
    if (data_) {
        ::munmap(data_, mapped_);
    }
}

std::string NumaBuffer::describe() const {
    std::string s = std::to_string(size_) + " bytes ";
    if (bound_) {
        return s + "bound to NUMA node " + std::to_string(node_);
    }
    return s + "of ordinary memory: NUMA is not available (libnuma)";
}

void NumaBuffer::prefault() noexcept {
    // A read would only map the shared zero page; a write allocates the
    // page for real. Writing back the byte read keeps the contents.
    const std::size_t ps = page_size();
    volatile std::byte* p = data_;
    for (std::size_t off = 0; off < mapped_; off += ps) {
        p[off] = p[off];
    }
}

bool NumaBuffer::resident() const {
    if (!data_) {
        return false;
    }
    const std::size_t ps = page_size();
    std::vector<unsigned char> vec(mapped_ / ps);
    if (::mincore(data_, mapped_, vec.data()) != 0) {
        throw std::system_error(errno, std::generic_category(), "mincore");
    }
    for (unsigned char v : vec) {
        if ((v & 1) == 0) {
            return false;
        }
    }
    return true;
}

void lock_all_memory() {
    if (::mlockall(MCL_CURRENT | MCL_FUTURE) == 0) {
        return;
    }
    int err = errno;
    rlimit lim{};
    ::getrlimit(RLIMIT_MEMLOCK, &lim);
    const std::string limit = lim.rlim_cur == RLIM_INFINITY
                                  ? std::string("unlimited")
                                  : std::to_string(lim.rlim_cur) + " bytes";
    std::string what = "mlockall(MCL_CURRENT|MCL_FUTURE): ";
    if (err == EPERM) {
        what += "not permitted: RLIMIT_MEMLOCK is " + limit +
                " and the process lacks CAP_IPC_LOCK; raise RLIMIT_MEMLOCK (ulimit -l, "
                "LimitMEMLOCK=, --ulimit memlock=) or grant CAP_IPC_LOCK";
    } else if (err == ENOMEM) {
        std::string mapped = "?";
        try {
            mapped = std::to_string(parse_status_kb(read_text_file("/proc/self/status"), "VmSize"));
        } catch (const std::exception&) {
            // the message is still useful without the size
        }
        what += "RLIMIT_MEMLOCK is " + limit + " but the process maps " + mapped +
                " bytes (or memory ran out); raise RLIMIT_MEMLOCK (ulimit -l, LimitMEMLOCK=, "
                "--ulimit memlock=) or grant CAP_IPC_LOCK";
    } else {
        what += "failed";
    }
    throw std::system_error(err, std::generic_category(), what);
}

namespace {
std::atomic<bool> g_memory_locked{false};  // lock_all_memory_once() succeeded
}  // namespace

void lock_all_memory_once() {
    if (g_memory_locked.load(std::memory_order_acquire)) {
        return;
    }
    lock_all_memory();
    g_memory_locked.store(true, std::memory_order_release);
}

void unlock_all_memory() {
    g_memory_locked.store(false, std::memory_order_release);
    if (::munlockall() != 0) {
        throw std::system_error(errno, std::generic_category(), "munlockall");
    }
}

std::size_t locked_memory_bytes() {
    return parse_status_kb(read_text_file("/proc/self/status"), "VmLck");
}

std::size_t parse_status_kb(std::string_view text, std::string_view field) {
    const std::string what = "/proc status field " + std::string(field);
    std::optional<std::string_view> found;
    for_each_line(text, [&](std::string_view line) {
        if (line.size() > field.size() && line.substr(0, field.size()) == field &&
            line[field.size()] == ':') {
            found = line;
        }
        return !found;
    });
    if (!found) {
        throw ParseError(what, field, field, "field not found");
    }
    const std::string_view line = *found;
    // "VmLck:\t     123 kB"
    std::string_view rest = line.substr(field.size() + 1);
    std::size_t start = rest.find_first_not_of(" \t");
    if (start == std::string_view::npos) {
        throw ParseError(what, line, "", "no value");
    }
    rest = rest.substr(start);
    std::size_t kb = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), kb);
    if (ec != std::errc() || end == rest.data()) {
        throw ParseError(
            what, line, rest.substr(0, rest.find_first_of(" \t")),
            ec == std::errc::result_out_of_range ? "number too large" : "not a number");
    }
    std::string_view unit = rest.substr(static_cast<std::size_t>(end - rest.data()));
    if (unit != " kB") {
        throw ParseError(what, line, unit, "expected the unit \" kB\"");
    }
    if (kb > SIZE_MAX / 1024) {
        throw ParseError(what, line, rest.substr(0, rest.find(' ')), "number too large");
    }
    return kb * 1024;
}

}  // namespace qc::core
