// AArch64 CPU hints and barriers; overrides hyp/include/cpu.h.
#pragma once
#include "types.h"

inline void cpu_relax() { __asm__ volatile("yield" ::: "memory"); }
inline void cpu_wait_event() { __asm__ volatile("wfe" ::: "memory"); }
inline void cpu_send_event() { __asm__ volatile("dsb ish; sev" ::: "memory"); }
inline void cpu_wait_interrupt() { __asm__ volatile("dsb sy; wfi" ::: "memory"); }
inline void isb() { __asm__ volatile("isb" ::: "memory"); }
inline void dsb_sy() { __asm__ volatile("dsb sy" ::: "memory"); }
inline void dsb_ish() { __asm__ volatile("dsb ish" ::: "memory"); }
inline void dsb_ishst() { __asm__ volatile("dsb ishst" ::: "memory"); }

// New instructions at [va, va+size) written through the data cache: clean
// them to the point of unification and invalidate every pCPU's instruction
// cache (inner shareable), so any pCPU fetches them.
inline void sync_icache(u64 va, u64 size)
{
    u64 ctr;
    __asm__ volatile("mrs %0, ctr_el0" : "=r"(ctr));
    const u64 line = u64{4} << ((ctr >> 16) & 0xf); // DminLine, in bytes
    for (u64 a = va & ~(line - 1); a < va + size; a += line)
        __asm__ volatile("dc cvau, %0" ::"r"(a) : "memory");
    __asm__ volatile("dsb ish; ic ialluis; dsb ish; isb" ::: "memory");
}
