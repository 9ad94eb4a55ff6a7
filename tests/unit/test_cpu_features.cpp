// The CPU feature policy (core/cpu_features.h): which features a guest
// sees, from the hardware's ID registers, and the sanitized values.
#include <gtest/gtest.h>

#include "core/cpu_features.h"

namespace {

using cpufeat::field;
using cpufeat::field_val;
namespace f = cpufeat::f;

constexpr u64 kAllOnes4 = 0x1111'1111'1111'1111;  // every field 1

// A CPU like QEMU's "max": every field set, PMUv3p5, pauth, SVE, MTE, SME.
cpufeat::IdSpace max_like()
{
    cpufeat::IdSpace hw;
    for (u32 crm = 1; crm < 8; crm++)
        for (u32 op2 = 0; op2 < 8; op2++)
            hw.r[crm][op2] = kAllOnes4;
    hw.r[4][1] |= u64{2} << f::kPfr1Mte;           // MTE 3 (0x1 | 0x2)
    hw.r[5][0] = (hw.r[5][0] & ~field(f::kDfr0PmuVer)) | cpufeat::kPmuVerV3p5 << f::kDfr0PmuVer;
    return hw;
}

// A CPU like cortex-a57: PMUv3 (no HPMD/HCCD), no pauth, no SVE.
cpufeat::IdSpace a57_like()
{
    cpufeat::IdSpace hw;
    hw.r[4][0] = 0x2222;                            // EL0-EL3 AArch64+AArch32
    hw.r[5][0] = 0x1030'5106;                       // PMUVer 1, DebugVer 6 (QEMU's a57)
    hw.r[6][0] = 0x1'1120;                          // AES, SHA1, SHA2, CRC32
    hw.r[1][2] = 0x0301'0066;                       // ID_DFR0: PerfMon 3
    return hw;
}

TEST(CpuFeatures, MaxLikeCpuVirtualizesPauthSveAndPmu)
{
    const cpufeat::Decisions d = cpufeat::decide(max_like());
    EXPECT_TRUE(d.pauth);
    EXPECT_TRUE(d.sve);
    EXPECT_TRUE(d.pmu_hw);
    EXPECT_TRUE(d.pmu);
    EXPECT_FALSE(d.pmu_trap) << "PMUv3p5: HPMD and HCCD do it";
    EXPECT_TRUE(d.ras);
    EXPECT_TRUE(d.amu);
}

TEST(CpuFeatures, PmuBeforeV3p5IsTrappedBecauseEl2CyclesCannotBeExcludedOtherwise)
{
    const cpufeat::IdSpace hw = a57_like();
    const cpufeat::Decisions d = cpufeat::decide(hw);
    EXPECT_TRUE(d.pmu_hw);
    EXPECT_TRUE(d.pmu);
    EXPECT_TRUE(d.pmu_trap);
    EXPECT_FALSE(d.pauth);
    EXPECT_FALSE(d.sve);
    EXPECT_EQ(field_val(cpufeat::sanitize(5, 0, hw.r[5][0], d), f::kDfr0PmuVer), cpufeat::kPmuVerV3);
    EXPECT_EQ(field_val(cpufeat::sanitize(5, 0, hw.r[5][0], d), 0), 6u) << "DebugVer kept";
    EXPECT_EQ(field_val(cpufeat::sanitize(1, 2, hw.r[1][2], d), f::kDfr0A32PerfMon), 3u) << "AArch32 PerfMon";
    EXPECT_EQ(cpufeat::sanitize(6, 0, hw.r[6][0], d), hw.r[6][0]) << "ISAR0 passes through";
    EXPECT_EQ(cpufeat::sanitize(4, 0, hw.r[4][0], d), 0x2022u) << "EL0, EL1, EL3 kept; EL2 hidden";
}

