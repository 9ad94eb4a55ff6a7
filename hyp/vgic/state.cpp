#include "vgic/state.h"

#include "vgic/regs.h"
#include "vgic/routing.h"

namespace vgic {

bool VgicState::forwarded(const IrqState& i, u32 ctl)
{
    const u32 grp = i.group1 ? kCtlrEnableGrp1 : kCtlrEnableGrp0;
    return i.enabled && (ctl & grp) != 0;
}

u32 VgicState::spi_kick(const IrqState& spi_irq, u32 ctl) const
{
    if (!wants_service(spi_irq, ctl))
        return 0;
    const u8 v = service_vcpu(spi_irq);
    return v < nvcpus ? static_cast<u32>(bit(v)) : 0;
}

void VgicState::kick(u32 vcpu_mask) const
{
    if (vcpu_mask)
        __atomic_fetch_or(&dirty, vcpu_mask, __ATOMIC_ACQ_REL);
    for (u32 v = 0; v < nvcpus; v++)
        if (vcpu_mask & bit(v))
            __atomic_fetch_add(&vcpu[v].events, 1u, __ATOMIC_ACQ_REL);
    if (notifier == nullptr)
        return;
    for (u32 v = 0; v < nvcpus; v++)
        if (vcpu_mask & bit(v))
            notifier->kick(v);
}

void VgicState::kick_spi(u32 vcpu_mask) const
{
    if (vcpu_mask)
        __atomic_fetch_or(&spi_dirty, vcpu_mask, __ATOMIC_ACQ_REL);
    kick(vcpu_mask);
}

bool VgicState::spi_resident(u32 v) const
{
    for (const LrSlot& slot : vcpu[v].slots)
        if (slot.intid != kNoIntid && slot.intid >= kNumPrivate)
            return true;
    return false;
}

void VgicState::reset_private(u32 v)
{
    VcpuState& vs = vcpu[v];
    for (u32 i = 0; i < kNumPrivate; i++) {
        vs.priv[i] = IrqState{};
        // SGIs are always edge-triggered; PPIs reset to level.
        vs.priv[i].edge = i < 16;
    }
    for (LrSlot& s : vs.slots)
        s = LrSlot{};
    // A redistributor comes out of reset asleep; the guest wakes it.
    vs.waker = kWakerProcessorSleep | kWakerChildrenAsleep;
}

void VgicState::reset_spis()
{
    for (u32 i = 0; i < kMaxSpis; i++) {
        spi[i] = IrqState{};
        spi[i].target = irouter_target(0, mpidr, nvcpus);
    }
}

} // namespace vgic
