// The state of the CPU features a guest sees (core/cpu_features.h) moves
// with its vCPU when two share a pCPU: pointer-authentication keys,
// ZCR_EL1, the PMU's registers and its overflow interrupt's activation.
#include "arch_fixture.h"

#include "core/cpu_features.h"
#include "gic.h"
#include "hw_regs.h"
#include "pmu.h"
#include "trap.h"
#include "vm/arch.h"

namespace {

constexpr u64 kPmcrE = bit(0), kPmcrC = bit(2), kPmcrLC = bit(6);
constexpr u64 kCycle = bit(31);

class FeatureSwitchTest : public ArchTest {
protected:
    void SetUp() override
    {
        ArchTest::SetUp();
        cpufeat::g_state.d = cpufeat::Decisions{.pauth = true, .sve = true, .pmu = true, .pmu_trap = false, .pmu_hw = true, .ras = false, .amu = false};
        vm_ = &add_vm({0, 0});
        p_ = &run_pcpu(0);
        start_all(*p_, *vm_);
        fake::cpu().pmcr_el0 = u64{6} << 11; // N = 6
    }
    void TearDown() override
    {
        cpufeat::g_state = cpufeat::State{};
        ArchTest::TearDown();
    }
    Vcpu& a() { return vm_->vcpus[0]; }
    Vcpu& b() { return vm_->vcpus[1]; }
    Vm* vm_ = nullptr;
    Pcpu* p_ = nullptr;
};

TEST_F(FeatureSwitchTest, PacKeysAndZcrAreEachVcpusOwn)
{
    arch::vcpu_switch(*p_, nullptr, a());
    write_apiakeylo_el1(0xa1);
    write_apgakeyhi_el1(0xa2);
    write_zcr_el1(3);
    arch::vcpu_switch(*p_, &a(), b());
    EXPECT_EQ(read_apiakeylo_el1(), 0u) << "b's keys (reset: zero)";
    EXPECT_EQ(read_apgakeyhi_el1(), 0u);
    EXPECT_EQ(read_zcr_el1(), 0u);
    write_apiakeylo_el1(0xb1);
    arch::vcpu_switch(*p_, &b(), a());
    EXPECT_EQ(read_apiakeylo_el1(), 0xa1u);
    EXPECT_EQ(read_apgakeyhi_el1(), 0xa2u);
    EXPECT_EQ(read_zcr_el1(), 3u);
    arch::vcpu_switch(*p_, &a(), b());
    EXPECT_EQ(read_apiakeylo_el1(), 0xb1u);
}

TEST_F(FeatureSwitchTest, PmuRegistersAreEachVcpusOwn)
{
    arch::vcpu_switch(*p_, nullptr, a());
    write_pmcr_el0(u64{6} << 11 | kPmcrE | kPmcrLC);
    write_pmccntr_el0(12345);
    write_pmccfiltr_el0(bit(30));
    write_pmuserenr_el0(1);
    write_pmselr_el0(2);
    write_pmcntenset_el0(kCycle | 1);
    arch::vcpu_switch(*p_, &a(), b());
    EXPECT_EQ(read_pmccntr_el0(), 0u);
    EXPECT_EQ(read_pmccfiltr_el0(), 0u);
    EXPECT_EQ(read_pmuserenr_el0(), 0u);
    EXPECT_EQ(read_pmcntenset_el0(), 0u) << "nothing of a's counts for b";
    EXPECT_EQ(read_pmcr_el0() & kPmcrE, 0u);
    write_pmcr_el0(u64{6} << 11 | kPmcrE | kPmcrC);
    arch::vcpu_switch(*p_, &b(), a());
    EXPECT_EQ(read_pmccntr_el0(), 12345u);
    EXPECT_EQ(read_pmccfiltr_el0(), bit(30));
    EXPECT_EQ(read_pmuserenr_el0(), 1u);
    EXPECT_EQ(read_pmselr_el0(), 2u);
    EXPECT_EQ(read_pmcntenset_el0(), kCycle | 1);
    EXPECT_EQ(read_pmcr_el0() & (kPmcrE | kPmcrLC), kPmcrE | kPmcrLC);
    arch::vcpu_switch(*p_, &a(), b());
    EXPECT_EQ(read_pmcr_el0() & kPmcrC, 0u) << "the write-only reset bit is not replayed";
}

// a's cycle counter overflowed with its interrupt enabled and the physical
// PPI 23 was taken (left active for the guest's EOI): the activation goes
// with a, b runs with the PPI inactive, and a's virtual line stays high.
TEST_F(FeatureSwitchTest, OverflowInterruptActivationTravelsWithTheVcpu)
{
    arch::vcpu_switch(*p_, nullptr, a());
    write_pmcr_el0(u64{6} << 11 | kPmcrE);
    write_pmovsset_el0(kCycle);
    write_pmintenset_el1(kCycle);
    gic::set_active_private(kPmuPpi);
    EXPECT_TRUE(pmu_irq(&a(), kPmuPpi));
    EXPECT_TRUE(vm_->vgic.private_line(0, kPmuPpi));
    arch::vcpu_switch(*p_, &a(), b());
    EXPECT_FALSE(gic::private_active(kPmuPpi));
    EXPECT_FALSE(vm_->vgic.private_line(1, kPmuPpi));
    EXPECT_TRUE(vm_->vgic.private_line(0, kPmuPpi)) << "a's overflow is still pending for a";
    arch::vcpu_switch(*p_, &b(), a());
    EXPECT_TRUE(gic::private_active(kPmuPpi));
    EXPECT_EQ(read_pmovsset_el0(), kCycle);
}

TEST_F(FeatureSwitchTest, NothingIsSwitchedForFeaturesTheGuestDoesNotHave)
{
    cpufeat::g_state.d = cpufeat::Decisions{};
    arch::vcpu_switch(*p_, nullptr, a());
    write_apiakeylo_el1(0xa1);
    write_pmccntr_el0(7);
    arch::vcpu_switch(*p_, &a(), b());
    EXPECT_EQ(read_apiakeylo_el1(), 0xa1u) << "no PAC: the register is not touched (it would UNDEF at EL2)";
    EXPECT_EQ(read_pmccntr_el0(), 7u);
    EXPECT_EQ(pmu_mdcr_el2(), 0u);
}

TEST_F(FeatureSwitchTest, MdcrGivesEveryCounterToTheGuestAndTrapsAnOlderPmu)
{
    EXPECT_EQ(pmu_mdcr_el2(), mdcr::HPMD | mdcr::HCCD | 6);
    cpufeat::g_state.d.pmu_trap = true;
    EXPECT_EQ(pmu_mdcr_el2(), mdcr::TPM | mdcr::TPMCR | 6);
}

// Before PMUv3p5 every PMU access traps; the emulation clears the EL2
// filter bit (NSH) in what the guest programs.
class PmuTrapTest : public FeatureSwitchTest {
protected:
    void SetUp() override
    {
        FeatureSwitchTest::SetUp();
        cpufeat::g_state.d.pmu_trap = true;
        arch::vcpu_switch(*p_, nullptr, a());
        fake::cpu().pmcr_el0 = u64{6} << 11; // N is read-only in hardware; the fake stores what was loaded
        a().regs.elr = 0x1000;
    }
    void access(u32 op1, u32 crn, u32 crm, u32 op2, u32 rt, bool read)
    {
        handle_sync_exit(a(), sysreg_esr(3, op1, crn, crm, op2, rt, read));
    }
};

TEST_F(PmuTrapTest, EventTypeAndCycleFilterWritesLoseTheEl2Bit)
{
    constexpr u64 kP = bit(31), kU = bit(30), kNsh = bit(27);
    write_pmselr_el0(4);  // the guest's selection, kept
    a().regs.x[3] = kP | kU | kNsh;
    access(3, 14, 15, 7, 3, false);  // PMCCFILTR_EL0 = PMEVTYPER31
    EXPECT_EQ(fake::cpu().pmxevtyper_el0, kP | kU) << "written through PMSELR = 31 without NSH";
    EXPECT_EQ(read_pmselr_el0(), 4u);
    EXPECT_EQ(a().regs.elr, 0x1004u);
    a().regs.x[5] = kNsh | 0x11;
    access(3, 14, 12, 2, 5, false);  // PMEVTYPER2_EL0
    EXPECT_EQ(fake::cpu().pmxevtyper_el0, 0x11u);
    write_pmselr_el0(1);
    a().regs.x[6] = kNsh | 0x08;
    access(3, 9, 13, 1, 6, false);   // PMXEVTYPER_EL0
    EXPECT_EQ(fake::cpu().pmxevtyper_el0, 0x08u);
    EXPECT_EQ(a().stats.undef, 0u);
}

TEST_F(PmuTrapTest, PlainRegistersReachTheHardware)
{
    fake::cpu().pmccntr_el0 = 777;
    access(3, 9, 13, 0, 2, true);    // PMCCNTR_EL0
    EXPECT_EQ(a().regs.x[2], 777u);
    a().regs.x[2] = bit(31);
    access(0, 9, 14, 1, 2, false);   // PMINTENSET_EL1
    EXPECT_EQ(fake::cpu().pmintenset_el1, bit(31));
    fake::cpu().pmceid0_el0 = 0x4000'0009;
    access(3, 9, 12, 6, 1, true);    // PMCEID0_EL0
    EXPECT_EQ(a().regs.x[1], 0x4000'0009u);
    EXPECT_EQ(a().stats.undef, 0u);
}

TEST_F(PmuTrapTest, CountersBeyondNAndWrongDirectionsAreUndefined)
{
    access(3, 14, 8, 6, 1, true);    // PMEVCNTR6_EL0: N = 6, so counters 0-5
    EXPECT_EQ(a().stats.undef, 1u);
    a().regs.elr = 0x1000;
    access(3, 9, 12, 4, 1, true);    // PMSWINC_EL0 is write-only
    EXPECT_EQ(a().stats.undef, 2u);
    a().regs.elr = 0x1000;
    access(3, 9, 12, 6, 1, false);   // PMCEID0_EL0 is read-only
    EXPECT_EQ(a().stats.undef, 3u);
}

} // namespace