TEST(CpuFeatures, ATrappedPmuIsAdvertisedAsAtMostV3p1)
{
    // PMUv3p4 has PMMIR_EL1, which the emulation does not cover.
    cpufeat::IdSpace hw = a57_like();
    hw.r[5][0] = (hw.r[5][0] & ~field(f::kDfr0PmuVer)) | u64{5} << f::kDfr0PmuVer;
    hw.r[1][2] = (hw.r[1][2] & ~field(f::kDfr0A32PerfMon)) | u64{5} << f::kDfr0A32PerfMon;
    const cpufeat::Decisions d = cpufeat::decide(hw);
    EXPECT_TRUE(d.pmu_trap);
    EXPECT_EQ(field_val(cpufeat::sanitize(5, 0, hw.r[5][0], d), f::kDfr0PmuVer), cpufeat::kPmuVerV3p1);
    EXPECT_EQ(field_val(cpufeat::sanitize(1, 2, hw.r[1][2], d), f::kDfr0A32PerfMon), 4u);
    // PMUv3p5 needs no trap and is advertised as it is.
    const cpufeat::IdSpace mx = max_like();
    const cpufeat::Decisions dm = cpufeat::decide(mx);
    EXPECT_FALSE(dm.pmu_trap);
    EXPECT_EQ(field_val(cpufeat::sanitize(5, 0, mx.r[5][0], dm), f::kDfr0PmuVer), cpufeat::kPmuVerV3p5);
}

TEST(CpuFeatures, ImplementationDefinedPmuIsNotAPmuV3)
{
    cpufeat::IdSpace hw = a57_like();
    hw.r[5][0] |= field(f::kDfr0PmuVer); // 0xf
    const cpufeat::Decisions d = cpufeat::decide(hw);
    EXPECT_FALSE(d.pmu_hw);
    EXPECT_FALSE(d.pmu);
}

TEST(CpuFeatures, MteSmeAndEl2FeaturesAreHidden)
{
    const cpufeat::IdSpace hw = max_like();
    const cpufeat::Decisions d = cpufeat::decide(hw);
    const u64 pfr0 = cpufeat::sanitize(4, 0, hw.r[4][0], d);
    const u64 pfr1 = cpufeat::sanitize(4, 1, hw.r[4][1], d);
    EXPECT_EQ(field_val(pfr1, f::kPfr1Mte), 0u);
    EXPECT_EQ(field_val(pfr1, f::kPfr1Sme), 0u);
    EXPECT_EQ(field_val(pfr1, 0), 1u) << "BTI kept";
    EXPECT_EQ(field_val(pfr1, 4), 1u) << "SSBS kept";
    EXPECT_EQ(cpufeat::sanitize(4, 5, hw.r[4][5], d), 0u) << "ID_AA64SMFR0_EL1";
    EXPECT_EQ(field_val(pfr0, f::kPfr0El2), 0u) << "no nested virtualization";
    EXPECT_EQ(field_val(pfr0, f::kPfr0Ras), 0u);
    EXPECT_EQ(field_val(pfr0, f::kPfr0Amu), 0u);
    EXPECT_EQ(field_val(pfr0, 40), 0u) << "MPAM";
    EXPECT_EQ(field_val(pfr0, 36), 0u) << "SEL2";
    EXPECT_EQ(field_val(pfr0, 16), 1u) << "FP kept";
    EXPECT_EQ(field_val(pfr0, 24), 1u) << "GIC system registers kept";
    const u64 dfr0 = cpufeat::sanitize(5, 0, hw.r[5][0], d);
    EXPECT_EQ(field_val(dfr0, 4), 0u) << "TraceVer";
    EXPECT_EQ(field_val(dfr0, 32), 0u) << "SPE";
    EXPECT_EQ(field_val(dfr0, 44), 0u) << "TRBE";
    EXPECT_EQ(field_val(dfr0, f::kDfr0PmuVer), cpufeat::kPmuVerV3p5) << "PMU virtualized";
    EXPECT_EQ(field_val(cpufeat::sanitize(7, 1, hw.r[7][1], d), 8), 0u) << "VH";
    EXPECT_EQ(field_val(cpufeat::sanitize(7, 2, hw.r[7][2], d), 24), 0u) << "NV";
    EXPECT_EQ(cpufeat::sanitize(5, 1, hw.r[5][1], d), 0u) << "ID_AA64DFR1_EL1";
    EXPECT_EQ(cpufeat::sanitize(5, 4, hw.r[5][4], d), 0u) << "ID_AA64AFR0_EL1";
}

