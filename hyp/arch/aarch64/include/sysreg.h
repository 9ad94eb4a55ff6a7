// System register accessors: read_<name>()/write_<name>(v), one MRS/MSR
// each, generated from sysreg_list.h. Host unit tests replace this header
// (through the include path) with a fake register file of the same names.
#pragma once
#include "sysreg_list.h"
#include "types.h"

#define SYSREG_RO(name, enc)                                                             \
    inline u64 read_##name()                                                             \
    {                                                                                    \
        u64 v;                                                                           \
        __asm__ volatile("mrs %0, " #enc : "=r"(v));                                     \
        return v;                                                                        \
    }
#define SYSREG_WO(name, enc)                                                             \
    inline void write_##name(u64 v) { __asm__ volatile("msr " #enc ", %0" ::"r"(v) : "memory"); }
#define SYSREG_RW(name, enc) SYSREG_RO(name, enc) SYSREG_WO(name, enc)

SYSREG_LIST(SYSREG_RO, SYSREG_WO, SYSREG_RW)

#undef SYSREG_RO
#undef SYSREG_WO
#undef SYSREG_RW

// List registers are numbered in the instruction encoding, so indexed
// access needs a switch.
inline u64 read_ich_lr(unsigned n)
{
    switch (n) {
    case 0: return read_ich_lr0_el2();
    case 1: return read_ich_lr1_el2();
    case 2: return read_ich_lr2_el2();
    case 3: return read_ich_lr3_el2();
    default: return 0;
    }
}

inline void write_ich_lr(unsigned n, u64 v)
{
    switch (n) {
    case 0: write_ich_lr0_el2(v); break;
    case 1: write_ich_lr1_el2(v); break;
    case 2: write_ich_lr2_el2(v); break;
    case 3: write_ich_lr3_el2(v); break;
    default: break;
    }
}
