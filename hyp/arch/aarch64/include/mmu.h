#pragma once
#include "types.h"

// EL2 stage 1: an identity map of the first 4 GiB (device below RAM, normal
// write-back memory from the RAM base), built once by the primary and then
// switched on by every pCPU.
void mmu_build_el2_tables(u64 ram_base, u64 ram_size);
void mmu_enable_el2();
