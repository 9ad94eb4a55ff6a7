#pragma once

// EL2 stage 1: an identity map of the first 4 GiB (device below RAM, normal
// write-back memory from the RAM base), built once by the primary and then
// switched on by every pCPU.
//
// Boot order (boot.S): the primary clears .bss and calls mmu_prepare_el2()
// with its MMU off, which builds the tables and publishes the register
// values in g_el2_mmu; then every pCPU, the primary first, turns its MMU
// and caches on in assembly (el2_mmu_on) before any other C code runs or it
// stores anything to memory. A secondary reads g_el2_mmu with its MMU off:
// the primary wrote it with its own MMU off, straight to memory.

// Offsets of El2MmuRegs for boot.S.
#define EL2_MMU_MAIR 0
#define EL2_MMU_TCR 8
#define EL2_MMU_TTBR0 16
#define EL2_MMU_SCTLR 24
#define EL2_MMU_SIZE 32

#ifndef __ASSEMBLER__
#include "types.h"

struct El2MmuRegs {
    u64 mair;
    u64 tcr;
    u64 ttbr0;
    u64 sctlr;
};
static_assert(__builtin_offsetof(El2MmuRegs, mair) == EL2_MMU_MAIR);
static_assert(__builtin_offsetof(El2MmuRegs, tcr) == EL2_MMU_TCR);
static_assert(__builtin_offsetof(El2MmuRegs, ttbr0) == EL2_MMU_TTBR0);
static_assert(__builtin_offsetof(El2MmuRegs, sctlr) == EL2_MMU_SCTLR);
static_assert(sizeof(El2MmuRegs) == EL2_MMU_SIZE);

extern "C" El2MmuRegs g_el2_mmu;
extern "C" void mmu_prepare_el2();  // boot.S, primary, MMU off
void mmu_build_el2_tables(u64 ram_base, u64 ram_size);
#endif
