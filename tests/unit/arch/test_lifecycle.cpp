// A VM's SYSTEM_OFF and SYSTEM_RESET stop or restart that VM alone
// (hyp/vm/lifecycle.cpp), across the pCPUs its vCPUs run on.
#include "arch_fixture.h"

#include "vm/lifecycle.h"

namespace {

class LifecycleTest : public ArchTest {};

TEST_F(LifecycleTest, SystemOffStopsThatVmAloneOnEveryPcpu)
{
    Vm& a = add_vm({0, 1});
    Vm& b = add_vm({2, 3});
    for (u32 p = 0; p < 4; p++) {
        Pcpu& pc = run_pcpu(p);
        start_all(pc, p < 2 ? a : b);
        ASSERT_NE(pick(pc), nullptr);
    }
    as_pcpu(3);
    fake::hw().sgis.clear();
    vm_request(b, VmRequest::Stop);
    EXPECT_EQ(vm_state(b), VmState::Stopping);
    ASSERT_EQ(fake::hw().sgis.size(), 1u) << "pCPU 2 is told";
    EXPECT_EQ(fake::hw().sgis[0].target_mpidr, 2u);
    EXPECT_EQ(pick(g_pcpus[3]), nullptr) << "its own vCPU is taken down at once";
    EXPECT_EQ(vm_state(b), VmState::Stopping) << "until every vCPU is down";
    as_pcpu(2);
    EXPECT_EQ(pick(g_pcpus[2]), nullptr);
    EXPECT_EQ(vm_state(b), VmState::Stopped);
    // The other VM runs on.
    for (u32 p = 0; p < 2; p++) {
        as_pcpu(p);
        EXPECT_EQ(pick(g_pcpus[p]), &a.vcpus[p]);
    }
    EXPECT_EQ(fake::hw().system_off_calls, 0u) << "the machine stays on while a VM runs";
}

TEST_F(LifecycleTest, SystemResetRebootsThatVmFromItsBootVcpu)
{
    Vm& a = add_vm({0, 1});
    Vm& b = add_vm({0, 1});
    g_options.timeslice_ms = 10;
    for (u32 p = 0; p < 2; p++) {
        Pcpu& pc = run_pcpu(p);
        start_all(pc, a);
        start_all(pc, b);
    }
    as_pcpu(1);
    ASSERT_EQ(pick(g_pcpus[1]), &a.vcpus[1]);
    fake::advance(fake::ms(10));
    ASSERT_EQ(pick(g_pcpus[1]), &b.vcpus[1]);
    b.vcpus[1].regs.x[0] = 0xdead;
    vm_request(b, VmRequest::Reset);
    EXPECT_EQ(pick(g_pcpus[1]), &a.vcpus[1]) << "VM 0 keeps its pCPU time";
    as_pcpu(0);
    pick(g_pcpus[0]); // takes b's vCPU 0 down, the last: the reset happens here
    EXPECT_EQ(vm_state(b), VmState::Running);
    EXPECT_EQ(b.resets, 1u);
    ASSERT_EQ(fake::hw().tlb_flushes.size(), 1u) << "its old translations are gone";
    EXPECT_EQ(fake::hw().tlb_flushes[0], b.s2.vmid());
    // The boot vCPU starts at the kernel with x0 = its device tree; the
    // other waits, powered off, for the guest's CPU_ON.
    for (int i = 0; i < 3 && b.vcpus[0].state != RunState::Runnable; i++) {
        fake::advance(fake::ms(10));
        pick(g_pcpus[0]);
    }
    EXPECT_EQ(b.vcpus[0].state, RunState::Runnable);
    EXPECT_EQ(b.vcpus[0].regs.elr, b.ram_ipa + kGuestLayout.kernel_offset);
    EXPECT_EQ(b.vcpus[0].regs.x[0], b.ram_ipa + kGuestLayout.dtb_offset);
    as_pcpu(1);
    fake::advance(fake::ms(10));
    pick(g_pcpus[1]);
    EXPECT_EQ(b.vcpus[1].state, RunState::Off);
    EXPECT_EQ(a.vcpus[1].state, RunState::Runnable);
}

TEST_F(LifecycleTest, ASecondRequestJoinsTheFirst)
{
    Vm& a = add_vm({0});
    add_vm({1});
    run_pcpu(0);
    start_all(g_pcpus[0], a);
    vm_request(a, VmRequest::Stop);
    vm_request(a, VmRequest::Reset);
    EXPECT_EQ(vm_state(a), VmState::Stopping);
    EXPECT_EQ(pick(g_pcpus[0]), nullptr);
    EXPECT_EQ(vm_state(a), VmState::Stopped);
}

} // namespace
