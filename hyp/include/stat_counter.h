// Statistics counters: written by one owner at a time (under its lock),
// read by anyone without it (the exit table, Ctrl-] s). Relaxed atomics keep
// the unlocked reads defined; a snapshot may mix older and newer values.
#pragma once
#include "types.h"

inline void stat_add(u64& c, u64 n = 1) { __atomic_store_n(&c, c + n, __ATOMIC_RELAXED); }
inline u64 stat_read(const u64& c) { return __atomic_load_n(&c, __ATOMIC_RELAXED); }

// A copy of a struct made only of u64 counters, each read as above.
template <typename S>
S stat_snapshot(const S& s)
{
    static_assert(sizeof(S) % sizeof(u64) == 0 && alignof(S) == alignof(u64), "S must hold u64 counters only");
    S out;
    const u64* in = reinterpret_cast<const u64*>(&s);
    u64* o = reinterpret_cast<u64*>(&out);
    for (usize i = 0; i < sizeof(S) / sizeof(u64); i++)
        o[i] = __atomic_load_n(in + i, __ATOMIC_RELAXED);
    return out;
}
