// See cpu_features.h. The table is the policy: docs/architecture.md
// ("CPU features the guest sees") explains each decision.
#include "cpu_features.h"

namespace cpufeat {

constinit State g_state{};

namespace {

template <typename... L>
constexpr u64 fields(L... los)
{
    return (u64{0} | ... | field(static_cast<unsigned>(los)));
}

constexpr u64 kAll = ~u64{0};

constexpr KeepRule kKeep[] = {
    // AArch32 ID registers (CRm 1..3): they describe EL0's AArch32 state
    // only (EL1 is AArch64), which has nothing to switch beyond what the
    // AArch64 side has. Kept, except what the AArch64 side hides.
    {1, 0, When::Always, kAll},                                        // ID_PFR0_EL1
    {1, 1, When::Always, kAll & ~fields(12, 20)},                    // ID_PFR1_EL1: no Virtualization
    {1, 2, When::Always, kAll & ~fields(12, 16, 24, 28)},            // ID_DFR0_EL1: no trace, PerfMon...
    {1, 2, When::Pmu, field(f::kDfr0A32PerfMon)},                      //   ...unless the PMU is virtualized
    {1, 4, When::Always, kAll},                                        // ID_MMFR0_EL1
    {1, 5, When::Always, kAll},                                        // ID_MMFR1_EL1
    {1, 6, When::Always, kAll},                                        // ID_MMFR2_EL1
    {1, 7, When::Always, kAll},                                        // ID_MMFR3_EL1
    {2, 0, When::Always, kAll},                                        // ID_ISAR0_EL1
    {2, 1, When::Always, kAll},                                        // ID_ISAR1_EL1
    {2, 2, When::Always, kAll},                                        // ID_ISAR2_EL1
    {2, 3, When::Always, kAll},                                        // ID_ISAR3_EL1
    {2, 4, When::Always, kAll},                                        // ID_ISAR4_EL1
    {2, 5, When::Always, kAll},                                        // ID_ISAR5_EL1
    {2, 6, When::Always, kAll},                                        // ID_MMFR4_EL1
    {2, 7, When::Always, kAll},                                        // ID_ISAR6_EL1
    {3, 0, When::Always, kAll},                                        // MVFR0_EL1
    {3, 1, When::Always, kAll},                                        // MVFR1_EL1
    {3, 2, When::Always, kAll},                                        // MVFR2_EL1
    {3, 4, When::Always, kAll},                                        // ID_PFR2_EL1 (CSV3, SSBS)
    {3, 6, When::Always, kAll},                                        // ID_MMFR5_EL1 (ETS)
    // ID_AA64PFR0_EL1: EL0, EL1, EL3, FP, AdvSIMD, GIC, DIT, CSV2, CSV3.
    // Hidden: EL2 (no nested virtualization), RAS, SEL2, MPAM, AMU, RME.
    {4, 0, When::Always, fields(0, 4, 12, 16, 20, 24, 48, 56, 60)},
    {4, 0, When::Sve, field(f::kPfr0Sve)},
    // ID_AA64PFR1_EL1: BT, SSBS, CSV2_frac. Hidden: MTE, RAS_frac,
    // MPAM_frac, SME, RNDR_trap, NMI and the rest.
    {4, 1, When::Always, fields(0, 4, 32)},
    {4, 4, When::Sve, kAll},                                           // ID_AA64ZFR0_EL1
    // ID_AA64DFR0_EL1: DebugVer, BRPs, WRPs, CTX_CMPs, DoubleLock (the
    // debug registers are the guest's, debug.cpp). Hidden: TraceVer, SPE,
    // TraceFilt, TraceBuffer, MTPMU, BRBE, HPMN0; PMUVer unless virtualized.
    {5, 0, When::Always, fields(0, 12, 20, 28, 36)},
    {5, 0, When::Pmu, field(f::kDfr0PmuVer)},
    // ID_AA64ISAR0_EL1: instructions without state of their own.
    {6, 0, When::Always, kAll},
    // ID_AA64ISAR1_EL1: all but pointer authentication (kept when its keys
    // are switched) and LS64 (needs HCRX_EL2).
    {6, 1, When::Always, kAll & ~fields(f::kIsar1Apa, f::kIsar1Api, f::kIsar1Gpa, f::kIsar1Gpi, 60)},
    {6, 1, When::Pauth, fields(f::kIsar1Apa, f::kIsar1Api, f::kIsar1Gpa, f::kIsar1Gpi)},
    // ID_AA64ISAR2_EL1: WFxT, RPRES, BC, CLRBHB; PAuth3 with PAC. Hidden:
    // MOPS (needs HCRX_EL2) and the rest.
    {6, 2, When::Always, fields(0, 4, 20, 28)},
    {6, 2, When::Pauth, fields(f::kIsar2Gpa3, f::kIsar2Apa3, 24)},
    // ID_AA64MMFR0_EL1: PARange, ASIDBits, BigEnd, SNSMem, BigEndEL0,
    // TGran16/64/4 and their stage-2 fields, ExS. Hidden: FGT, ECV (EL2).
    {7, 0, When::Always, fields(0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44)},
    // ID_AA64MMFR1_EL1: HAFDBS, HPDS, LO, PAN, SpecSEI, ETS, AFP, nTLBPA.
    // Hidden: VMIDBits, VH, XNX, TWED, HCX, TIDCP1, CMOW (EL2 features).
    {7, 1, When::Always, fields(0, 12, 16, 20, 24, 36, 44, 48)},
    // ID_AA64MMFR2_EL1: CnP, UAO, LSM, IESB, VARange, CCIDX, ST, AT, TTL,
    // BBM, E0PD. Hidden: NV, IDS, FWB, EVT (EL2 features).
    {7, 2, When::Always, fields(0, 4, 8, 12, 16, 20, 28, 32, 48, 52, 60)},
};

bool applies(When w, const Decisions& d)
{
    switch (w) {
    case When::Always: return true;
    case When::Pauth: return d.pauth;
    case When::Sve: return d.sve;
    case When::Pmu: return d.pmu;
    }
    return false;
}

} // namespace

Decisions decide(const IdSpace& hw)
{
    const u64 pfr0 = hw.r[4][0], dfr0 = hw.r[5][0], isar1 = hw.r[6][1], isar2 = hw.r[6][2];
    const u64 pmuver = field_val(dfr0, f::kDfr0PmuVer);
    Decisions d{};
    d.pauth = field_val(isar1, f::kIsar1Apa) || field_val(isar1, f::kIsar1Api) || field_val(isar1, f::kIsar1Gpa) ||
              field_val(isar1, f::kIsar1Gpi) || field_val(isar2, f::kIsar2Apa3) || field_val(isar2, f::kIsar2Gpa3);
    d.sve = field_val(pfr0, f::kPfr0Sve) != 0;
    d.pmu_hw = pmuver >= kPmuVerV3 && pmuver != kPmuVerImpDef;
    // Keeping EL2 out of the guest's counts takes MDCR_EL2.HPMD (PMUv3p1)
    // for the event counters and MDCR_EL2.HCCD (PMUv3p5) for the cycle
    // counter. On an older PMU a guest's PMCCFILTR_EL0.NSH would count the
    // hypervisor's cycles, so there every PMU access traps and the
    // emulation clears NSH (a guest has no EL2: the bit is RES0 for it).
    d.pmu = d.pmu_hw;
    d.pmu_trap = d.pmu_hw && pmuver < kPmuVerV3p5;
    d.ras = field_val(pfr0, f::kPfr0Ras) != 0;
    d.amu = field_val(pfr0, f::kPfr0Amu) != 0;
    return d;
}

u64 sanitize(u32 crm, u32 op2, u64 hw, const Decisions& d)
{
    u64 keep = 0;
    for (const KeepRule& k : kKeep)
        if (k.crm == crm && k.op2 == op2 && applies(k.when, d))
            keep |= k.mask;
    u64 v = hw & keep;
    // A trapped PMU is advertised as at most what its emulation covers, in
    // the AArch64 and AArch32 encodings (PerfMon 4 = PMUv3p1, as PMUVer).
    const bool dfr0 = crm == 5 && op2 == 0, dfr0_a32 = crm == 1 && op2 == 2;
    if (d.pmu_trap && (dfr0 || dfr0_a32)) {
        const unsigned lo = dfr0 ? f::kDfr0PmuVer : f::kDfr0A32PerfMon;
        if (field_val(v, lo) > kPmuVerTrappedMax && field_val(v, lo) != kPmuVerImpDef)
            v = (v & ~field(lo)) | kPmuVerTrappedMax << lo;
    }
    return v;
}

void build_view(const IdSpace& hw, const Decisions& d, IdSpace& out)
{
    for (u32 crm = 0; crm < 8; crm++)
        for (u32 op2 = 0; op2 < 8; op2++)
            out.r[crm][op2] = crm == 0 ? 0 : sanitize(crm, op2, hw.r[crm][op2], d);
}

void init(const IdSpace& hw)
{
    g_state.hw = hw;
    g_state.d = decide(hw);
    build_view(hw, g_state.d, g_state.view);
    g_state.ready = true;
}

u64 guest_value(u32 key)
{
    if (!in_id_space(key))
        return 0;
    return g_state.view.r[sysreg_key_crm(key)][sysreg_key_op2(key)];
}

} // namespace cpufeat
