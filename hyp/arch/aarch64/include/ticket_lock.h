// AArch64 ticket lock: take a ticket with an exclusive pair, wait in WFE
// (the owner's store-release to the monitored word generates the wake-up
// event), release with a store-release of owner+1.
#pragma once
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
        // Our ticket is old>>16; done when it equals owner (old & 0xffff).
        "   eor   %w[tmp], %w[old], %w[old], ror #16\n"
        "   cbz   %w[tmp], 3f\n"
        "   sevl\n"
        "2: wfe\n"
        "   ldaxrh %w[tmp], [%[w]]\n"
        "   eor   %w[tmp], %w[tmp], %w[old], lsr #16\n"
        "   cbnz  %w[tmp], 2b\n"
        "3:\n"
        : [old] "=&r"(old), [tmp] "=&r"(tmp), [fail] "=&r"(fail)
        : [w] "r"(&w)
        : "memory");
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
