#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "spinlock.h"

namespace {

TEST(Spinlock, MutualExclusionUnderContention)
{
    Spinlock lock;
    // A non-atomic read-modify-write that tears without the lock.
    volatile u64 counter = 0;
    constexpr int kThreads = 4;
    constexpr int kIters = 20000;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; t++)
        threads.emplace_back([&] {
            for (int i = 0; i < kIters; i++) {
                LockGuard g(lock);
                counter = counter + 1;
            }
        });
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(counter, u64{kThreads} * kIters);
    EXPECT_FALSE(lock.is_locked());
}

TEST(Spinlock, GuardReleasesOnScopeExit)
{
    Spinlock lock;
    {
        LockGuard g(lock);
        EXPECT_TRUE(lock.is_locked());
    }
    EXPECT_FALSE(lock.is_locked());
}

TEST(Spinlock, TicketsAreServedInOrder)
{
    Spinlock lock;
    std::vector<int> order;
    lock.lock();
    // Threads queue one at a time (the next starts only once the previous
    // holds its ticket), so FIFO means they run in start order once released.
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; t++) {
        threads.emplace_back([&, t] {
            LockGuard g(lock);
            order.push_back(t);
        });
        while (lock.queued() != static_cast<u32>(t + 2))
            std::this_thread::yield();
    }
    lock.unlock();
    for (auto& t : threads)
        t.join();
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

TEST(Spinlock, WrapsAroundTheTicketCounter)
{
    Spinlock lock;
    for (int i = 0; i < 70000; i++) {
        lock.lock();
        lock.unlock();
    }
    EXPECT_FALSE(lock.is_locked());
}

} // namespace
