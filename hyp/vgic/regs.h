// GICv3 register layout as the guest sees it: distributor, redistributor
// (RD and SGI frames) and the EL2 virtual-interface registers the list
// register code encodes. Offsets are relative to each frame's base.
#pragma once
#include "types.h"

namespace vgic {

enum class Gicd : u32 {
    Ctlr = 0x0000,       // GICD_CTLR
    Typer = 0x0004,      // GICD_TYPER
    Iidr = 0x0008,       // GICD_IIDR
    Typer2 = 0x000c,     // GICD_TYPER2
    Statusr = 0x0010,    // GICD_STATUSR
    Igroupr = 0x0080,    // GICD_IGROUPR<n>
    Isenabler = 0x0100,  // GICD_ISENABLER<n>
    Icenabler = 0x0180,  // GICD_ICENABLER<n>
    Ispendr = 0x0200,    // GICD_ISPENDR<n>
    Icpendr = 0x0280,    // GICD_ICPENDR<n>
    Isactiver = 0x0300,  // GICD_ISACTIVER<n>
    Icactiver = 0x0380,  // GICD_ICACTIVER<n>
    Ipriorityr = 0x0400, // GICD_IPRIORITYR<n>
    Itargetsr = 0x0800,  // GICD_ITARGETSR<n>
    Icfgr = 0x0c00,      // GICD_ICFGR<n>
    Igrpmodr = 0x0d00,   // GICD_IGRPMODR<n>
    Nsacr = 0x0e00,      // GICD_NSACR<n>
    Sgir = 0x0f00,       // GICD_SGIR
    Irouter = 0x6000,    // GICD_IROUTER<n>, 8 bytes per INTID
    Pidr2 = 0xffe8,      // GICD_PIDR2
};

// RD_base frame of one redistributor.
enum class Gicr : u32 {
    Ctlr = 0x0000,      // GICR_CTLR
    Iidr = 0x0004,      // GICR_IIDR
    Typer = 0x0008,     // GICR_TYPER (64-bit)
    Statusr = 0x0010,   // GICR_STATUSR
    Waker = 0x0014,     // GICR_WAKER
    Propbaser = 0x0070, // GICR_PROPBASER
    Pendbaser = 0x0078, // GICR_PENDBASER
    Pidr2 = 0xffe8,     // GICR_PIDR2
};

// SGI_base frame, relative to its own base (RD_base + kGicrSgiFrame).
enum class GicrSgi : u32 {
    Igroupr0 = 0x0080,   // GICR_IGROUPR0
    Isenabler0 = 0x0100, // GICR_ISENABLER0
    Icenabler0 = 0x0180, // GICR_ICENABLER0
    Ispendr0 = 0x0200,   // GICR_ISPENDR0
    Icpendr0 = 0x0280,   // GICR_ICPENDR0
    Isactiver0 = 0x0300, // GICR_ISACTIVER0
    Icactiver0 = 0x0380, // GICR_ICACTIVER0
    Ipriorityr = 0x0400, // GICR_IPRIORITYR<n>, n = 0..7
    Icfgr0 = 0x0c00,     // GICR_ICFGR0 (SGIs)
    Icfgr1 = 0x0c04,     // GICR_ICFGR1 (PPIs)
    Igrpmodr0 = 0x0d00,  // GICR_IGRPMODR0
    Nsacr = 0x0e00,      // GICR_NSACR
};

constexpr u64 off(Gicd r) { return static_cast<u64>(r); }
constexpr u64 off(Gicr r) { return static_cast<u64>(r); }
constexpr u64 off(GicrSgi r) { return static_cast<u64>(r); }

constexpr u64 kGicdSize = 0x10000;
constexpr u64 kGicrSgiFrame = 0x10000; // SGI_base - RD_base
constexpr u64 kGicrStride = 0x20000;   // one RD + SGI frame pair per vCPU

// Each bit-per-interrupt register bank spans 32 words (INTIDs 0..1023).
constexpr u64 kBitBankSize = 0x80;

// GICD_CTLR with DS=1 (single Security state).
constexpr u32 kCtlrEnableGrp0 = 1u << 0;
constexpr u32 kCtlrEnableGrp1 = 1u << 1;
constexpr u32 kCtlrAre = 1u << 4;
constexpr u32 kCtlrDs = 1u << 6;
constexpr u32 kCtlrRwp = 1u << 31;

// GICD_TYPER fields.
constexpr unsigned kTyperIdBitsShift = 19; // IDbits [23:19]: INTID bits - 1
constexpr u32 kTyperA3v = 1u << 24;
constexpr u32 kTyperNo1n = 1u << 25;

// GICR_TYPER fields.
constexpr u64 kGicrTyperLast = bit(4);
constexpr unsigned kGicrTyperProcNumShift = 8; // Processor_Number [23:8]
constexpr unsigned kGicrTyperAffShift = 32;    // Affinity_Value [63:32]

// GICR_WAKER.
constexpr u32 kWakerProcessorSleep = 1u << 1;
constexpr u32 kWakerChildrenAsleep = 1u << 2;

// Identification: ArchRev (PIDR2[7:4]) = 3 is what Linux checks for GICv3.
constexpr u32 kIidr = 0x0100043b;
constexpr u32 kPidr2 = 0x3b;

// IROUTER: Aff0 [7:0], Aff1 [15:8], Aff2 [23:16], IRM [31], Aff3 [39:32].
constexpr u64 kIrouterIrm = bit(31);
constexpr u64 kIrouterMask = 0xff'80ff'ffffull;

// ICH_LR<n>_EL2.
constexpr unsigned kLrVintidShift = 0;  // vINTID [31:0]
constexpr unsigned kLrPintidShift = 32; // pINTID [41:32], only when HW=1
constexpr u64 kLrEoi = bit(41);         // maintenance on deactivation, HW=0
constexpr unsigned kLrPriorityShift = 48; // Priority [55:48]
constexpr u64 kLrGroup = bit(60);
constexpr u64 kLrHw = bit(61);
constexpr unsigned kLrStateShift = 62; // State [63:62]
constexpr u8 kStatePending = 1;
constexpr u8 kStateActive = 2;

constexpr u8 lr_state(u64 lr) { return static_cast<u8>(lr >> kLrStateShift); }
constexpr u32 lr_vintid(u64 lr) { return static_cast<u32>(bits(lr, 31, 0)); }

// ICH_HCR_EL2.
constexpr u64 kHcrEn = bit(0);
constexpr u64 kHcrUie = bit(1);

} // namespace vgic
