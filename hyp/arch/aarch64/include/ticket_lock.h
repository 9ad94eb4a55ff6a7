// AArch64 ticket lock: take a ticket with an exclusive pair, wait in WFE
// (the owner's store-release to the monitored word generates the wake-up
// event), release with a store-release of owner+1. A waiter also watches
// the panic stop flag (hyp_stop.h): the owner may be a pCPU that panicked
// holding the lock, and the lock would then never come.
#pragma once
#include "hyp_stop.h"
#include "ticket_word.h"

inline void ticket_acquire(TicketWord& w)
{
    u32 old, tmp, fail;
    __asm__ volatile(
        "   prfm  pstl1strm, [%[w]]\n"
        "1: ldaxr %w[old], [%[w]]\n"
        "   add   %w[tmp], %w[old], #0x10000\n"
        "   stxr  %w[fail], %w[tmp], [%[w]]\n"
        "   cbnz  %w[fail], 1b\n"
        : [old] "=&r"(old), [tmp] "=&r"(tmp), [fail] "=&r"(fail)
        : [w] "r"(&w)
        : "memory");
    // Our ticket is old>>16; done when it equals owner (old & 0xffff).
    const u32 mine = old >> 16;
    if ((old & 0xffff) == mine)
        return;
    __asm__ volatile("sevl" ::: "memory");
    for (;;) {
        u32 owner;
        __asm__ volatile(
            "   wfe\n"
            "   ldaxrh %w[owner], [%[w]]\n"
            : [owner] "=&r"(owner)
            : [w] "r"(&w)
            : "memory");
        if (owner == mine)
            return;
        if (hyp_stopping()) [[unlikely]]
            hyp_stop_park();
    }
}

inline void ticket_release(TicketWord& w)
{
    u32 tmp;
    __asm__ volatile(
        "   ldrh  %w[tmp], [%[w]]\n"
        "   add   %w[tmp], %w[tmp], #1\n"
        "   stlrh %w[tmp], [%[w]]\n"
        : [tmp] "=&r"(tmp)
        : [w] "r"(&w)
        : "memory");
}

inline bool ticket_is_locked(const TicketWord& w)
{
    const u32 v = __atomic_load_n(reinterpret_cast<const u32*>(&w), __ATOMIC_RELAXED);
    return (v & 0xffff) != (v >> 16);
}
