// Takes one vCPU lock at a time, never the distributor lock.
#include "vgic/redistributor.h"

#include "vgic/irq_regs.h"
#include "vgic/mmio_access.h"
#include "vgic/regs.h"

namespace vgic {

namespace {

constexpr u64 kSgiPriorityEnd = off(GicrSgi::Ipriorityr) + kNumPrivate;
constexpr u64 kSgiBitBanksEnd = off(GicrSgi::Igroupr0) + 7 * kBitBankSize;
constexpr u32 kSgiConfig = 0xaaaa'aaaa; // ICFGR0: every SGI edge-triggered

} // namespace

u64 Redistributors::size() const { return u64{s_.nvcpus} * kGicrStride; }

u64 Redistributors::typer(u32 v) const
{
    const u64 m = s_.mpidr[v];
    const u64 affinity = bits(m, 39, 32) << 24 | bits(m, 23, 16) << 16 | bits(m, 15, 8) << 8 | bits(m, 7, 0);
    u64 t = affinity << kGicrTyperAffShift | u64{v} << kGicrTyperProcNumShift;
    if (v + 1 == s_.nvcpus)
        t |= kGicrTyperLast;
    return t;
}

void Redistributors::rd_access(u32 v, u64 offset, MmioAccess& a, u64 wdata)
{
    if (offset == off(Gicr::Typer) || offset == off(Gicr::Typer) + 4) {
        // Read-only; 64-bit or either 32-bit half.
        if (!a.write && (a.width == 4 || (a.width == 8 && offset == off(Gicr::Typer))))
            a.data = a.width == 8 ? typer(v) : half_of(typer(v), offset);
        return;
    }
    if (a.width != 4)
        return;
    if (offset == off(Gicr::Iidr)) {
        if (!a.write)
            a.data = kIidr;
    } else if (offset == off(Gicr::Pidr2)) {
        if (!a.write)
            a.data = kPidr2;
    } else if (offset == off(Gicr::Waker)) {
        VcpuState& vs = s_.vcpu[v];
        LockGuard g(vs.lock);
        if (a.write) {
            // ChildrenAsleep follows ProcessorSleep at once: nothing to quiesce.
            vs.waker = (wdata & kWakerProcessorSleep) ? kWakerProcessorSleep | kWakerChildrenAsleep : 0;
        } else {
            a.data = vs.waker;
        }
    }
    // CTLR, STATUSR, PROPBASER, PENDBASER (no LPIs), reserved: RAZ/WI.
}

u32 Redistributors::sgi_access(u32 v, u64 offset, MmioAccess& a, u64 wdata)
{
    VcpuState& vs = s_.vcpu[v];
    const u32 value = static_cast<u32>(wdata);
    u32 affected = 0;
    {
        LockGuard g(vs.lock);
        BitReg r;
        if (offset >= off(GicrSgi::Ipriorityr) && offset < kSgiPriorityEnd) {
            if (a.width == 1 || a.width == 4) {
                IrqState* first = &vs.priv[offset - off(GicrSgi::Ipriorityr)];
                if (a.write)
                    write_priorities(first, a.width, value);
                else
                    a.data = read_priorities(first, a.width);
            }
        } else if (a.width != 4) {
            // Everything else in the frame is a 32-bit register.
        } else if (offset >= off(GicrSgi::Igroupr0) && offset < kSgiBitBanksEnd && offset % kBitBankSize == 0 &&
                   bit_reg_at(offset, r)) {
            if (a.write)
                affected = write_bit_reg(r, vs.priv, kNumPrivate, value);
            else
                a.data = read_bit_reg(r, vs.priv, kNumPrivate);
        } else if (offset == off(GicrSgi::Icfgr0)) {
            if (!a.write)
                a.data = kSgiConfig;
        } else if (offset == off(GicrSgi::Icfgr1)) {
            IrqState* ppis = &vs.priv[16];
            if (a.write)
                affected = write_config(ppis, 16, value) << 16;
            else
                a.data = read_config(ppis, 16);
        }
        // IGRPMODR0, NSACR, reserved: RAZ/WI.

        const u32 ctl = s_.ctlr_now();
        for (u32 k = 0; k < kNumPrivate; k++)
            if ((affected & (1u << k)) && s_.wants_service(vs.priv[k], ctl))
                return static_cast<u32>(bit(v));
    }
    return 0;
}

MmioResult Redistributors::access(u32 /*vcpu*/, u64 offset, MmioAccess& a)
{
    const u64 wdata = a.data;
    if (!a.write)
        a.data = 0;
    const u64 frame = offset / kGicrStride;
    if (frame >= s_.nvcpus || !aligned(offset, a))
        return MmioResult::Handled;
    const u32 v = static_cast<u32>(frame);
    const u64 in_frame = offset % kGicrStride;
    if (in_frame < kGicrSgiFrame) {
        rd_access(v, in_frame, a, wdata);
    } else {
        const u64 reg = in_frame - kGicrSgiFrame;
        if (!a.write && reg >= off(GicrSgi::Ispendr0) && reg < off(GicrSgi::Icactiver0) + 4 && s_.notifier)
            s_.notifier->sample_lines(v);
        // Kick only after the vCPU lock is dropped.
        const u32 kicks = sgi_access(v, reg, a, wdata);
        s_.kick(kicks);
    }
    return MmioResult::Handled;
}

} // namespace vgic