TEST(CpuFeatures, VirtualizedFeaturesAreVisible)
{
    const cpufeat::IdSpace hw = max_like();
    const cpufeat::Decisions d = cpufeat::decide(hw);
    EXPECT_EQ(field_val(cpufeat::sanitize(4, 0, hw.r[4][0], d), f::kPfr0Sve), 1u);
    EXPECT_EQ(cpufeat::sanitize(4, 4, hw.r[4][4], d), hw.r[4][4]) << "ID_AA64ZFR0_EL1";
    const u64 isar1 = cpufeat::sanitize(6, 1, hw.r[6][1], d);
    for (unsigned lo : {f::kIsar1Apa, f::kIsar1Api, f::kIsar1Gpa, f::kIsar1Gpi})
        EXPECT_EQ(field_val(isar1, lo), 1u) << "ISAR1 field at " << lo;
    EXPECT_EQ(field_val(isar1, 60), 0u) << "LS64 needs HCRX_EL2";
    const u64 isar2 = cpufeat::sanitize(6, 2, hw.r[6][2], d);
    EXPECT_EQ(field_val(isar2, f::kIsar2Apa3), 1u);
    EXPECT_EQ(field_val(isar2, 16), 0u) << "MOPS needs HCRX_EL2";
}

TEST(CpuFeatures, WithoutSveOrPauthTheirFieldsReadZero)
{
    // Decisions that say no (e.g. a hypervisor built to hide them) hide
    // whatever the hardware has.
    const cpufeat::IdSpace hw = max_like();
    cpufeat::Decisions d = cpufeat::decide(hw);
    d.sve = d.pauth = d.pmu = false;
    EXPECT_EQ(field_val(cpufeat::sanitize(4, 0, hw.r[4][0], d), f::kPfr0Sve), 0u);
    EXPECT_EQ(cpufeat::sanitize(4, 4, hw.r[4][4], d), 0u);
    const u64 isar1 = cpufeat::sanitize(6, 1, hw.r[6][1], d);
    EXPECT_EQ(isar1 & (field(f::kIsar1Apa) | field(f::kIsar1Api) | field(f::kIsar1Gpa) | field(f::kIsar1Gpi)), 0u);
    EXPECT_EQ(field_val(cpufeat::sanitize(6, 2, hw.r[6][2], d), f::kIsar2Gpa3), 0u);
    EXPECT_EQ(field_val(cpufeat::sanitize(5, 0, hw.r[5][0], d), f::kDfr0PmuVer), 0u);
}

TEST(CpuFeatures, ReservedEncodingsOfTheIdSpaceReadZero)
{
    const cpufeat::IdSpace hw = max_like();
    cpufeat::IdSpace view;
    cpufeat::build_view(hw, cpufeat::decide(hw), view);
    EXPECT_EQ(view.r[4][2], 0u);
    EXPECT_EQ(view.r[4][7], 0u);
    EXPECT_EQ(view.r[7][3], 0u) << "ID_AA64MMFR3_EL1 not handled: hidden";
    EXPECT_EQ(view.r[1][3], 0u) << "ID_AFR0_EL1 (IMPLEMENTATION DEFINED)";
    EXPECT_EQ(view.r[3][0], hw.r[3][0]) << "MVFR0_EL1";
}

TEST(CpuFeatures, IdSpaceIsWhatTid3Traps)
{
    EXPECT_TRUE(cpufeat::in_id_space(sysreg_key(3, 0, 0, 4, 1)));  // ID_AA64PFR1_EL1
    EXPECT_TRUE(cpufeat::in_id_space(sysreg_key(3, 0, 0, 1, 0)));  // ID_PFR0_EL1
    EXPECT_TRUE(cpufeat::in_id_space(sysreg_key(3, 0, 0, 7, 7)));  // reserved, RAZ
    EXPECT_FALSE(cpufeat::in_id_space(sysreg_key(3, 0, 0, 0, 0))); // MIDR_EL1
    EXPECT_FALSE(cpufeat::in_id_space(sysreg_key(3, 1, 0, 0, 1))); // CLIDR_EL1
    EXPECT_FALSE(cpufeat::in_id_space(sysreg_key(3, 3, 0, 0, 1))); // CTR_EL0
    EXPECT_FALSE(cpufeat::in_id_space(sysreg_key(3, 0, 1, 4, 0)));
}

TEST(CpuFeatures, GuestValueAnswersFromTheSanitizedView)
{
    cpufeat::init(max_like());
    EXPECT_EQ(field_val(cpufeat::guest_value(sysreg_key(3, 0, 0, 4, 1)), f::kPfr1Mte), 0u);
    EXPECT_EQ(cpufeat::guest_value(sysreg_key(3, 0, 0, 4, 5)), 0u);
    EXPECT_EQ(cpufeat::guest_value(sysreg_key(3, 0, 0, 6, 0)), kAllOnes4);
    EXPECT_EQ(cpufeat::guest_value(sysreg_key(3, 0, 0, 0, 0)), 0u) << "outside the space";
    cpufeat::g_state = cpufeat::State{};
}

} // namespace
