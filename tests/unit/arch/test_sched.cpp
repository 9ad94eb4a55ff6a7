// The scheduler's policy on a fake clock: slices, blocking and waking, the
// IPI boost and its cap, descheduled timers, and the context switches it
// asks the arch layer for.
#include "arch_fixture.h"

#include "vm/arch.h"

namespace {

using fake::ms;
using fake::us;

class SchedTest : public ArchTest {
protected:
    // One VM of four vCPUs time-shared on pCPU 0 (the single-pCPU preset).
    Pcpu& single()
    {
        g_options.timeslice_ms = 10;
        vm_ = &add_vm({0, 0, 0, 0});
        Pcpu& p = run_pcpu(0);
        start_all(p, *vm_);
        return p;
    }
    Vcpu& v(u32 i) { return vm_->vcpus[i]; }
    Vm* vm_ = nullptr;
};

TEST_F(SchedTest, OneVcpuPerPcpuNeverSwitchesAndArmsNoSlice)
{
    Vm& vm = add_vm({0, 1, 2, 3});
    for (u32 p = 0; p < 4; p++) {
        Pcpu& pc = run_pcpu(p);
        start_all(pc, vm);
        EXPECT_EQ(pick(pc), &vm.vcpus[p]);
        fake::advance(ms(50));
        EXPECT_EQ(pick(pc), &vm.vcpus[p]);
        EXPECT_FALSE(pc.hyp_timer_armed) << "a lone vCPU needs no slice timer";
        EXPECT_EQ(vm.vcpus[p].stats.scheduled, 1u);
    }
}

TEST_F(SchedTest, TimeSharedVcpusRotateAtSliceEnds)
{
    Pcpu& p = single();
    Vcpu* first = pick(p);
    ASSERT_NE(first, nullptr);
    EXPECT_TRUE(p.hyp_timer_armed);
    EXPECT_EQ(p.hyp_timer_cval, fake::cpu().cntpct_el0 + ms(10));
    std::vector<u32> order{first->id};
    for (int i = 0; i < 7; i++) {
        fake::advance(ms(5));
        EXPECT_EQ(pick(p), p.vcpu) << "mid-slice: no switch";
        fake::advance(ms(5));
        order.push_back(pick(p)->id);
    }
    EXPECT_EQ(order, (std::vector<u32>{0, 1, 2, 3, 0, 1, 2, 3}));
    EXPECT_EQ(v(1).stats.preempted, 2u);
    // The switch loaded the next vCPU's frame pointer for the exit vectors.
    EXPECT_EQ(p.vcpu->regs.hyp_sp, p.stack_top);
}

TEST_F(SchedTest, BlockedVcpusAreSkippedAndIdleWhenNoneCanRun)
{
    Pcpu& p = single();
    for (u32 i = 0; i < 4; i++) {
        Vcpu* cur = pick(p);
        ASSERT_NE(cur, nullptr);
        sched_block(*cur);
        EXPECT_EQ(cur->state, RunState::Blocked);
    }
    EXPECT_EQ(pick(p), nullptr) << "everything waits: the pCPU idles";
    EXPECT_FALSE(p.hyp_timer_armed);
}

TEST_F(SchedTest, BlockedVcpuWokenByIpiRunsAtOnce)
{
    Pcpu& p = single();
    ASSERT_EQ(pick(p), &v(0));
    // vCPU 2 waits in WFI; vCPU 0 sends it an IPI.
    v(2).state = RunState::Blocked;
    ipi(v(0), v(2));
    EXPECT_EQ(pick(p), &v(2)) << "the woken vCPU jumps the queue";
    EXPECT_EQ(v(2).state, RunState::Runnable);
}

TEST_F(SchedTest, IpiBoostIsCappedAtOneMillisecondWhileTheSenderCanRun)
{
    Pcpu& p = single();
    ASSERT_EQ(pick(p), &v(0));
    v(2).state = RunState::Blocked;
    ipi(v(0), v(2));
    ASSERT_EQ(pick(p), &v(2));
    EXPECT_EQ(p.hyp_timer_cval, fake::cpu().cntpct_el0 + ms(1));
}

// Issue 12, defect 3: when the cap ends, the pCPU goes back to the sender
// the boost preempted, not to whoever follows it in round-robin order.
TEST_F(SchedTest, IpiBoostCapReturnsThePcpuToTheSender)
{
    Pcpu& p = single();
    ASSERT_EQ(pick(p), &v(0));
    fake::advance(ms(10));
    ASSERT_EQ(pick(p), &v(1)); // vCPU 1 has the pCPU; vCPUs 2 and 3 are runnable
    v(3).state = RunState::Blocked;
    ipi(v(1), v(3));
    ASSERT_EQ(pick(p), &v(3));
    fake::advance(ms(1));
    EXPECT_EQ(pick(p), &v(1)) << "the boost cap ended: the sender gets its pCPU back";
}

// Issue 11, item 8: vCPU 0 sends an IPI to vCPU 1, runnable but not running
// (both busy-wait: an IPI ping-pong, smp_call_function waiting for its
// answer). WFE does not trap under TCG, so the SGI write is the only thing
// the hypervisor sees: it must run the target promptly, and give the pCPU
// back to the sender once the target has handled the interrupt.
TEST_F(SchedTest, IpiToARunnableVcpuIsAnsweredWithinAMillisecond)
{
    Pcpu& p = single();
    ASSERT_EQ(pick(p), &v(0));
    ipi(v(0), v(1));
    exit_and_enter(p);
    fake::advance(us(20));
    EXPECT_EQ(pick(p), &v(1)) << "the IPI's target runs at once";
    // vCPU 1 takes and deactivates the SGI, then busy-waits again.
    guest_handles_all(v(1));
    exit_and_enter(p);
    fake::advance(us(50));
    EXPECT_EQ(pick(p), &v(0)) << "handled: the sender gets its pCPU back";
}

TEST_F(SchedTest, SpinningIpiTargetThatNeverEoisIsBoundedToOneMillisecond)
{
    Pcpu& p = single();
    ASSERT_EQ(pick(p), &v(0));
    ipi(v(0), v(1));
    ASSERT_EQ(pick(p), &v(1));
    fake::advance(ms(1));
    EXPECT_EQ(pick(p), &v(0));
    // The others are not starved: the next slice ends go round-robin.
    fake::advance(ms(10));
    Vcpu* next = pick(p);
    EXPECT_TRUE(next == &v(2) || next == &v(1)) << next->id;
}

TEST_F(SchedTest, DescheduledTimerDeadlineArmsTheHypTimerAndWakesTheVcpu)
{
    Pcpu& p = single();
    ASSERT_EQ(pick(p), &v(0));
    // vCPU 3, descheduled, waits in WFI with its timer due in 3 ms.
    v(3).state = RunState::Blocked;
    const u64 due = fake::cpu().cntpct_el0 + ms(3);
    EXPECT_EQ(arch::vcpu_timer_deadline(v(3)), arch::kNever);
    v(3).arch.tg.timer[0].ctl = 1; // the virtual timer, enabled
    v(3).arch.tg.timer[0].cval = due - vm_->cntvoff;
    EXPECT_EQ(arch::vcpu_timer_deadline(v(3)), due);
    fake::advance(us(1));
    ASSERT_EQ(pick(p), &v(0));
    EXPECT_EQ(p.hyp_timer_cval, due) << "CNTHP at the earliest event";
    fake::advance(ms(3));
    EXPECT_EQ(pick(p), &v(3)) << "its timer fired: it runs";
}

TEST_F(SchedTest, VcpuTheDebuggerHoldsIsNotRun)
{
    Pcpu& p = single();
    v(1).held = v(2).held = true;
    ASSERT_EQ(pick(p), &v(0));
    fake::advance(ms(10));
    EXPECT_EQ(pick(p), &v(3));
}

// The debugger stops VM b, which shares pCPU 0 with VM a: b's vCPU does not
// run, its timer (frozen virtual time: its deadline passes in physical
// time) neither wakes it nor arms the scheduler's timer, and a runs alone.
// Released, it is woken by the timer and gets its turn.
TEST_F(SchedTest, HeldVcpuOfAStoppedVmLeavesTheOtherVmAlone)
{
    g_options.timeslice_ms = 10;
    Vm& a = add_vm({0});
    Vm& b = add_vm({0});
    Pcpu& p = run_pcpu(0);
    start_all(p, a);
    start_all(p, b);
    ASSERT_EQ(pick(p), &a.vcpus[0]);
    Vcpu& w = b.vcpus[0];
    w.state = RunState::Blocked;
    w.arch.tg.timer[0].ctl = 1;
    const u64 due = fake::cpu().cntpct_el0 + ms(2);
    w.arch.tg.timer[0].cval = due - b.cntvoff;
    w.held = true;
    fake::advance(us(1));
    ASSERT_EQ(pick(p), &a.vcpus[0]);
    EXPECT_NE(p.hyp_timer_cval, due) << "the held vCPU's timer is not watched";
    for (int i = 0; i < 5; i++) {
        fake::advance(ms(10));
        ASSERT_EQ(pick(p), &a.vcpus[0]) << "pass " << i;
        EXPECT_EQ(w.state, RunState::Blocked);
        EXPECT_NE(p.hyp_timer_cval, due);
    }
    // a waits too: the pCPU idles rather than run the held vCPU.
    a.vcpus[0].state = RunState::Blocked;
    EXPECT_EQ(pick(p), nullptr);
    EXPECT_FALSE(p.hyp_timer_armed);
    w.held = false;
    EXPECT_EQ(pick(p), &w) << "released: its overdue timer wakes it";
}

TEST_F(SchedTest, CpuOnStartsAPoweredOffVcpuAtItsEntry)
{
    Vm& vm = add_vm({0, 1});
    Pcpu& p1 = run_pcpu(1);
    vm.vcpus[1].state = RunState::Off;
    EXPECT_EQ(pick(p1), nullptr);
    as_pcpu(0);
    fake::hw().sgis.clear();
    const psci::CallResult r = vm.psci.handle(0, 0xc400'0003, 1, kRamIpa + 0x8000, 0x42);
    EXPECT_EQ(r.x0, 0u);
    ASSERT_EQ(fake::hw().sgis.size(), 1u) << "pCPU 1 was kicked";
    EXPECT_EQ(fake::hw().sgis[0].target_mpidr, 1u);
    as_pcpu(1);
    ASSERT_EQ(pick(p1), &vm.vcpus[1]);
    EXPECT_EQ(vm.vcpus[1].regs.elr, kRamIpa + 0x8000);
    EXPECT_EQ(vm.vcpus[1].regs.x[0], 0x42u);
}

TEST_F(SchedTest, VcpusOfTwoVmsShareAPcpuWithTheirOwnStage2AndVirtualTime)
{
    g_options.timeslice_ms = 10;
    Vm& a = add_vm({0});
    Vm& b = add_vm({0});
    a.cntvoff = 1000;
    b.cntvoff = 5000;
    Pcpu& p = run_pcpu(0);
    start_all(p, a);
    start_all(p, b);
    ASSERT_EQ(pick(p), &a.vcpus[0]);
    EXPECT_EQ(fake::cpu().vttbr_el2, a.s2.vttbr);
    EXPECT_EQ(fake::cpu().cntvoff_el2, 1000u);
    fake::advance(ms(10));
    ASSERT_EQ(pick(p), &b.vcpus[0]);
    EXPECT_EQ(fake::cpu().vttbr_el2, b.s2.vttbr);
    EXPECT_EQ(fake::cpu().cntvoff_el2, 5000u);
}

// The neighbour bench (2vm-shared) found a vCPU woken from WFI by an IPI
// from its VM's vCPU on another pCPU waiting for the neighbour's turn to
// end (10 ms per futex round trip). Woken remotely, it runs at once like a
// locally woken one, for at most the IPI boost, and the pCPU then goes back
// to the neighbour whose turn it is.
TEST_F(SchedTest, VcpuWokenByAnIpiFromAnotherPcpuRunsAtOnceForAtMostTheBoost)
{
    g_options.timeslice_ms = 10;
    Vm& a = add_vm({0, 1}); // VM 0: vCPU 0 on pCPU 0, vCPU 1 on pCPU 1
    Vm& b = add_vm({1});    // VM 1 shares pCPU 1
    Pcpu& p1 = run_pcpu(1);
    start_all(p1, a);
    start_all(p1, b);
    ASSERT_EQ(pick(p1), &a.vcpus[1]);
    sched_block(a.vcpus[1]); // waits in WFI for a futex wake-up
    ASSERT_EQ(pick(p1), &b.vcpus[0]) << "the neighbour's turn";
    fake::advance(ms(2));
    Pcpu& p0 = run_pcpu(0);
    start_all(p0, a);
    ASSERT_EQ(pick(p0), &a.vcpus[0]);
    ipi(a.vcpus[0], a.vcpus[1]); // the kick reaches pCPU 1
    as_pcpu(1);
    EXPECT_EQ(pick(p1), &a.vcpus[1]) << "woken by the IPI: runs now, not in 8 ms";
    fake::advance(ms(1));
    EXPECT_EQ(pick(p1), &b.vcpus[0]) << "the boost is capped: back to the neighbour's turn";
}

} // namespace
