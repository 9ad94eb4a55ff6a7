// Accessors for the self-hosted debug registers (Arm ARM D2, D17.3): the
// breakpoint and watchpoint pairs are numbered in the instruction encoding,
// so indexed access needs a switch, like the list registers in sysreg.h.
#pragma once
#include <sysreg.h>  // <>: host tests substitute a fake (tests/unit/fake_arch)
#include "types.h"

#define DBG_PAIRS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

#define DBG_INDEXED(reg)                                                                 \
    inline u64 read_##reg(unsigned n)                                                    \
    {                                                                                    \
        u64 v = 0;                                                                       \
        switch (n) {                                                                     \
            DBG_PAIRS(DBG_READ_CASE_##reg)                                               \
        default: break;                                                                  \
        }                                                                                \
        return v;                                                                        \
    }                                                                                    \
    inline void write_##reg(unsigned n, u64 v)                                           \
    {                                                                                    \
        switch (n) {                                                                     \
            DBG_PAIRS(DBG_WRITE_CASE_##reg)                                              \
        default: break;                                                                  \
        }                                                                                \
    }

#define DBG_READ_CASE_dbgbvr(n) case n: __asm__ volatile("mrs %0, dbgbvr" #n "_el1" : "=r"(v)); break;
#define DBG_READ_CASE_dbgbcr(n) case n: __asm__ volatile("mrs %0, dbgbcr" #n "_el1" : "=r"(v)); break;
#define DBG_READ_CASE_dbgwvr(n) case n: __asm__ volatile("mrs %0, dbgwvr" #n "_el1" : "=r"(v)); break;
#define DBG_READ_CASE_dbgwcr(n) case n: __asm__ volatile("mrs %0, dbgwcr" #n "_el1" : "=r"(v)); break;
#define DBG_WRITE_CASE_dbgbvr(n) case n: __asm__ volatile("msr dbgbvr" #n "_el1, %0" ::"r"(v)); break;
#define DBG_WRITE_CASE_dbgbcr(n) case n: __asm__ volatile("msr dbgbcr" #n "_el1, %0" ::"r"(v)); break;
#define DBG_WRITE_CASE_dbgwvr(n) case n: __asm__ volatile("msr dbgwvr" #n "_el1, %0" ::"r"(v)); break;
#define DBG_WRITE_CASE_dbgwcr(n) case n: __asm__ volatile("msr dbgwcr" #n "_el1, %0" ::"r"(v)); break;

DBG_INDEXED(dbgbvr)
DBG_INDEXED(dbgbcr)
DBG_INDEXED(dbgwvr)
DBG_INDEXED(dbgwcr)

#undef DBG_INDEXED
#undef DBG_READ_CASE_dbgbvr
#undef DBG_READ_CASE_dbgbcr
#undef DBG_READ_CASE_dbgwvr
#undef DBG_READ_CASE_dbgwcr
#undef DBG_WRITE_CASE_dbgbvr
#undef DBG_WRITE_CASE_dbgbcr
#undef DBG_WRITE_CASE_dbgwvr
#undef DBG_WRITE_CASE_dbgwcr
#undef DBG_PAIRS
