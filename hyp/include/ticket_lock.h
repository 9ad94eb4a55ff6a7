// Portable ticket lock used by host unit tests. The target build picks up
// hyp/arch/aarch64/include/ticket_lock.h instead (LDAXR/STXR + WFE).
#pragma once
#include <cpu.h>
#include "ticket_word.h"

inline void ticket_acquire(TicketWord& w)
{
    const u16 ticket = __atomic_fetch_add(&w.next, u16{1}, __ATOMIC_RELAXED);
    while (__atomic_load_n(&w.owner, __ATOMIC_ACQUIRE) != ticket)
        cpu_relax();
}

inline void ticket_release(TicketWord& w)
{
    const u16 next_owner = static_cast<u16>(w.owner + 1);
    __atomic_store_n(&w.owner, next_owner, __ATOMIC_RELEASE);
}

inline bool ticket_is_locked(const TicketWord& w)
{
    return __atomic_load_n(&w.owner, __ATOMIC_RELAXED) != __atomic_load_n(&w.next, __ATOMIC_RELAXED);
}
