#include "config.h"
#include <cpu.h>
#include "log.h"
#include "mmu.h"
#include "sysreg.h"

namespace {
// Stage-2 descriptor fields (Arm ARM D8.3, D8.5).
constexpr u64 kBlock = 0b01;
constexpr u64 kTable = 0b11;
constexpr u64 kMemAttrNormalWb = u64{0xf} << 2;
constexpr u64 kS2apRw = u64{3} << 6;
constexpr u64 kShInner = u64{3} << 8;
constexpr u64 kAf = bit(10);

// VTCR_EL2: 39-bit IPA starting at level 1, 4 KiB granule, 40-bit PA.
constexpr u64 kVtcr = 25 /*T0SZ*/ | (u64{1} << 6) /*SL0: level 1*/ | (u64{1} << 8) /*IRGN0*/ |
                      (u64{1} << 10) /*ORGN0*/ | (u64{3} << 12) /*SH0*/ | (u64{2} << 16) /*PS*/ | bit(31);

// One level-1 table (1 GiB per entry) and enough level-2 tables (2 MiB
// blocks) for guest RAM anywhere below 4 GiB.
constexpr unsigned kL2Tables = 4;
alignas(4096) u64 g_s2_l1[512];
alignas(4096) u64 g_s2_l2[kL2Tables][512];
} // namespace

void stage2_build(u64 ipa, u64 pa, u64 size)
{
    if ((ipa | pa | size) & (2 * MiB - 1))
        hyp_panic("stage 2: guest RAM ipa 0x%llx pa 0x%llx size 0x%llx not 2 MiB aligned",
                  static_cast<unsigned long long>(ipa), static_cast<unsigned long long>(pa),
                  static_cast<unsigned long long>(size));
    if (ipa + size > kL2Tables * GiB)
        hyp_panic("stage 2: guest RAM must end below %u GiB", kL2Tables);
    for (u64 off = 0; off < size; off += 2 * MiB) {
        const u64 a = ipa + off;
        const u64 l1 = a / GiB;
        const u64 l2 = (a % GiB) / (2 * MiB);
        g_s2_l1[l1] = reinterpret_cast<u64>(g_s2_l2[l1]) | kTable;
        g_s2_l2[l1][l2] = (pa + off) | kBlock | kMemAttrNormalWb | kS2apRw | kShInner | kAf;
    }
    dsb_ish();
}

u64 stage2_root() { return reinterpret_cast<u64>(g_s2_l1); }

void stage2_enable(u16 vmid)
{
    write_vtcr_el2(kVtcr);
    write_vttbr_el2((u64{vmid} << 48) | stage2_root());
    isb();
    // Stale stage-1+2 entries for this VMID from a previous boot must go.
    __asm__ volatile("tlbi vmalls12e1is; dsb ish" ::: "memory");
    isb();
}
