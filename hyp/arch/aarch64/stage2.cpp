// Stage-2 tables per VM. Guest RAM is the only thing mapped: the hypervisor's
// memory, QEMU's DTB, other VMs' RAM and every MMIO window stay unmapped, so
// any access to them faults to EL2 (devices are emulated, the rest becomes
// an abort injected into the guest).
#include "stage2.h"

#include <cpu.h>

#include "config.h"
#include "sysreg.h"

namespace {
// Stage-2 descriptor fields (Arm ARM D8.3, D8.5).
constexpr u64 kBlock = 0b01;
constexpr u64 kTable = 0b11;
constexpr u64 kMemAttrNormalWb = u64{0xf} << 2;
constexpr u64 kS2apRw = u64{3} << 6;
constexpr u64 kShInner = u64{3} << 8;
constexpr u64 kAf = bit(10);

// VTCR_EL2: 39-bit IPA starting at level 1, 4 KiB granule, 40-bit PA,
// 16-bit VMID is not needed (8 bits: VS = 0).
constexpr u64 kVtcr = 25 /*T0SZ*/ | (u64{1} << 6) /*SL0: level 1*/ | (u64{1} << 8) /*IRGN0*/ |
                      (u64{1} << 10) /*ORGN0*/ | (u64{3} << 12) /*SH0*/ | (u64{2} << 16) /*PS*/ | bit(31);

// Per VM: one level-1 table (1 GiB per entry) and enough level-2 tables
// (2 MiB blocks) for guest RAM anywhere below 4 GiB of IPA space.
constexpr unsigned kL2Tables = 4;
struct Tables {
    alignas(4096) u64 l1[512];
    alignas(4096) u64 l2[kL2Tables][512];
};
Tables g_tables[kMaxVms];
u32 g_used;
} // namespace

const char* stage2_create(Stage2& s2, u16 vmid, u64 ipa, u64 pa, u64 size)
{
    if ((ipa | pa | size) & (2 * MiB - 1))
        return "stage 2: guest RAM must be 2 MiB aligned";
    if (ipa + size > kL2Tables * GiB)
        return "stage 2: guest RAM must end below IPA 4 GiB";
    if (g_used == kMaxVms)
        return "stage 2: no tables left (kMaxVms)";
    Tables& t = g_tables[g_used++];
    for (u64 off = 0; off < size; off += 2 * MiB) {
        const u64 a = ipa + off;
        const u64 l1 = a / GiB;
        const u64 l2 = (a % GiB) / (2 * MiB);
        t.l1[l1] = reinterpret_cast<u64>(t.l2[l1]) | kTable;
        t.l2[l1][l2] = (pa + off) | kBlock | kMemAttrNormalWb | kS2apRw | kShInner | kAf;
    }
    dsb_ish();
    s2.vttbr = (u64{vmid} << 48) | reinterpret_cast<u64>(t.l1);
    return nullptr;
}

void stage2_load(const Stage2& s2)
{
    write_vtcr_el2(kVtcr);
    write_vttbr_el2(s2.vttbr);
    isb();
}

void stage2_flush_tlbs(const Stage2& s2)
{
    // TLBI VMALLS12E1IS acts on the VMID in VTTBR_EL2: borrow s2's for it.
    const u64 saved = read_vttbr_el2();
    write_vttbr_el2(s2.vttbr);
    isb();
    __asm__ volatile("tlbi vmalls12e1is; dsb ish" ::: "memory");
    write_vttbr_el2(saved);
    isb();
}
