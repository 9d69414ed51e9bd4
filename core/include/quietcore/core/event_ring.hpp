// A bounded single-producer single-consumer ring: how an isolated worker
// tells a housekeeping thread anything (DESIGN.md "Two kinds of thread").
//
// The producer never waits: a push into a full ring is dropped and counted,
// so a slow reader costs events, never the worker's latency. Storage is
// allocated and zero-filled (its pages touched) at construction, so pushes
// take no page fault, allocate nothing and make no syscall.
//
// Threads: exactly one thread calls try_push() and exactly one calls
// try_pop() at a time; size(), empty(), capacity() and dropped() may be read
// from anywhere.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>

#include "quietcore/core/error.hpp"

namespace qc::core {

template <typename T>
class SpscRing {
    static_assert(std::is_trivially_copyable_v<T>,
                  "SpscRing copies events with memcpy: T must be trivially copyable");

  public:
    // capacity: a power of two, at least 1 and at most 2^32; otherwise throws
    // Error naming it.
    explicit SpscRing(std::size_t capacity) : mask_(checked_capacity(capacity) - 1) {
        slots_ = std::make_unique<Slot[]>(capacity);  // value-initialised: zero-filled
    }
    SpscRing(const SpscRing&) = delete;
    SpscRing& operator=(const SpscRing&) = delete;

    // Producer side. False (and dropped() + 1) when full.
    bool try_push(const T& event) noexcept {
        std::uint64_t tail = producer_.tail.load(std::memory_order_relaxed);
        if (tail - producer_.cached_head > mask_) {
            // Looks full from what we last saw; look again at the consumer.
            producer_.cached_head = consumer_.head.load(std::memory_order_acquire);
            if (tail - producer_.cached_head > mask_) {
                producer_.dropped.store(producer_.dropped.load(std::memory_order_relaxed) + 1,
                                        std::memory_order_relaxed);
                return false;
            }
        }
        std::memcpy(slots_[tail & mask_].bytes, &event, sizeof(T));
        producer_.tail.store(tail + 1, std::memory_order_release);
        return true;
    }

    // Consumer side. False when empty.
    bool try_pop(T& event) noexcept {
        std::uint64_t head = consumer_.head.load(std::memory_order_relaxed);
        if (head == consumer_.cached_tail) {
            consumer_.cached_tail = producer_.tail.load(std::memory_order_acquire);
            if (head == consumer_.cached_tail) {
                return false;
            }
        }
        std::memcpy(&event, slots_[head & mask_].bytes, sizeof(T));
        consumer_.head.store(head + 1, std::memory_order_release);
        return true;
    }

    // Events pushed and not yet popped; a snapshot when both sides run.
    std::size_t size() const noexcept {
        std::uint64_t head = consumer_.head.load(std::memory_order_acquire);
        std::uint64_t tail = producer_.tail.load(std::memory_order_acquire);
        // Head first, so tail >= head; the producer may have pushed more
        // (and the consumer popped more) in between, hence the clamp.
        std::uint64_t n = tail - head;
        return static_cast<std::size_t>(n > capacity() ? capacity() : n);
    }
    bool empty() const noexcept { return size() == 0; }
    std::size_t capacity() const noexcept { return static_cast<std::size_t>(mask_) + 1; }
    // Pushes refused because the ring was full, since construction.
    std::uint64_t dropped() const noexcept {
        return producer_.dropped.load(std::memory_order_relaxed);
    }

  private:
    static constexpr std::size_t kMaxCapacity = std::size_t{1} << 32;
    // Two lines, not one: some CPUs prefetch cache lines in adjacent pairs.
    static constexpr std::size_t kSeparation = 128;

    struct alignas(T) Slot {
        unsigned char bytes[sizeof(T)];
    };

    static std::size_t checked_capacity(std::size_t capacity) {
        if (capacity == 0 || !std::has_single_bit(capacity) || capacity > kMaxCapacity) {
            throw Error("event ring: capacity " + std::to_string(capacity) +
                        " is not a power of two between 1 and 2^32");
        }
        return capacity;
    }

    // Each side's indices on lines of their own: the producer writes tail,
    // the consumer writes head, and neither line bounces on every event.
    struct alignas(kSeparation) ProducerSide {
        std::atomic<std::uint64_t> tail{0};
        std::uint64_t cached_head = 0;  // producer's last look at head
        std::atomic<std::uint64_t> dropped{0};
    };
    struct alignas(kSeparation) ConsumerSide {
        std::atomic<std::uint64_t> head{0};
        std::uint64_t cached_tail = 0;  // consumer's last look at tail
    };

    // Read-only after construction, shared by both sides.
    alignas(kSeparation) const std::uint64_t mask_;
    std::unique_ptr<Slot[]> slots_;
    ProducerSide producer_;
    ConsumerSide consumer_;
};

}  // namespace qc::core
