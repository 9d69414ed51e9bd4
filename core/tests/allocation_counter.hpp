// Replaces the global operator new/delete of the one test program that
// includes it, so a test can prove a hot path allocates nothing:
//
//     AllocationCounter counter;
//     ... code under test ...
//     EXPECT_EQ(counter.allocations(), 0u);
//
// Include from exactly one translation unit per test executable.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace qc::test {

inline std::atomic<bool> g_count_allocations{false};
inline std::atomic<std::uint64_t> g_allocations{0};

// Counts operator new calls between construction and destruction.
class AllocationCounter {
  public:
    AllocationCounter() {
        g_allocations.store(0);
        g_count_allocations.store(true);
    }
    ~AllocationCounter() { g_count_allocations.store(false); }
    AllocationCounter(const AllocationCounter&) = delete;
    AllocationCounter& operator=(const AllocationCounter&) = delete;

    std::uint64_t allocations() const { return g_allocations.load(); }
};

}  // namespace qc::test

// Not inlined, so the compiler never pairs a visible new with free().
__attribute__((noinline)) void* operator new(std::size_t size) {
    if (qc::test::g_count_allocations.load(std::memory_order_relaxed)) {
        qc::test::g_allocations.fetch_add(1, std::memory_order_relaxed);
    }
    if (void* p = std::malloc(size == 0 ? 1 : size)) {
        return p;
    }
    throw std::bad_alloc();
}
__attribute__((noinline)) void* operator new[](std::size_t size) {
    return operator new(size);
}
__attribute__((noinline)) void operator delete(void* p) noexcept {
    std::free(p);
}
__attribute__((noinline)) void operator delete[](void* p) noexcept {
    std::free(p);
}
__attribute__((noinline)) void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
__attribute__((noinline)) void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
