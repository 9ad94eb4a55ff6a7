// Ticket spinlock and its RAII guard. Overridable arch headers (cpu.h,
// ticket_lock.h) are included with <> so the -I order, not the including
// file's directory, picks the implementation.
// The ticket primitives come from
// ticket_lock.h, which the target overrides with an LDAXR/STXR + WFE version.
// FIFO ordering matters here: four pCPUs hammer the same device locks and a
// test-and-set lock would let one pCPU starve another under TCG.
#pragma once
#include <ticket_lock.h>

class Spinlock {
public:
    constexpr Spinlock() = default;
    Spinlock(const Spinlock&) = delete;
    Spinlock& operator=(const Spinlock&) = delete;

    void lock() { ticket_acquire(word_); }
    void unlock() { ticket_release(word_); }
    bool is_locked() const { return ticket_is_locked(word_); }
    // Holder plus waiters: tickets taken and not yet released.
    u32 queued() const
    {
        const u16 owner = __atomic_load_n(&word_.owner, __ATOMIC_RELAXED);
        const u16 next = __atomic_load_n(&word_.next, __ATOMIC_RELAXED);
        return static_cast<u16>(next - owner);
    }

private:
    TicketWord word_{};
};

class [[nodiscard]] LockGuard {
public:
    explicit LockGuard(Spinlock& l) : lock_(l) { lock_.lock(); }
    ~LockGuard() { lock_.unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

private:
    Spinlock& lock_;
};
