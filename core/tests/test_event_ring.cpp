#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>

#include "allocation_counter.hpp"
#include "quietcore/core/error.hpp"
#include "quietcore/core/event_ring.hpp"

namespace qc::core {
namespace {

using ::testing::HasSubstr;

// What a worker might report: an isolation break with its cause.
struct BreakEvent {
    std::uint64_t timestamp;
    std::uint32_t cpu;
    std::uint16_t cause;
    std::uint16_t detail;
};

TEST(SpscRing, RejectsCapacitiesThatAreNotPowersOfTwoNamingThem) {
    for (std::size_t bad : {std::size_t{0}, std::size_t{3}, std::size_t{6}, std::size_t{1000},
                            std::size_t{1} << 33}) {
        try {
            SpscRing<int> ring(bad);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const Error& e) {
            EXPECT_THAT(e.what(), HasSubstr("capacity " + std::to_string(bad) + " "));
        }
    }
}

TEST(SpscRing, StartsEmptyWithTheGivenCapacity) {
    SpscRing<int> ring(16);
    EXPECT_EQ(ring.capacity(), 16u);
    EXPECT_EQ(ring.size(), 0u);
    EXPECT_TRUE(ring.empty());
    EXPECT_EQ(ring.dropped(), 0u);
    int out = -1;
    EXPECT_FALSE(ring.try_pop(out));
    EXPECT_EQ(out, -1);  // untouched on failure
}

TEST(SpscRing, PopsInPushOrderAndCountsDropsWhenFull) {
    SpscRing<int> ring(8);
    for (int i = 1; i <= 8; ++i) {
        EXPECT_TRUE(ring.try_push(i));
        EXPECT_EQ(ring.size(), static_cast<std::size_t>(i));
    }
    EXPECT_FALSE(ring.try_push(9));
    EXPECT_FALSE(ring.try_push(10));
    EXPECT_EQ(ring.dropped(), 2u);
    EXPECT_EQ(ring.size(), 8u);

    int out = 0;
    for (int i = 1; i <= 8; ++i) {
        ASSERT_TRUE(ring.try_pop(out));
        EXPECT_EQ(out, i);  // 9 and 10 were dropped, not queued
    }
    EXPECT_FALSE(ring.try_pop(out));
    EXPECT_TRUE(ring.empty());
    // Room again: pushes succeed and the drop count stays.
    EXPECT_TRUE(ring.try_push(11));
    EXPECT_EQ(ring.dropped(), 2u);
}

TEST(SpscRing, CapacityOneHoldsOneEvent) {
    SpscRing<int> ring(1);
    EXPECT_TRUE(ring.try_push(5));
    EXPECT_FALSE(ring.try_push(6));
    int out = 0;
    EXPECT_TRUE(ring.try_pop(out));
    EXPECT_EQ(out, 5);
    EXPECT_TRUE(ring.try_push(7));
    EXPECT_TRUE(ring.try_pop(out));
    EXPECT_EQ(out, 7);
    EXPECT_EQ(ring.dropped(), 1u);
}

TEST(SpscRing, KeepsOrderAcrossManyWrapArounds) {
    SpscRing<std::uint64_t> ring(4);
    std::uint64_t next_push = 0, next_pop = 0;
    for (int round = 0; round < 10'000; ++round) {
        // Uneven batches so the indices wrap at every offset.
        for (int i = 0; i < 1 + round % 4; ++i) {
            ASSERT_TRUE(ring.try_push(next_push++));
        }
        for (int i = 0; i < 1 + round % 4; ++i) {
            std::uint64_t out = 0;
            ASSERT_TRUE(ring.try_pop(out));
            ASSERT_EQ(out, next_pop++);
        }
    }
    EXPECT_EQ(ring.dropped(), 0u);
    EXPECT_TRUE(ring.empty());
}

TEST(SpscRing, CopiesStructEventsWhole) {
    SpscRing<BreakEvent> ring(2);
    ASSERT_TRUE(ring.try_push(BreakEvent{123456789012345ULL, 3, 2, 0xbeef}));
    BreakEvent out{};
    ASSERT_TRUE(ring.try_pop(out));
    EXPECT_EQ(out.timestamp, 123456789012345ULL);
    EXPECT_EQ(out.cpu, 3u);
    EXPECT_EQ(out.cause, 2u);
    EXPECT_EQ(out.detail, 0xbeefu);
}

TEST(SpscRing, PushAndPopAllocateNothing) {
    SpscRing<BreakEvent> ring(64);
    {
        qc::test::AllocationCounter counter;
        for (std::uint64_t i = 0; i < 100'000; ++i) {
            ring.try_push(BreakEvent{i, 1, 1, 1});
            if (i % 3 == 0) {  // let it fill up so the drop path runs too
                BreakEvent out;
                ring.try_pop(out);
            }
        }
        EXPECT_EQ(counter.allocations(), 0u);
    }
    EXPECT_GT(ring.dropped(), 0u);
}

// The worker retries until each push lands: every number arrives, in order.
TEST(SpscRingThreads, PassesMillionsOfSequenceNumbersInOrder) {
    constexpr std::uint64_t kCount = 2'000'000;
    SpscRing<std::uint64_t> ring(1024);
    std::uint64_t refused = 0;
    std::thread producer([&] {
        for (std::uint64_t i = 0; i < kCount; ++i) {
            while (!ring.try_push(i)) {
                ++refused;
                std::this_thread::yield();
            }
        }
    });

    std::uint64_t expected = 0, out_of_order = 0;
    while (expected < kCount) {
        std::uint64_t v;
        if (ring.try_pop(v)) {
            out_of_order += v != expected ? 1 : 0;
            expected = v + 1;
        } else {
            std::this_thread::yield();
        }
    }
    producer.join();
    EXPECT_EQ(out_of_order, 0u);
    EXPECT_EQ(ring.dropped(), refused);  // a refused push is a counted drop
    EXPECT_TRUE(ring.empty());
}

// The worker never retries: what does not fit is dropped and counted, and
// what arrives is in order with nothing else missing.
TEST(SpscRingThreads, LosesOnlyCountedDropsWhenTheConsumerFallsBehind) {
    constexpr std::uint64_t kCount = 4'000'000;
    SpscRing<std::uint64_t> ring(256);
    std::atomic<bool> done{false};
    std::uint64_t dropped_sum = 0, dropped_count = 0;
    std::thread producer([&] {
        for (std::uint64_t i = 0; i < kCount; ++i) {
            if (!ring.try_push(i)) {
                dropped_sum += i;
                ++dropped_count;
            }
        }
        done.store(true, std::memory_order_release);
    });

    std::uint64_t received = 0, received_sum = 0, reordered = 0;
    std::uint64_t last = 0;
    bool any = false;
    for (;;) {
        bool finished = done.load(std::memory_order_acquire);
        std::uint64_t v;
        bool got = false;
        while (ring.try_pop(v)) {
            got = true;
            reordered += any && v <= last ? 1 : 0;
            last = v;
            any = true;
            ++received;
            received_sum += v;
        }
        if (finished) {
            break;  // everything pushed before `done` has been drained above
        }
        if (!got) {
            std::this_thread::yield();
        }
    }
    producer.join();

    EXPECT_EQ(reordered, 0u);
    EXPECT_EQ(ring.dropped(), dropped_count);
    EXPECT_EQ(received + dropped_count, kCount);
    EXPECT_EQ(received_sum + dropped_sum, kCount * (kCount - 1) / 2);  // nothing lost silently
    EXPECT_GT(received, 0u);
}

}  // namespace
}  // namespace qc::core
