// The exit path's decode and injection on fake registers: trapped system
// register encodings, instruction lengths and AArch32 conditions, and the
// syndromes of the exceptions the hypervisor gives back to the guest.
#include "arch_fixture.h"

#include "core/cpu_features.h"
#include "guest_insn.h"
#include "hw_regs.h"
#include "trap.h"

namespace {

constexpr u64 kVbar = 0xffff'8000'1000'0000;
constexpr u64 kPc = 0xffff'8000'0800'1000;
constexpr u64 kUnbacked = 0x0a10'0000;  // between the GIC and the UART: nothing
constexpr u64 kUartId = 0x0900'0fe0;     // PL011 UARTPeriphID0: 0x11
// AArch32 User mode, Thumb.
constexpr u64 kA32User = 0x10;
constexpr u64 kThumb = bit(5);

class TrapTest : public ArchTest {
protected:
    void SetUp() override
    {
        ArchTest::SetUp();
        vm_ = &add_vm({0});
        Pcpu& p = run_pcpu(0);
        start_all(p, *vm_);
        ASSERT_EQ(pick(p), &vcpu());
        write_vbar_el1(kVbar);
        vcpu().regs.elr = kPc;
    }
    Vcpu& vcpu() { return vm_->vcpus[0]; }

    // A data abort the hardware reports for an access to `ipa` (stage 2
    // unmapped), with an instruction syndrome unless isv is false.
    void dabt(u64 ipa, u64 va, bool write, unsigned sas, unsigned srt, bool il32 = true, bool isv = true)
    {
        write_far_el2(va);
        write_hpfar_el2((ipa >> 12) << 4);
        u64 esr = u64{0x24} << 26 | (il32 ? esr::IL : 0) | (write ? esr::kWnr : 0) | 0x07;
        if (isv)
            esr |= bit(24) | u64{sas} << 22 | u64{srt} << 16;
        handle_sync_exit(vcpu(), esr);
    }
    u64 esr_ec(u64 esr) { return esr >> 26; }
    Vm* vm_ = nullptr;
};

// Issue 11, item 6: the trapped encodings of ICC_SGI0R_EL1 and
// ICC_ASGI1R_EL1 are op0=3, op1=0, CRn=12, CRm=11, op2=7 and 6.
TEST_F(TrapTest, Group0AndAliasSgiWritesAreIgnoredNotUndefined)
{
    for (u32 op2 : {7u, 6u}) {
        vcpu().regs.elr = kPc;
        vcpu().regs.x[2] = u64{3} << 24 | 1; // SGI 3 to vCPU 0
        handle_sync_exit(vcpu(), sysreg_esr(3, 0, 12, 11, op2, 2, false));
        EXPECT_EQ(vcpu().stats.undef, 0u) << "op2 " << op2;
        EXPECT_EQ(vcpu().regs.elr, kPc + 4) << "completed";
        EXPECT_FALSE(vm_->vgic.has_pending(0, vcpu().lrs)) << "nothing delivered";
    }
    // They are write-only: a read is UNDEFINED.
    vcpu().regs.elr = kPc;
    handle_sync_exit(vcpu(), sysreg_esr(3, 0, 12, 11, 7, 2, true));
    EXPECT_EQ(vcpu().stats.undef, 1u);
    EXPECT_EQ(vcpu().regs.elr, kVbar + 0x200);
    EXPECT_EQ(esr_ec(read_esr_el1()), 0u);
}

// Issue 11, item 4: HCR_EL2.TID3 reads of the ID register space are
// answered from the sanitized view (core/cpu_features.h), reserved
// encodings as zero; writes and the hidden SME's SMIDR_EL1 are refused.
class IdTrapTest : public TrapTest {
protected:
    void SetUp() override
    {
        TrapTest::SetUp();
        cpufeat::IdSpace hw;
        for (auto& row : hw.r)
            for (u64& r : row)
                r = 0x1111'1111'1111'1111;
        hw.r[4][1] = 0x0100'0321;  // ID_AA64PFR1_EL1: SME 1, MTE 3, SSBS 2, BT 1
        cpufeat::init(hw);
    }
    void TearDown() override
    {
        cpufeat::g_state = cpufeat::State{};
        TrapTest::TearDown();
    }
    u64 read_trapped(u32 op1, u32 crn, u32 crm, u32 op2, u32 rt = 7)
    {
        vcpu().regs.elr = kPc;
        vcpu().regs.x[rt] = 0xdead;
        handle_sync_exit(vcpu(), sysreg_esr(3, op1, crn, crm, op2, rt, true));
        return vcpu().regs.x[rt];
    }
};

TEST_F(IdTrapTest, IdRegisterReadsGetTheSanitizedValue)
{
    EXPECT_EQ(read_trapped(0, 0, 4, 1), 0x21u) << "ID_AA64PFR1_EL1 without MTE and SME";
    EXPECT_EQ(vcpu().regs.elr, kPc + 4);
    EXPECT_EQ(read_trapped(0, 0, 4, 5, 30), 0u) << "ID_AA64SMFR0_EL1 into x30";
    EXPECT_EQ(read_trapped(0, 0, 6, 0), 0x1111'1111'1111'1111u) << "ID_AA64ISAR0_EL1 unchanged";
    EXPECT_EQ(read_trapped(0, 0, 4, 3), 0u) << "reserved: RAZ";
    EXPECT_EQ(vcpu().stats.undef, 0u);
}

TEST_F(IdTrapTest, ReadIntoXzrIsDiscarded)
{
    vcpu().regs.elr = kPc;
    handle_sync_exit(vcpu(), sysreg_esr(3, 0, 0, 4, 0, 31, true));
    EXPECT_EQ(vcpu().regs.elr, kPc + 4);
    EXPECT_EQ(vcpu().stats.undef, 0u);
}

TEST_F(IdTrapTest, WriteToAnIdRegisterIsUndefined)
{
    vcpu().regs.elr = kPc;
    handle_sync_exit(vcpu(), sysreg_esr(3, 0, 0, 4, 1, 2, false));
    EXPECT_EQ(vcpu().stats.undef, 1u);
    EXPECT_EQ(vcpu().regs.elr, kVbar + 0x200);
    EXPECT_EQ(esr_ec(read_esr_el1()), 0u);
}

TEST_F(IdTrapTest, Tid1RegistersReadTheHardwareAndSmidrIsUndefined)
{
    fake::cpu().revidr_el1 = 0x5;
    fake::cpu().aidr_el1 = 0x7;
    EXPECT_EQ(read_trapped(0, 0, 0, 6), 0x5u) << "REVIDR_EL1";
    EXPECT_EQ(read_trapped(1, 0, 0, 7), 0x7u) << "AIDR_EL1";
    EXPECT_EQ(vcpu().stats.undef, 0u);
    read_trapped(1, 0, 0, 6);  // SMIDR_EL1
    EXPECT_EQ(vcpu().stats.undef, 1u);
    EXPECT_EQ(esr_ec(read_esr_el1()), 0u);
}

TEST_F(TrapTest, Sgi1rDeliversToItsTargets)
{
    vcpu().regs.x[4] = u64{3} << 24 | 1;
    handle_sync_exit(vcpu(), sysreg_esr(3, 0, 12, 11, 5, 4, false));
    EXPECT_EQ(vcpu().regs.elr, kPc + 4);
    EXPECT_TRUE(vm_->vgic.has_pending(0, vcpu().lrs));
}

// Issue 11, item 5: the PC advances by the length ESR_EL2.IL gives.
TEST_F(TrapTest, SixteenBitThumbMmioLoadAdvancesByTwo)
{
    vcpu().regs.spsr = kA32User | kThumb;
    vcpu().regs.elr = 0x10000;
    dabt(kUartId, 0x7000'0fe0, false, 2, 3, /*il32=*/false);
    EXPECT_EQ(vcpu().regs.elr, 0x10002u);
    EXPECT_EQ(vcpu().regs.x[3], 0x11u) << "UARTPeriphID0";
}

TEST_F(TrapTest, ThirtyTwoBitAarch32MmioLoadAdvancesByFour)
{
    vcpu().regs.spsr = kA32User;
    vcpu().regs.elr = 0x10000;
    dabt(kUartId, 0x7000'0fe0, false, 2, 5);
    EXPECT_EQ(vcpu().regs.elr, 0x10004u);
    EXPECT_EQ(vcpu().regs.x[5], 0x11u);
}

TEST_F(TrapTest, EmulatedInstructionInsideAnItBlockAdvancesTheItState)
{
    // ITE EQ: IT = 0b0000'1100 (firstcond EQ, mask 1100). The load is the
    // first instruction; after it, the next one runs as NE.
    vcpu().regs.spsr = insn::with_itstate(kA32User | kThumb, 0x0c);
    dabt(kUartId, 0x7000'0fe0, false, 2, 1, false);
    EXPECT_EQ(insn::itstate(vcpu().regs.spsr), 0x18u) << "second slot of the block";
    dabt(kUartId, 0x7000'0fe0, false, 2, 1, false);
    EXPECT_EQ(insn::itstate(vcpu().regs.spsr), 0u) << "block done";
}

TEST_F(TrapTest, SixteenBitWfiAdvancesByTwoAndBlocks)
{
    vcpu().regs.spsr = kA32User | kThumb;
    vcpu().regs.elr = 0x10000;
    handle_sync_exit(vcpu(), u64{0x01} << 26 | bit(24) | u64{0xe} << 20); // T16 WFI, CV=1 AL
    EXPECT_EQ(vcpu().regs.elr, 0x10002u);
    EXPECT_EQ(vcpu().state, RunState::Blocked);
}

TEST_F(TrapTest, Aarch32WfiWhoseConditionFailsIsANoOp)
{
    vcpu().regs.spsr = kA32User; // Z = 0
    vcpu().regs.elr = 0x10000;
    handle_sync_exit(vcpu(), u64{0x01} << 26 | esr::IL | bit(24) | u64{0x0} << 20); // WFIEQ
    EXPECT_EQ(vcpu().regs.elr, 0x10004u);
    EXPECT_EQ(vcpu().state, RunState::Runnable) << "the condition failed: no wait";
}

TEST_F(TrapTest, WfiWithTimeoutCompletesWithoutWaiting)
{
    handle_sync_exit(vcpu(), u64{0x01} << 26 | esr::IL | 2); // WFIT
    EXPECT_EQ(vcpu().regs.elr, kPc + 4);
    EXPECT_EQ(vcpu().state, RunState::Runnable);
}

TEST_F(TrapTest, ConditionCodes)
{
    constexpr u64 Z = bit(30), C = bit(29), N = bit(31), V = bit(28);
    auto pass = [](u32 cond, u64 flags) {
        return insn::condition_passed(u64{1} << 24 | u64{cond} << 20, kA32User | flags);
    };
    EXPECT_TRUE(pass(0x0, Z));       // EQ
    EXPECT_FALSE(pass(0x1, Z));      // NE
    EXPECT_TRUE(pass(0x8, C));       // HI
    EXPECT_FALSE(pass(0x8, C | Z));
    EXPECT_TRUE(pass(0xa, N | V));   // GE
    EXPECT_FALSE(pass(0xc, N));      // GT
    EXPECT_TRUE(pass(0xe, 0));       // AL
    // AArch64 state: always executes.
    EXPECT_TRUE(insn::condition_passed(u64{1} << 24, spsr::EL1h));
}

// Issue 11, item 7: the abort given back for an unbacked access carries
// what a bus error on real hardware would.
TEST_F(TrapTest, StoreToUnbackedAddressGivesADataAbortWithWnr)
{
    vcpu().regs.spsr = spsr::EL1h;
    dabt(kUnbacked, 0xffff'0000'1234'5678, true, 2, 1);
    const u64 e = read_esr_el1();
    EXPECT_EQ(esr_ec(e), 0x25u) << "data abort from the current EL";
    EXPECT_TRUE(e & esr::kWnr) << "a write";
    EXPECT_TRUE(e & esr::IL) << "ISV = 0 reported: IL is 1";
    EXPECT_FALSE(e & bit(24)) << "no instruction syndrome at EL1";
    EXPECT_FALSE(e & bit(10)) << "FnV = 0: FAR is valid";
    EXPECT_EQ(e & 0x3f, 0x10u);
    EXPECT_EQ(read_far_el1(), 0xffff'0000'1234'5678u);
    EXPECT_EQ(read_elr_el1(), kPc) << "at the faulting instruction";
    EXPECT_EQ(vcpu().regs.elr, kVbar + 0x200);
    EXPECT_EQ(vcpu().regs.spsr & 0x3cf, spsr::EL1h | spsr::kDaifMasked);
}

TEST_F(TrapTest, LoadFromUnbackedAddressReportsARead)
{
    vcpu().regs.spsr = spsr::EL0t;
    dabt(kUnbacked, 0x1000, false, 3, 1);
    const u64 e = read_esr_el1();
    EXPECT_EQ(esr_ec(e), 0x24u) << "data abort from a lower EL";
    EXPECT_FALSE(e & esr::kWnr);
    EXPECT_EQ(vcpu().regs.elr, kVbar + 0x400);
}

TEST_F(TrapTest, AbortFromAarch32El0UsesTheLowerAarch32Vector)
{
    vcpu().regs.spsr = kA32User | kThumb;
    vcpu().regs.elr = 0x10000;
    dabt(kUnbacked, 0x7010'0000, true, 2, 1, false);
    EXPECT_EQ(esr_ec(read_esr_el1()), 0x24u);
    EXPECT_TRUE(read_esr_el1() & esr::kWnr);
    EXPECT_EQ(read_elr_el1(), 0x10000u);
    EXPECT_EQ(read_spsr_el1(), kA32User | kThumb);
    EXPECT_EQ(vcpu().regs.elr, kVbar + 0x600);
}

TEST_F(TrapTest, FaultInTheGuestsStage1WalkReportsTheWalkLevel)
{
    // Guest stage 1: 4 KiB granule, 39-bit VA (start level 1), TTBR0 at
    // RAM + 0x1000; its level-1 entry 0 points at a level-2 table at an IPA
    // nothing backs.
    u64* ram = reinterpret_cast<u64*>(vm_->ram_pa);
    ram[0x1000 / 8] = kUnbacked | 3;
    write_sctlr_el1(1);
    write_tcr_el1(25);
    write_ttbr0_el1(kRamIpa + 0x1000);
    vcpu().regs.spsr = spsr::EL1h;
    write_far_el2(0x20'0000);
    write_hpfar_el2((kUnbacked >> 12) << 4);
    handle_sync_exit(vcpu(), u64{0x24} << 26 | esr::IL | esr::kS1ptw | 0x06);
    const u64 e = read_esr_el1();
    EXPECT_EQ(esr_ec(e), 0x25u);
    EXPECT_EQ(e & 0x3f, 0x16u) << "synchronous External abort on translation table walk, level 2";
    EXPECT_EQ(read_far_el1(), 0x20'0000u);
}

TEST_F(TrapTest, InstructionFetchFromUnbackedAddressGivesAnInstructionAbort)
{
    vcpu().regs.spsr = spsr::EL1h;
    write_far_el2(kUnbacked);
    write_hpfar_el2((kUnbacked >> 12) << 4);
    handle_sync_exit(vcpu(), u64{0x20} << 26 | esr::IL | 0x07);
    const u64 e = read_esr_el1();
    EXPECT_EQ(esr_ec(e), 0x21u);
    EXPECT_TRUE(e & esr::IL);
    EXPECT_EQ(e & 0x3f, 0x10u);
    EXPECT_EQ(read_far_el1(), kUnbacked);
}

TEST_F(TrapTest, ExceptionEntrySetsPanWhenSctlrSpanIsClear)
{
    fake::cpu().id_aa64mmfr1_el1 = u64{1} << 20; // FEAT_PAN
    write_sctlr_el1(0);                          // SPAN = 0
    vcpu().regs.spsr = spsr::EL0t;
    dabt(kUnbacked, 0x1000, false, 2, 1);
    EXPECT_TRUE(vcpu().regs.spsr & bit(22));
    write_sctlr_el1(bit(23)); // SPAN = 1: PAN unchanged (0)
    vcpu().regs.spsr = spsr::EL0t;
    dabt(kUnbacked, 0x1000, false, 2, 1);
    EXPECT_FALSE(vcpu().regs.spsr & bit(22));
}

} // namespace
