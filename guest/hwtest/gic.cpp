#include "gic.h"

#include "console.h"
#include "sysreg.h"

namespace gic {

namespace {
constexpr u32 kPriority = 0x80;  // of every SGI and PPI; PMR lets all through
}

void dist_init()
{
    // ARE (affinity routing) and Group 1; the guest's GIC has one security
    // state (DS=1), so bit 1 enables Group 1 and bit 4 is ARE.
    mmio_write32(hw::kGicd + static_cast<u32>(Gicd::Ctlr), kGicdCtlrAre | kGicdCtlrEnableGrp1);
    while (mmio_read32(hw::kGicd + static_cast<u32>(Gicd::Ctlr)) & kGicdCtlrRwp) {
    }
}

void set_bit(u32 cpu, GicrSgi reg, u32 intid) { mmio_write32(sgi_reg(cpu, reg), 1u << intid); }
bool test_bit(u32 cpu, GicrSgi reg, u32 intid) { return (mmio_read32(sgi_reg(cpu, reg)) >> intid) & 1; }

void cpu_init(u32 cpu)
{
    const uptr waker = rd_frame(cpu) + static_cast<u32>(Gicr::Waker);
    mmio_write32(waker, mmio_read32(waker) & ~kWakerProcessorSleep);
    for (u32 spin = 0; mmio_read32(waker) & kWakerChildrenAsleep; spin++)
        if (spin > 1000000)
            fatal("vCPU%u: GICR_WAKER.ChildrenAsleep stays set", cpu);

    mmio_write32(sgi_reg(cpu, GicrSgi::Icenabler0), 0xffffffff);
    mmio_write32(sgi_reg(cpu, GicrSgi::Icpendr0), 0xffffffff);
    mmio_write32(sgi_reg(cpu, GicrSgi::Icactiver0), 0xffffffff);
    mmio_write32(sgi_reg(cpu, GicrSgi::Igroupr0), 0xffffffff);  // all Group 1
    for (u32 i = 0; i < 32; i += 4)
        mmio_write32(sgi_reg(cpu, GicrSgi::Ipriorityr) + i, kPriority * 0x01010101u);
    mmio_write32(sgi_reg(cpu, GicrSgi::Icfgr1), 0);  // PPIs level-sensitive
    mmio_write32(sgi_reg(cpu, GicrSgi::Isenabler0), 0xffff);  // SGIs; PPIs are enabled by whoever uses them
    enable_ppi(cpu, hw::kVtimerPpi);  // wait_until's deadline wake-up

    MSR(ICC_SRE_EL1, MRS(ICC_SRE_EL1) | 1);
    isb();
    MSR(ICC_PMR_EL1, 0xff);
    MSR(ICC_BPR1_EL1, 0);
    MSR(ICC_CTLR_EL1, 0);  // EOImode 0: EOIR1 drops priority and deactivates
    MSR(ICC_IGRPEN1_EL1, 1);
    isb();
}

void send_sgi(u32 intid, u32 targets)
{
    dsb_ish();  // what the target reads when the SGI arrives is visible
    MSR(ICC_SGI1R_EL1, sgi1r_value(intid, targets));
    isb();
}

} // namespace gic
