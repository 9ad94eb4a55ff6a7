// What the guest learns about the CPU: the per-feature decision (passed to
// the guest and virtualized by the hypervisor, or hidden) and the sanitized
// ID registers that follow from it. HCR_EL2.TID3 traps every read of the
// ID register space (op0=3, op1=0, CRn=0, CRm=1..7) and the trap handler
// answers from the view built here; docs/architecture.md has the table.
//
// Generic and constexpr-driven so the host unit tests check the policy; the
// arch layer reads the hardware values once at boot (arch cpu_features_init).
#pragma once
#include "sysreg_key.h"
#include "types.h"

namespace cpufeat {

// The ID register space TID3 traps: [CRm][op2], CRm 1..7 (row 0 unused).
struct IdSpace {
    u64 r[8][8]{};
};

// Per-feature decisions, from the hardware's ID registers.
struct Decisions {
    bool pauth;  // address or generic authentication: keys switched per vCPU
    bool sve;    // Z/P/FFR/ZCR_EL1 switched per vCPU, VL capped by ZCR_EL2
    bool pmu;      // a PMUv3: the guest's, registers switched, never counting EL2
    bool pmu_trap; // ... before PMUv3p5: every access trapped and emulated, so
                   // that the EL2 filter bit (NSH) is never set (pmu.h)
    bool pmu_hw;   // the hardware has a PMUv3 at all
    bool ras;    // FEAT_RAS in hardware (hidden: error records trapped, HCR_EL2.TERR)
    bool amu;    // activity monitors in hardware (hidden: CPTR_EL2.TAM)
};

// An ID register field: bits [lo, lo+4).
constexpr u64 field(unsigned lo) { return u64{0xf} << lo; }
constexpr u64 field_val(u64 reg, unsigned lo) { return (reg >> lo) & 0xf; }

enum class When : u8 { Always, Pauth, Sve, Pmu };

// Fields passed to the guest unchanged, per register and condition. Any
// field (or register) not listed reads as zero: a feature is hidden unless
// the hypervisor handles it.
struct KeepRule {
    u8 crm, op2;
    When when;
    u64 mask;
};

// Field positions (Arm ARM D19.2) the policy and the decisions name.
namespace f {
// ID_AA64PFR0_EL1
constexpr unsigned kPfr0El2 = 8, kPfr0Ras = 28, kPfr0Sve = 32, kPfr0Amu = 44;
// ID_AA64PFR1_EL1
constexpr unsigned kPfr1Mte = 8, kPfr1Sme = 24;
// ID_AA64DFR0_EL1
constexpr unsigned kDfr0PmuVer = 8;
// ID_AA64ISAR1_EL1 / ISAR2
constexpr unsigned kIsar1Apa = 4, kIsar1Api = 8, kIsar1Gpa = 24, kIsar1Gpi = 28;
constexpr unsigned kIsar2Gpa3 = 8, kIsar2Apa3 = 12;
// ID_DFR0_EL1 (AArch32)
constexpr unsigned kDfr0A32PerfMon = 24;
} // namespace f

// ID_AA64DFR0_EL1.PMUVer values.
constexpr u64 kPmuVerV3 = 1, kPmuVerV3p1 = 4, kPmuVerV3p5 = 6, kPmuVerImpDef = 0xf;
// The highest PMU version a trapped PMU is advertised as: the emulation
// covers the PMUv3p1 registers (not PMMIR_EL1, v3p4).
constexpr u64 kPmuVerTrappedMax = kPmuVerV3p1;

Decisions decide(const IdSpace& hw);
u64 sanitize(u32 crm, u32 op2, u64 hw, const Decisions& d);
void build_view(const IdSpace& hw, const Decisions& d, IdSpace& out);

// The key of an ID register TID3 traps, or false.
constexpr bool in_id_space(u32 key)
{
    return sysreg_key_op0(key) == 3 && sysreg_key_op1(key) == 0 && sysreg_key_crn(key) == 0 &&
           sysreg_key_crm(key) >= 1 && sysreg_key_crm(key) <= 7;
}

// What the hypervisor decided at boot (one CPU type on every pCPU).
struct State {
    bool ready;
    IdSpace hw;
    Decisions d;
    IdSpace view;
};
extern constinit State g_state;
// Fills g_state from the hardware values.
void init(const IdSpace& hw);
// The guest's value of the ID register `key` (in_id_space).
u64 guest_value(u32 key);

} // namespace cpufeat
