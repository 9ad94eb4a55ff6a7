#include "gic.h"

#include <cpu.h>
#include "log.h"
#include "mmio_io.h"
#include "vm/pcpu.h"
#include "per_pcpu.h"
#include "sysreg.h"
#include "vgic/regs.h"

namespace {
// The physical GIC has the register layout the virtual one models, so the
// driver uses the same named offsets (vgic/regs.h).
using vgic::Gicd;
using vgic::Gicr;
using vgic::GicrSgi;
constexpr u64 kRedistStride = 0x20000;
using vgic::kCtlrAre;
using vgic::kCtlrEnableGrp1;
using vgic::kWakerChildrenAsleep;
using vgic::kWakerProcessorSleep;
constexpr u64 kTyperLast = bit(4);

u64 g_gicd;
PerPcpu<u64> g_gicr; // each pCPU's redistributor frame

u64 gicd(Gicd r) { return g_gicd + static_cast<u64>(r); }

u64 my_gicr() { return g_gicr[this_pcpu_id()]; }
u64 gicr(Gicr r) { return my_gicr() + static_cast<u64>(r); }
u64 gicr(GicrSgi r) { return my_gicr() + vgic::kGicrSgiFrame + static_cast<u64>(r); }

u64 affinity_of(u64 mpidr) { return (mpidr & 0xffffff) | ((mpidr >> 32) & 0xff) << 24; }
} // namespace

namespace gic {

void init_distributor(u64 gicd_base)
{
    g_gicd = gicd_base;
    mmio_write32(gicd(Gicd::Ctlr), 0);
    const u32 lines = (mmio_read32(gicd(Gicd::Typer)) & 0x1f) + 1; // units of 32
    for (u32 n = 1; n < lines; n++) {
        mmio_write32(gicd(Gicd::Icenabler) + 4 * n, ~0u);
        mmio_write32(gicd(Gicd::Igroupr) + 4 * n, ~0u);
    }
    // Affinity routing, group 1 (QEMU's GIC has a single security state).
    mmio_write32(gicd(Gicd::Ctlr), kCtlrAre | kCtlrEnableGrp1);
}

void init_cpu(u64 gicr_base, u64 gicr_size, u64 mpidr)
{
    const u64 aff = affinity_of(mpidr);
    u64 frame = 0;
    for (u64 f = gicr_base; f < gicr_base + gicr_size; f += kRedistStride) {
        const u64 typer = mmio_read64(f + static_cast<u64>(Gicr::Typer));
        if ((typer >> 32) == aff) {
            frame = f;
            break;
        }
        if (typer & kTyperLast)
            break;
    }
    if (!frame)
        hyp_panic("no GIC redistributor for MPIDR 0x%llx", static_cast<unsigned long long>(mpidr));
    g_gicr[this_pcpu_id()] = frame;

    // Wake the redistributor and wait until it says so.
    mmio_write32(gicr(Gicr::Waker), mmio_read32(gicr(Gicr::Waker)) & ~kWakerProcessorSleep);
    while (mmio_read32(gicr(Gicr::Waker)) & kWakerChildrenAsleep)
        cpu_relax();
    mmio_write32(gicr(GicrSgi::Icenabler0), ~0u);
    mmio_write32(gicr(GicrSgi::Igroupr0), ~0u);
    mmio_write32(gicr(GicrSgi::Icactiver0), ~0u);

    write_icc_sre_el2(read_icc_sre_el2() | 0x9); // SRE | Enable (EL1 may use the system registers)
    isb();
    write_icc_pmr_el1(0xff);
    write_icc_bpr1_el1(0);
    write_icc_ctlr_el1(bit(1)); // EOImode: EOIR drops priority, DIR deactivates
    write_icc_igrpen1_el1(1);
    isb();
}

void enable_private(u32 intid, u8 priority)
{
    mmio_write8(gicr(GicrSgi::Ipriorityr) + intid, priority);
    mmio_write32(gicr(GicrSgi::Isenabler0), 1u << intid);
}

void route_spi(u32 intid, u64 mpidr, u8 priority)
{
    mmio_write8(gicd(Gicd::Ipriorityr) + intid, priority);
    const u64 cfg = gicd(Gicd::Icfgr) + 4 * (intid / 16);
    mmio_write32(cfg, mmio_read32(cfg) & ~(2u << (2 * (intid % 16)))); // level
    mmio_write64(gicd(Gicd::Irouter) + 8 * intid, affinity_of(mpidr) & 0xffffff);
    mmio_write32(gicd(Gicd::Isenabler) + 4 * (intid / 32), 1u << (intid % 32));
}

void clear_active_private(u32 intid) { mmio_write32(gicr(GicrSgi::Icactiver0), 1u << intid); }
void set_active_private(u32 intid) { mmio_write32(gicr(GicrSgi::Isactiver0), 1u << intid); }
bool private_active(u32 intid) { return (mmio_read32(gicr(GicrSgi::Isactiver0)) >> intid) & 1; }

void send_sgi(u32 intid, u64 target_mpidr)
{
    const u64 aff1 = (target_mpidr >> 8) & 0xff;
    const u64 aff2 = (target_mpidr >> 16) & 0xff;
    const u64 aff3 = (target_mpidr >> 32) & 0xff;
    const u64 aff0 = target_mpidr & 0xff;
    const u64 rs = aff0 / 16;
    // Make the state the target will look at visible before the interrupt.
    dsb_ish();
    write_icc_sgi1r_el1((aff3 << 48) | (rs << 44) | (aff2 << 32) | (u64{intid} << 24) | (aff1 << 16) |
                        (u64{1} << (aff0 % 16)));
    isb();
}

u32 ack() { return static_cast<u32>(read_icc_iar1_el1() & 0xffffff); }
void eoi(u32 intid) { write_icc_eoir1_el1(intid); }
void deactivate(u32 intid) { write_icc_dir_el1(intid); }

// Capped at what read_ich_lr()/write_ich_lr() reach: more LRs would be
// handed out by the vGIC but never written to hardware.
u32 num_list_regs()
{
    const u32 n = static_cast<u32>(read_ich_vtr_el2() & 0x1f) + 1;
    return n < kMaxHwListRegs ? n : kMaxHwListRegs;
}

} // namespace gic
