#pragma once
#include "types.h"

// EL2 stage 1: an identity map of the first 4 GiB (device below RAM, normal
// write-back memory from the RAM base), built once by the primary and then
// switched on by every pCPU.
void mmu_build_el2_tables(u64 ram_base, u64 ram_size);
void mmu_enable_el2();

// Stage 2 for the guest: guest RAM only, in 2 MiB blocks. Everything else
// (hypervisor memory, QEMU's DTB, every MMIO window) stays unmapped so the
// guest faults to EL2 on any access to it.
void stage2_build(u64 ipa, u64 pa, u64 size);
void stage2_enable(u16 vmid);   // VTCR/VTTBR on this pCPU + TLB invalidate
u64 stage2_root();
