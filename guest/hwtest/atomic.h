// Thin wrappers over the compiler's atomics. LDXR/STXR need Normal memory:
// use them only once the MMU is on (start.S turns it on before any C code).
#pragma once
#include "base.h"

template <typename T> T load_acquire(const T& x) { return __atomic_load_n(&x, __ATOMIC_ACQUIRE); }
template <typename T> T load_relaxed(const T& x) { return __atomic_load_n(&x, __ATOMIC_RELAXED); }
template <typename T> void store_release(T& x, T v) { __atomic_store_n(&x, v, __ATOMIC_RELEASE); }
template <typename T> void store_relaxed(T& x, T v) { __atomic_store_n(&x, v, __ATOMIC_RELAXED); }
template <typename T> T fetch_add(T& x, T v) { return __atomic_fetch_add(&x, v, __ATOMIC_ACQ_REL); }
template <typename T> T fetch_or(T& x, T v) { return __atomic_fetch_or(&x, v, __ATOMIC_ACQ_REL); }

// FIFO ticket lock.
struct Spinlock {
    u32 next{};
    u32 owner{};
    void lock()
    {
        const u32 t = __atomic_fetch_add(&next, 1u, __ATOMIC_RELAXED);
        while (load_acquire(owner) != t)
            asm volatile("yield");
    }
    void unlock() { store_release(owner, owner + 1); }
};
