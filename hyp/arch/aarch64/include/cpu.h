// AArch64 CPU hints and barriers; overrides hyp/include/cpu.h.
#pragma once

inline void cpu_relax() { __asm__ volatile("yield" ::: "memory"); }
inline void cpu_wait_event() { __asm__ volatile("wfe" ::: "memory"); }
inline void cpu_send_event() { __asm__ volatile("dsb ish; sev" ::: "memory"); }
inline void cpu_wait_interrupt() { __asm__ volatile("dsb sy; wfi" ::: "memory"); }
inline void isb() { __asm__ volatile("isb" ::: "memory"); }
inline void dsb_sy() { __asm__ volatile("dsb sy" ::: "memory"); }
inline void dsb_ish() { __asm__ volatile("dsb ish" ::: "memory"); }
inline void dsb_ishst() { __asm__ volatile("dsb ishst" ::: "memory"); }
