// The guest's platform (docs/architecture.md: what the guest sees) and
// architectural constants the tests check against.
#pragma once
#include "base.h"

namespace hw {

constexpr u32 kMaxCpus = 4;
constexpr uptr kUart = 0x0900'0000;
constexpr uptr kGicd = 0x0800'0000;
constexpr uptr kGicr = 0x080a'0000;
constexpr uptr kGicrStride = 0x2'0000;
constexpr uptr kGicrSgiFrame = 0x1'0000;
// An IPA between the UART and the virtio-mmio slots that nothing backs:
// the guest must get a synchronous external abort for it.
constexpr uptr kUnbackedIpa = 0x0a10'0000;
// Stage-1 probes (start.S builds these tables): VA -> unbacked IPA.
constexpr uptr kProbeVa = 0x8010'0000;          // L3 page -> kUnbackedIpa, Normal, executable
constexpr uptr kWalkL3Va = 0x8020'0000;         // L2 table entry -> L3 table at an unbacked IPA
constexpr uptr kWalkL2Va = 0xc000'0000;         // L1 table entry -> L2 table at an unbacked IPA
constexpr uptr kWalkL1Ttbr1 = 0x0a40'0000;      // TTBR1 base at an unbacked IPA
constexpr uptr kWalkL1Va = 0xffff'ff80'0000'0000; // first VA of the TTBR1 range (T1SZ = 25)

// PPIs (INTIDs) of QEMU's virt board, as its DT declares them.
constexpr u32 kPmuPpi = 23;
constexpr u32 kVtimerPpi = 27;
constexpr u32 kPtimerPpi = 30;
// SGI the harness uses to wake a waiting vCPU. Tests use 0-14.
constexpr u32 kKickSgi = 15;

} // namespace hw

// GICv3 register offsets (GIC architecture specification, IHI 0069).
enum class Gicd : u32 {
    Ctlr = 0x0000, // GICD_CTLR
};
enum class Gicr : u32 {
    Typer = 0x0008, // GICR_TYPER (64-bit)
    Waker = 0x0014, // GICR_WAKER
};
enum class GicrSgi : u32 {
    Igroupr0 = 0x0080,   // GICR_IGROUPR0
    Isenabler0 = 0x0100, // GICR_ISENABLER0
    Icenabler0 = 0x0180, // GICR_ICENABLER0
    Ispendr0 = 0x0200,   // GICR_ISPENDR0
    Icpendr0 = 0x0280,   // GICR_ICPENDR0
    Isactiver0 = 0x0300, // GICR_ISACTIVER0
    Icactiver0 = 0x0380, // GICR_ICACTIVER0
    Ipriorityr = 0x0400, // GICR_IPRIORITYR<n>
    Icfgr1 = 0x0c04,     // GICR_ICFGR1 (PPIs)
};
constexpr u32 kGicdCtlrEnableGrp1 = 1u << 1;
constexpr u32 kGicdCtlrAre = 1u << 4;
constexpr u32 kGicdCtlrRwp = 1u << 31;
constexpr u32 kWakerProcessorSleep = 1u << 1;
constexpr u32 kWakerChildrenAsleep = 1u << 2;

// ESR_ELx (Arm ARM D17.2.40).
namespace esr {
constexpr u64 ec(u64 e) { return bits(e, 31, 26); }
constexpr bool il(u64 e) { return (e & bit(25)) != 0; }
constexpr u64 iss(u64 e) { return bits(e, 24, 0); }
constexpr u64 kEcUnknown = 0x00;
constexpr u64 kEcIabtLow = 0x20;
constexpr u64 kEcIabtCur = 0x21;
constexpr u64 kEcDabtLow = 0x24;
constexpr u64 kEcDabtCur = 0x25;
// Data/instruction abort ISS fields.
constexpr bool isv(u64 e) { return (e & bit(24)) != 0; }
constexpr u64 isv_syndrome(u64 e) { return bits(e, 23, 14); } // SAS SSE SRT SF AR
constexpr bool fnv(u64 e) { return (e & bit(10)) != 0; }
constexpr bool cm(u64 e) { return (e & bit(8)) != 0; }
constexpr bool s1ptw(u64 e) { return (e & bit(7)) != 0; }
constexpr bool wnr(u64 e) { return (e & bit(6)) != 0; }
constexpr u64 fsc(u64 e) { return bits(e, 5, 0); }
constexpr u64 kFscSyncExternal = 0x10;
constexpr u64 fsc_walk_external(unsigned level) { return 0x14 | level; } // 0b0101LL
} // namespace esr

// Device accesses are single LDR/STR of a general-purpose register with no
// writeback, so an emulating hypervisor gets a full syndrome (ISV=1).
inline u32 mmio_read32(uptr a)
{
    u32 v;
    asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
    return v;
}
inline void mmio_write32(uptr a, u32 v) { asm volatile("str %w0, [%1]" ::"r"(v), "r"(a) : "memory"); }
inline u64 mmio_read64(uptr a)
{
    u64 v;
    asm volatile("ldr %0, [%1]" : "=r"(v) : "r"(a) : "memory");
    return v;
}
