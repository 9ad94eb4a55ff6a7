// The guest's EL1 virtual and physical timers (timers.cpp): interrupts
// delivered as level-sensitive hardware-mapped PPIs, lines that follow the
// timer output, and timers that keep time while their vCPU is descheduled.
#include "arch_fixture.h"

#include <algorithm>

#include "run.h"
#include "timers.h"
#include "vm/arch.h"

namespace {

using fake::ms;

constexpr u64 kEnable = 1, kImask = 2, kIstatus = 4;
constexpr u32 kVtimer = 27, kPtimer = 30;

class TimerTest : public ArchTest {
protected:
    void share_pcpu0()
    {
        g_options.timeslice_ms = 10;
        vm_ = &add_vm({0, 0});
        p_ = &run_pcpu(0);
        start_all(*p_, *vm_);
        ASSERT_EQ(pick(*p_), &v(0));
    }
    Vcpu& v(u32 i) { return vm_->vcpus[i]; }
    bool pending_bit(u32 vcpu, u32 intid)
    {
        MmioAccess a{.addr = 0, .width = 4, .write = false, .reg = 0, .sign_extend = false, .sf = false, .data = 0};
        const u64 off = vcpu * vgic::kGicrStride + vgic::kGicrSgiFrame + vgic::off(vgic::GicrSgi::Ispendr0);
        vm_->vgic.redistributors().access(0, off, a);
        return (a.data >> intid) & 1;
    }
    bool deactivated(u32 intid)
    {
        const auto& d = fake::hw().deactivated[0];
        return std::find(d.begin(), d.end(), intid) != d.end();
    }
    // The physical PPI fires on pCPU 0 and the hypervisor takes it.
    void fire(u32 intid)
    {
        fake::hw().pending[0].push_back(intid);
        handle_physical_irqs();
    }
    Vm* vm_ = nullptr;
    Pcpu* p_ = nullptr;
};

TEST_F(TimerTest, PhysicalTimerInterruptIsPpi30OnTheLoadedVcpu)
{
    share_pcpu0();
    fake::cpu().cntp_ctl_el0 = kEnable | kIstatus;
    fire(kPtimer);
    EXPECT_TRUE(vm_->vgic.private_line(0, kPtimer));
    EXPECT_FALSE(deactivated(kPtimer)) << "left active for the guest's EOI";
    vm_->vgic.flush(0, v(0).lrs);
    bool found = false;
    for (unsigned k = 0; k < 4; k++)
        if ((v(0).lrs.lr[k] & 0xffffffff) == kPtimer) {
            found = true;
            EXPECT_TRUE(v(0).lrs.lr[k] & (u64{1} << 61)) << "hardware-mapped";
            EXPECT_EQ((v(0).lrs.lr[k] >> 32) & 0x1fff, kPtimer) << "pINTID";
        }
    EXPECT_TRUE(found);
}

// Issue 11, item 2: the pending state follows the timer output.
TEST_F(TimerTest, MaskingTheTimerDropsItsPendingState)
{
    share_pcpu0();
    fake::cpu().cntv_ctl_el0 = kEnable | kIstatus;
    fire(kVtimer);
    EXPECT_TRUE(pending_bit(0, kVtimer));
    // The guest sets IMASK and exits (for anything).
    fake::cpu().cntv_ctl_el0 = kEnable | kIstatus | kImask;
    timers_exit(v(0));
    EXPECT_FALSE(vm_->vgic.private_line(0, kVtimer));
    EXPECT_TRUE(deactivated(kVtimer)) << "the physical PPI may fire again";
    EXPECT_FALSE(pending_bit(0, kVtimer));
}

TEST_F(TimerTest, PendingReadSamplesTheLoadedVcpusTimerFirst)
{
    share_pcpu0();
    fake::cpu().cntp_ctl_el0 = kEnable | kIstatus;
    fire(kPtimer);
    // Disabled by the guest; no exit in between: the GICR read itself traps.
    fake::cpu().cntp_ctl_el0 = 0;
    EXPECT_FALSE(pending_bit(0, kPtimer));
}

TEST_F(TimerTest, ContextSwitchMovesBothTimersAndTheirActivation)
{
    share_pcpu0();
    fake::cpu().cntv_ctl_el0 = kEnable;
    fake::cpu().cntv_cval_el0 = 111;
    fake::cpu().cntp_ctl_el0 = kEnable | kImask;
    fake::cpu().cntp_cval_el0 = 222;
    fake::cpu().cntp_ctl_el0 |= kIstatus;
    fire(kPtimer); // masked: not asserted, taken anyway (it was pending)
    fake::advance(ms(10));
    ASSERT_EQ(pick(*p_), &v(1));
    EXPECT_EQ(v(0).arch.tg.timer[0].cval, 111u);
    EXPECT_EQ(v(0).arch.tg.timer[1].cval, 222u);
    EXPECT_EQ(v(0).arch.tg.timer[1].ctl & (kEnable | kImask), kEnable | kImask);
    EXPECT_EQ(fake::cpu().cntp_cval_el0, 0u) << "vCPU 1's own (reset) timer";
    EXPECT_EQ(fake::cpu().cntv_ctl_el0, 0u);
}

TEST_F(TimerTest, DescheduledPhysicalTimerFiresOnTime)
{
    share_pcpu0();
    // vCPU 1 arms its physical timer for 3 ms from now and waits in WFI.
    fake::advance(ms(10));
    ASSERT_EQ(pick(*p_), &v(1));
    fake::cpu().cntp_cval_el0 = fake::cpu().cntpct_el0 + ms(3);
    fake::cpu().cntp_ctl_el0 = kEnable;
    sched_block(v(1));
    ASSERT_EQ(pick(*p_), &v(0));
    EXPECT_EQ(arch::vcpu_timer_deadline(v(1)), v(1).arch.tg.timer[1].cval);
    EXPECT_EQ(p_->hyp_timer_cval, v(1).arch.tg.timer[1].cval) << "the scheduler's timer at its deadline";
    fake::advance(ms(3));
    ASSERT_EQ(pick(*p_), &v(1)) << "woken by its timer";
    EXPECT_TRUE(vm_->vgic.private_line(1, kPtimer));
    EXPECT_NE(fake::hw().active_ppis[0] & (1u << kPtimer), 0u)
        << "loaded with the physical PPI active, for the guest's EOI to deactivate";
}

TEST_F(TimerTest, PendingReadOfADescheduledVcpuSeesItsExpiredTimer)
{
    share_pcpu0();
    v(1).arch.tg.timer[1] = TimerState{.ctl = kEnable, .cval = fake::cpu().cntpct_el0 - 1, .phys_active = false};
    gicr_sgi(*vm_, 1, vgic::off(vgic::GicrSgi::Icenabler0), 1u << kPtimer);
    EXPECT_TRUE(pending_bit(1, kPtimer)) << "expired, though disabled and descheduled";
    EXPECT_TRUE(v(1).arch.tg.timer[1].phys_active);
}

} // namespace
