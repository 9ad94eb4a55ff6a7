#include <cpu.h>
#include "log.h"
#include "mmu.h"
#include "sysreg.h"

namespace {
// Descriptor fields shared by EL2 stage 1 (Arm ARM D8.3).
constexpr u64 kBlock = 0b01;
constexpr u64 kAf = bit(10);
constexpr u64 kShInner = u64{3} << 8;
constexpr u64 kXn = bit(54);
constexpr u64 attr_index(u64 i) { return i << 2; }

// MAIR_EL2 slots.
constexpr u64 kAttrDevice = 0;   // Device-nGnRE
constexpr u64 kAttrNormal = 1;   // Normal, inner/outer write-back RW-allocate
constexpr u64 kMair = (u64{0x04} << (8 * kAttrDevice)) | (u64{0xff} << (8 * kAttrNormal));

// TCR_EL2 (non-VHE): 39-bit VA, 4 KiB granule, 40-bit PA, walks cacheable.
constexpr u64 kTcr = 25 /*T0SZ*/ | (u64{1} << 8) /*IRGN0 WBWA*/ | (u64{1} << 10) /*ORGN0*/ |
                     (u64{3} << 12) /*SH0 inner*/ | (u64{2} << 16) /*PS 40 bit*/ | bit(23) | bit(31) /*RES1*/;

// SCTLR_EL2: MMU, D-cache, SP alignment check, I-cache, plus RES1 bits.
constexpr u64 kSctlrRes1 = bit(4) | bit(5) | bit(11) | bit(16) | bit(18) | bit(22) | bit(23) | bit(28) | bit(29);
constexpr u64 kSctlr = kSctlrRes1 | bit(0) | bit(2) | bit(3) | bit(12);

// Level 1 covers 1 GiB per entry; 4 entries map 0..4 GiB.
alignas(4096) u64 g_el2_l1[512];

// QEMU's virt board: RAM (and its DTB) from 1 GiB. All of the first 4 GiB
// is mapped before the RAM size is known: libfdt makes unaligned accesses,
// which need Normal memory.
constexpr u64 kRamBase = 1 * GiB;
} // namespace

alignas(16) El2MmuRegs g_el2_mmu;

void mmu_prepare_el2()
{
    mmu_build_el2_tables(kRamBase, 4 * GiB - kRamBase);
    g_el2_mmu = {.mair = kMair, .tcr = kTcr, .ttbr0 = reinterpret_cast<u64>(g_el2_l1), .sctlr = kSctlr};
    dsb_sy();
}

void mmu_build_el2_tables(u64 ram_base, u64 ram_size)
{
    for (u64 i = 0; i < 4; i++) {
        const u64 pa = i * GiB;
        const bool ram = pa + GiB > ram_base && pa < ram_base + ram_size;
        g_el2_l1[i] = pa | kBlock | kAf | (ram ? attr_index(kAttrNormal) | kShInner : attr_index(kAttrDevice) | kXn);
    }
    dsb_ish();
}

