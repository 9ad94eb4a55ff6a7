// Takes only the distributor lock.
#include "vgic/distributor.h"

#include "vgic/irq_regs.h"
#include "vgic/mmio_access.h"
#include "vgic/regs.h"
#include "vgic/routing.h"

namespace vgic {

namespace {

constexpr u64 kIrouterEnd = off(Gicd::Irouter) + 8 * 1024;
constexpr u64 kPriorityEnd = off(Gicd::Ipriorityr) + 1024;
constexpr u64 kBitBanksEnd = off(Gicd::Igroupr) + 7 * kBitBankSize;
constexpr u64 kIcfgrEnd = off(Gicd::Icfgr) + 4 * 64;

bool in(u64 offset, u64 start, u64 end) { return offset >= start && offset < end; }

} // namespace

u32 Distributor::spis_in(u32 first, u32 count) const
{
    // With ARE=1, INTIDs below 32 belong to the redistributors.
    if (first < kNumPrivate || first - kNumPrivate >= s_.nr_spis)
        return 0;
    const u32 left = s_.nr_spis - (first - kNumPrivate);
    return left < count ? left : count;
}

u32 Distributor::kicks_for(u32 first, u32 affected) const
{
    const u32 ctl = s_.ctlr_now();
    u32 kicks = 0;
    for (u32 k = 0; k < 32; k++)
        if (affected & (1u << k))
            kicks |= s_.spi_kick(s_.spi[first + k - kNumPrivate], ctl);
    return kicks;
}

u32 Distributor::read_word(u64 offset) const
{
    if (offset == off(Gicd::Ctlr))
        return s_.ctlr_now() | kCtlrAre | kCtlrDs;
    if (offset == off(Gicd::Typer)) {
        const u32 it_lines = (kNumPrivate + s_.nr_spis) / 32 - 1;
        return it_lines | (9u << kTyperIdBitsShift) | kTyperA3v | kTyperNo1n;
    }
    if (offset == off(Gicd::Iidr))
        return kIidr;
    if (offset == off(Gicd::Pidr2))
        return kPidr2;

    BitReg r;
    if (in(offset, off(Gicd::Igroupr), kBitBanksEnd) && bit_reg_at(align_down(offset, kBitBankSize), r)) {
        const u32 first = static_cast<u32>(offset % kBitBankSize) / 4 * 32;
        const u32 n = spis_in(first, 32);
        return n ? read_bit_reg(r, &s_.spi[first - kNumPrivate], n) : 0;
    }
    if (in(offset, off(Gicd::Ipriorityr), kPriorityEnd)) {
        const u32 first = static_cast<u32>(offset - off(Gicd::Ipriorityr));
        const u32 n = spis_in(first, 4);
        return n ? read_priorities(&s_.spi[first - kNumPrivate], n) : 0;
    }
    if (in(offset, off(Gicd::Icfgr), kIcfgrEnd)) {
        const u32 first = static_cast<u32>(offset - off(Gicd::Icfgr)) / 4 * 16;
        const u32 n = spis_in(first, 16);
        return n ? read_config(&s_.spi[first - kNumPrivate], n) : 0;
    }
    // TYPER2, STATUSR, ITARGETSR, IGRPMODR, NSACR, SGIR, reserved: RAZ.
    return 0;
}

u32 Distributor::write_word(u64 offset, u32 value)
{
    if (offset == off(Gicd::Ctlr)) {
        const u32 old = s_.ctlr;
        const u32 now = value & (kCtlrEnableGrp0 | kCtlrEnableGrp1);
        __atomic_store_n(&s_.ctlr, now, __ATOMIC_RELAXED);
        // A newly enabled group can release interrupts on any vCPU.
        return (now & ~old) ? s_.all_vcpus() : 0;
    }

    BitReg r;
    if (in(offset, off(Gicd::Igroupr), kBitBanksEnd) && bit_reg_at(align_down(offset, kBitBankSize), r)) {
        const u32 first = static_cast<u32>(offset % kBitBankSize) / 4 * 32;
        const u32 n = spis_in(first, 32);
        if (n == 0)
            return 0;
        return kicks_for(first, write_bit_reg(r, &s_.spi[first - kNumPrivate], n, value));
    }
    if (in(offset, off(Gicd::Ipriorityr), kPriorityEnd)) {
        const u32 first = static_cast<u32>(offset - off(Gicd::Ipriorityr));
        const u32 n = spis_in(first, 4);
        if (n)
            write_priorities(&s_.spi[first - kNumPrivate], n, value);
        return 0;
    }
    if (in(offset, off(Gicd::Icfgr), kIcfgrEnd)) {
        const u32 first = static_cast<u32>(offset - off(Gicd::Icfgr)) / 4 * 16;
        const u32 n = spis_in(first, 16);
        if (n == 0)
            return 0;
        return kicks_for(first, write_config(&s_.spi[first - kNumPrivate], n, value));
    }
    // Read-only or RAZ/WI (TYPER, IIDR, ITARGETSR, IGRPMODR, NSACR, SGIR...).
    return 0;
}

u64 Distributor::read_irouter(u32 intid) const
{
    return spis_in(intid, 1) ? s_.spi[intid - kNumPrivate].irouter : 0;
}

u32 Distributor::write_irouter(u32 intid, u64 value)
{
    if (!spis_in(intid, 1))
        return 0;
    IrqState& i = s_.spi[intid - kNumPrivate];
    i.irouter = value & kIrouterMask;
    i.target = irouter_target(i.irouter, s_.mpidr, s_.nvcpus);
    // A resident SPI finishes where it is; that vCPU's flush hands any
    // pending-only copy back so the new target can take it.
    return s_.spi_kick(i, s_.ctlr_now());
}

MmioResult Distributor::access(u32 /*vcpu*/, u64 offset, MmioAccess& a)
{
    const u64 wdata = a.data;
    if (!a.write)
        a.data = 0;
    if (!aligned(offset, a) || offset >= kGicdSize)
        return MmioResult::Handled;

    u32 kicks = 0;
    {
        LockGuard g(s_.dist_lock);
        if (in(offset, off(Gicd::Irouter), kIrouterEnd)) {
            const u32 intid = static_cast<u32>(offset - off(Gicd::Irouter)) / 8;
            if (a.width == 8) {
                if (a.write)
                    kicks = write_irouter(intid, wdata);
                else
                    a.data = read_irouter(intid);
            } else if (a.width == 4) {
                const u64 cur = read_irouter(intid);
                if (a.write)
                    kicks = write_irouter(intid, merge_half(cur, offset, static_cast<u32>(wdata)));
                else
                    a.data = half_of(cur, offset);
            }
        } else if (a.width == 4) {
            if (a.write)
                kicks = write_word(offset, static_cast<u32>(wdata));
            else
                a.data = read_word(offset);
        } else if (a.width == 1 && in(offset, off(Gicd::Ipriorityr), kPriorityEnd)) {
            const u32 intid = static_cast<u32>(offset - off(Gicd::Ipriorityr));
            if (spis_in(intid, 1)) {
                IrqState* i = &s_.spi[intid - kNumPrivate];
                if (a.write)
                    write_priorities(i, 1, static_cast<u32>(wdata));
                else
                    a.data = read_priorities(i, 1);
            }
        }
        // Whatever a write changed (enable, group, priority, routing,
        // pending, GICD_CTLR), every vCPU's next flush re-reads the SPIs.
        if (a.write)
            __atomic_fetch_or(&s_.spi_dirty, s_.all_vcpus(), __ATOMIC_ACQ_REL);
    }
    s_.kick_spi(kicks);
    return MmioResult::Handled;
}

} // namespace vgic
