// Lock order: s_.dist_lock before any s_.vcpu[n].lock; at most one vCPU
// lock at a time. Kicks are issued after every lock is released.
//
// fold/flush/has_pending run on every exit of every pCPU. They take
// dist_lock only when the SPIs matter to this vCPU: an SPI resident in its
// LRs, or spi_dirty set for it (an SPI event since its last flush);
// otherwise its own lock is enough (Scope::PrivateOnly).
#include "vgic/vgic.h"

#include "vgic/regs.h"
#include "vgic/routing.h"

namespace vgic {

void Vgic::init(u32 nvcpus, u32 nr_spis, const u64* vcpu_mpidr, Notifier* notifier)
{
    LockGuard g(s_.dist_lock);
    s_.nvcpus = nvcpus < kMaxVcpus ? nvcpus : kMaxVcpus;
    s_.nr_spis = nr_spis < kMaxSpis ? nr_spis : kMaxSpis;
    for (u32 v = 0; v < kMaxVcpus; v++)
        s_.mpidr[v] = v < s_.nvcpus ? vcpu_mpidr[v] : 0;
    s_.notifier = notifier;
    __atomic_store_n(&s_.ctlr, 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&s_.spi_dirty, s_.all_vcpus(), __ATOMIC_RELAXED);
    s_.reset_spis();
    for (u32 v = 0; v < kMaxVcpus; v++) {
        LockGuard vg(s_.vcpu[v].lock);
        s_.reset_private(v);
    }
}

void Vgic::reset()
{
    LockGuard g(s_.dist_lock);
    __atomic_store_n(&s_.ctlr, 0u, __ATOMIC_RELAXED);
    __atomic_fetch_or(&s_.spi_dirty, s_.all_vcpus(), __ATOMIC_ACQ_REL);
    s_.reset_spis();
    for (u32 v = 0; v < kMaxVcpus; v++) {
        LockGuard vg(s_.vcpu[v].lock);
        s_.reset_private(v);
    }
}

void Vgic::set_spi_level(u32 intid, bool level)
{
    if (!s_.is_spi(intid))
        return;
    u32 kicks;
    {
        LockGuard g(s_.dist_lock);
        IrqState& i = s_.spi[intid - kNumPrivate];
        const bool rising = level && !i.line;
        if (i.edge && rising)
            i.latch = true;
        i.line = level;
        // Only a rising line is news: models re-assert unchanged levels
        // often, and a falling one is withdrawn at the owner's next flush.
        kicks = rising ? s_.spi_kick(i, s_.ctlr_now()) : 0;
    }
    s_.kick_spi(kicks);
}

void Vgic::pulse_spi(u32 intid)
{
    if (!s_.is_spi(intid))
        return;
    u32 kicks;
    {
        LockGuard g(s_.dist_lock);
        IrqState& i = s_.spi[intid - kNumPrivate];
        i.latch = true;
        kicks = s_.spi_kick(i, s_.ctlr_now());
    }
    s_.kick_spi(kicks);
}

void Vgic::set_private_pending(u32 vcpu, u32 intid)
{
    if (vcpu >= s_.nvcpus || intid >= kNumPrivate)
        return;
    bool kick;
    {
        VcpuState& vs = s_.vcpu[vcpu];
        LockGuard g(vs.lock);
        IrqState& i = vs.priv[intid];
        i.latch = true;
        kick = s_.wants_service(i, s_.ctlr_now());
    }
    if (kick)
        s_.kick(static_cast<u32>(bit(vcpu)));
}

bool Vgic::set_private_line(u32 vcpu, u32 intid, bool level, bool hw)
{
    if (vcpu >= s_.nvcpus || intid < kNumSgis || intid >= kNumPrivate)
        return false;
    bool kick = false, active;
    {
        VcpuState& vs = s_.vcpu[vcpu];
        LockGuard g(vs.lock);
        IrqState& i = vs.priv[intid];
        const bool rising = level && !i.line;
        i.hw = hw;
        __atomic_store_n(&i.line, level, __ATOMIC_RELAXED);
        // A PPI the guest configured edge-triggered takes the rising edge.
        if (rising && i.edge)
            i.latch = true;
        if (rising)
            kick = s_.wants_service(i, s_.ctlr_now());
        active = i.active;
    }
    if (kick)
        s_.kick(static_cast<u32>(bit(vcpu)));
    return active;
}

bool Vgic::private_line(u32 vcpu, u32 intid) const
{
    if (vcpu >= s_.nvcpus || intid >= kNumPrivate)
        return false;
    return __atomic_load_n(&s_.vcpu[vcpu].priv[intid].line, __ATOMIC_RELAXED);
}

u32 Vgic::sgi_targets(u32 sender, u64 icc_sgi1r) const
{
    return sender < s_.nvcpus ? sgi1r_targets(icc_sgi1r, sender, s_.mpidr, s_.nvcpus) : 0;
}

u32 Vgic::send_sgi(u32 sender, u64 icc_sgi1r)
{
    if (sender >= s_.nvcpus)
        return 0;
    const u32 intid = decode_sgi1r(icc_sgi1r).intid;
    const u32 targets = sgi1r_targets(icc_sgi1r, sender, s_.mpidr, s_.nvcpus);
    u32 kicks = 0;
    u64 sent = 0;
    for (u32 t = 0; t < s_.nvcpus; t++) {
        if (!(targets & bit(t)))
            continue;
        VcpuState& vs = s_.vcpu[t];
        {
            LockGuard g(vs.lock);
            IrqState& i = vs.priv[intid];
            i.latch = true;
            if (s_.wants_service(i, s_.ctlr_now()))
                kicks |= static_cast<u32>(bit(t));
        }
        __atomic_fetch_add(&vs.sgi_received, 1, __ATOMIC_RELAXED);
        sent++;
    }
    __atomic_fetch_add(&s_.vcpu[sender].sgi_sent, sent, __ATOMIC_RELAXED);
    s_.kick(kicks);
    return targets;
}

namespace {
// The owner's LR bookkeeping is written only on the owner's pCPU, so the
// owner may read it without the lock.
bool no_lr_in_use(const VcpuState& vs)
{
    for (const LrSlot& slot : vs.slots)
        if (slot.intid != kNoIntid)
            return false;
    return true;
}
} // namespace

bool Vgic::quiet(u32 vcpu, const LrFile& lrf) const
{
    return no_lr_in_use(s_.vcpu[vcpu]) && !(lrf.hcr & kHcrUie) &&
           !(__atomic_load_n(&s_.dirty, __ATOMIC_ACQUIRE) & bit(vcpu));
}

void Vgic::fold(u32 vcpu, const LrFile& lrf)
{
    if (vcpu >= s_.nvcpus || no_lr_in_use(s_.vcpu[vcpu]))
        return;
    u32 kicks = 0;
    if (s_.spi_resident(vcpu)) {
        {
            LockGuard g(s_.dist_lock);
            LockGuard vg(s_.vcpu[vcpu].lock);
            kicks = lr_fold(s_, vcpu, lrf);
        }
        // A released SPI may be pending again here (a level line still
        // high): the next flush must look at the SPIs.
        __atomic_fetch_or(&s_.spi_dirty, static_cast<u32>(bit(vcpu)), __ATOMIC_ACQ_REL);
    } else {
        LockGuard vg(s_.vcpu[vcpu].lock);
        kicks = lr_fold(s_, vcpu, lrf);
    }
    // What the guest completed may be pending again (a level line still
    // high, a HW interrupt that waited for its deactivation): the next flush
    // must look, not take the fast path.
    __atomic_fetch_or(&s_.dirty, static_cast<u32>(bit(vcpu)), __ATOMIC_ACQ_REL);
    s_.kick_spi(kicks);
}

void Vgic::flush(u32 vcpu, LrFile& lrf)
{
    if (vcpu >= s_.nvcpus)
        return;
    // Nothing resident, nothing left over, nothing new: the last full flush
    // found no candidate and no event has made one since.
    if (quiet(vcpu, lrf)) {
        for (unsigned k = 0; k < lrf.num && k < kMaxLrs; k++)
            lrf.lr[k] = 0;
        lrf.hcr = (lrf.hcr & ~kHcrUie) | kHcrEn;
        return;
    }
    // Cleared before the scan: an event racing with it sets the bit again.
    const u32 me = static_cast<u32>(bit(vcpu));
    __atomic_fetch_and(&s_.dirty, ~me, __ATOMIC_ACQ_REL);
    const bool spis = s_.spi_resident(vcpu) || (__atomic_fetch_and(&s_.spi_dirty, ~me, __ATOMIC_ACQ_REL) & me);
    u32 kicks = 0;
    if (spis) {
        {
            LockGuard g(s_.dist_lock);
            LockGuard vg(s_.vcpu[vcpu].lock);
            kicks = lr_flush(s_, vcpu, lrf, Scope::All);
        }
        // Candidates that did not fit may include SPIs: look again next time.
        if (lrf.hcr & kHcrUie)
            __atomic_fetch_or(&s_.spi_dirty, me, __ATOMIC_ACQ_REL);
    } else {
        LockGuard vg(s_.vcpu[vcpu].lock);
        kicks = lr_flush(s_, vcpu, lrf, Scope::PrivateOnly);
    }
    s_.kick_spi(kicks);
}

bool Vgic::has_pending(u32 vcpu, const LrFile& lrf) const
{
    if (vcpu >= s_.nvcpus || quiet(vcpu, lrf))
        return false;
    const bool spis = s_.spi_resident(vcpu) || (__atomic_load_n(&s_.spi_dirty, __ATOMIC_ACQUIRE) & bit(vcpu));
    if (!spis) {
        LockGuard vg(s_.vcpu[vcpu].lock);
        return lr_has_pending(s_, vcpu, lrf, Scope::PrivateOnly);
    }
    LockGuard g(s_.dist_lock);
    LockGuard vg(s_.vcpu[vcpu].lock);
    return lr_has_pending(s_, vcpu, lrf, Scope::All);
}

u32 Vgic::reset_vcpu(u32 vcpu, LrFile& lrf)
{
    if (vcpu >= s_.nvcpus)
        return 0;
    u32 kicks = 0;
    u32 hw;
    {
        LockGuard g(s_.dist_lock);
        LockGuard vg(s_.vcpu[vcpu].lock);
        hw = lr_reset(s_, vcpu, lrf, kicks);
    }
    s_.kick_spi(kicks);
    return hw;
}

u32 Vgic::events(u32 vcpu) const
{
    return vcpu < kMaxVcpus ? __atomic_load_n(&s_.vcpu[vcpu].events, __ATOMIC_ACQUIRE) : 0;
}

u32 Vgic::sgis_done(u32 vcpu) const
{
    return vcpu < kMaxVcpus ? __atomic_load_n(&s_.vcpu[vcpu].sgis_done, __ATOMIC_ACQUIRE) : 0;
}

void Vgic::set_sgi_exit(u32 vcpu, bool on)
{
    if (vcpu >= s_.nvcpus)
        return;
    LockGuard g(s_.vcpu[vcpu].lock);
    s_.vcpu[vcpu].sgi_exit = on;
}

u64 Vgic::sgi_sent(u32 vcpu) const
{
    return vcpu < kMaxVcpus ? __atomic_load_n(&s_.vcpu[vcpu].sgi_sent, __ATOMIC_RELAXED) : 0;
}

u64 Vgic::sgi_received(u32 vcpu) const
{
    return vcpu < kMaxVcpus ? __atomic_load_n(&s_.vcpu[vcpu].sgi_received, __ATOMIC_RELAXED) : 0;
}

} // namespace vgic
