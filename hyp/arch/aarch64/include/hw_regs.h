// Bit layouts of the EL2 control registers the hypervisor programs (Arm ARM
// chapter D17), named once so the code reads like the spec.
#pragma once
#include "types.h"

namespace hcr {
constexpr u64 VM = bit(0);    // stage-2 translation
constexpr u64 SWIO = bit(1);  // set/way invalidate -> clean+invalidate
constexpr u64 FMO = bit(3);   // physical FIQ to EL2, virtual FIQ to EL1
constexpr u64 IMO = bit(4);   // physical IRQ to EL2, virtual IRQ to EL1; also traps ICC_SGI*R
constexpr u64 AMO = bit(5);   // SError to EL2
constexpr u64 FB = bit(9);    // broadcast TLB/cache maintenance within the inner shareable domain
constexpr u64 BSU_IS = u64{1} << 10;
constexpr u64 TWI = bit(13);  // trap WFI
constexpr u64 TWE = bit(14);  // trap WFE
constexpr u64 TSC = bit(19);  // trap SMC (else a guest SMC reaches QEMU's firmware directly)
constexpr u64 TID1 = bit(16); // trap REVIDR_EL1, AIDR_EL1, SMIDR_EL1 reads
constexpr u64 TID3 = bit(18); // trap ID register space reads (cpu_features.h)
constexpr u64 RW = bit(31);   // EL1 is AArch64
constexpr u64 TERR = bit(36); // trap RAS error record accesses (FEAT_RAS)
constexpr u64 APK = bit(40);  // no trap on pointer-auth key registers
constexpr u64 API = bit(41);  // no trap on pointer-auth instructions
} // namespace hcr

namespace esr {
constexpr u64 ec(u64 esr) { return esr >> 26; }
constexpr u64 iss(u64 esr) { return esr & mask(25); }
constexpr u64 IL = bit(25);
enum class Ec : u8 {
    Unknown = 0x00,
    Wfx = 0x01,
    Cp15Mcr = 0x03,        // AArch32 MCR/MRC to CP15
    Cp15Mcrr = 0x04,       // AArch32 MCRR/MRRC to CP15
    Cp14Mcr = 0x05,        // AArch32 MCR/MRC to CP14
    Cp14Ldc = 0x06,        // AArch32 LDC/STC to CP14
    Cp14Mrrc = 0x0c,       // AArch32 MRRC to CP14
    Hvc64 = 0x16,
    Smc64 = 0x17,
    Sysreg = 0x18,
    IabtLow = 0x20,
    IabtCur = 0x21,
    DabtLow = 0x24,
    DabtCur = 0x25,
    BreakpointLow = 0x30,  // hardware breakpoint from a lower EL
    BreakpointCur = 0x31,
    SoftStepLow = 0x32,    // software step from a lower EL
    SoftStepCur = 0x33,
    Bkpt32 = 0x38,         // BKPT instruction (AArch32)
    Brk64 = 0x3c,          // BRK instruction (AArch64), ISS = its immediate
};
// Data/Instruction Abort ISS fields (Arm ARM D17.2.40, D17.2.37).
constexpr u64 kWnr = bit(6);   // write, not read
constexpr u64 kS1ptw = bit(7); // stage-2 fault on a stage-1 table walk (ESR_EL2)
constexpr u64 kCm = bit(8);    // cache maintenance
constexpr u64 kFscSyncExternal = 0x10;      // synchronous External abort
constexpr u64 kFscSyncExternalWalk = 0x14;  // ... on a translation table walk, + level (0-3)
} // namespace esr

namespace cptr {
// CPTR_EL2 (HCR_EL2.E2H = 0): RES1 bits 0-7, 9, 13; bit 12 is TSM with
// FEAT_SME and RES1 without, so SME always traps.
constexpr u64 kRes1 = 0xff | bit(9) | bit(12) | bit(13);
constexpr u64 TZ = bit(8);    // trap SVE
constexpr u64 TFP = bit(10);  // trap FP/SIMD
constexpr u64 TTA = bit(20);  // trap trace registers
constexpr u64 TAM = bit(30);  // trap activity monitor registers (FEAT_AMUv1)
} // namespace cptr

namespace spsr {
constexpr u64 kModeMask = 0xf;
constexpr u64 EL0t = 0x0;
constexpr u64 EL1t = 0x4;
constexpr u64 EL1h = 0x5;
constexpr u64 kDaifMasked = 0xfu << 6;
constexpr u64 SS = bit(21);   // software step: the next instruction is stepped
} // namespace spsr

namespace mdcr {
constexpr u64 kHpmnMask = 0x1f; // HPMN: event counters 0..HPMN-1 are EL0/EL1's
constexpr u64 TPMCR = bit(5); // trap PMCR_EL0
constexpr u64 TPM = bit(6);   // trap every PMU register
constexpr u64 TDE = bit(8);   // debug exceptions from EL0/EL1 to EL2; traps every debug register access
constexpr u64 HPMD = bit(17); // no event counting at EL2 (PMUv3p1)
constexpr u64 HCCD = bit(23); // no cycle counting at EL2 (PMUv3p5)
} // namespace mdcr

namespace mdscr {
constexpr u64 SS = bit(0);    // software step enabled
constexpr u64 MDE = bit(15);  // breakpoints and watchpoints enabled
} // namespace mdscr
