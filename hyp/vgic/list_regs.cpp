#include "vgic/list_regs.h"

#include "vgic/regs.h"

namespace vgic {

namespace {

unsigned lr_count(const LrFile& lrf) { return lrf.num < kMaxLrs ? lrf.num : kMaxLrs; }

bool routed_here(const IrqState& i, u32 intid, u32 v) { return intid < kNumPrivate || i.target == v; }

u8 model_state(const IrqState& i)
{
    return static_cast<u8>((i.lr_pending ? kStatePending : 0) | (i.active ? kStateActive : 0));
}

void release(VcpuState& vs, unsigned k, IrqState& i)
{
    i.res_vcpu = kNoVcpu;
    i.res_lr = kNoLr;
    vs.slots[k] = LrSlot{};
}

// Take the pending state back from the guest. It returns to the latch when
// it came from there; a level line still high holds its own.
void withdraw(IrqState& i)
{
    if (i.lr_pending && i.lr_from_latch)
        i.latch = true;
    i.lr_pending = false;
    i.lr_from_latch = false;
}

bool wants_eoi_exit(const VcpuState& vs, u32 intid, const IrqState& i)
{
    return (!i.edge && i.line && !i.hw) || (intid < kNumSgis && vs.sgi_exit);
}

void place(VcpuState& vs, u32 v, unsigned k, u32 intid, IrqState& i)
{
    // Level sources get an EOI maintenance interrupt so the line is
    // re-sampled as soon as the guest deactivates. HW interrupts cannot
    // (the pINTID field overlaps the EOI bit) and do not need it: their
    // pending state lives in the physical GIC. SGIs get one while the
    // scheduler waits for this vCPU to answer an IPI (sgi_exit).
    const bool eoi = wants_eoi_exit(vs, intid, i);
    i.lr_from_latch = i.latch;
    i.latch = false;
    i.lr_pending = true;
    i.res_vcpu = static_cast<u8>(v);
    i.res_lr = static_cast<u8>(k);
    vs.slots[k] = LrSlot{.intid = static_cast<u16>(intid), .written = 0, .eoi = eoi};
}

u64 encode(u32 intid, const IrqState& i, const LrSlot& slot)
{
    u64 lr = u64{intid} << kLrVintidShift | u64{i.priority} << kLrPriorityShift |
             u64{slot.written} << kLrStateShift;
    if (i.group1)
        lr |= kLrGroup;
    if (i.hw)
        lr |= kLrHw | u64{intid} << kLrPintidShift;
    else if (slot.eoi)
        lr |= kLrEoi;
    return lr;
}

// The non-resident interrupt `v` should take next: lowest priority value,
// ties to the lowest INTID (scan order plus strict comparison).
u32 best_candidate(const VgicState& s, u32 v, u32 ctl, Scope scope)
{
    u32 best = kNoIntid;
    u8 best_prio = 0;
    auto consider = [&](u32 intid, const IrqState& i) {
        if (i.resident() || !s.wants_service(i, ctl))
            return;
        // A HW interrupt is never pending+active: wait for its deactivation.
        if (i.hw && i.active)
            return;
        if (best == kNoIntid || i.priority < best_prio) {
            best = intid;
            best_prio = i.priority;
        }
    };
    for (u32 intid = 0; intid < kNumPrivate; intid++)
        consider(intid, s.vcpu[v].priv[intid]);
    if (scope == Scope::PrivateOnly)
        return best;
    for (u32 k = 0; k < s.nr_spis; k++)
        if (s.spi[k].target == v)
            consider(kNumPrivate + k, s.spi[k]);
    return best;
}

int free_slot(const VcpuState& vs, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        if (vs.slots[k].intid == kNoIntid)
            return static_cast<int>(k);
    return -1;
}

// The lowest-priority pending-only LR, if a candidate of priority `prio`
// beats it. Active LRs stay: the guest is in the middle of handling them.
int eviction_victim(VgicState& s, u32 v, unsigned n, u8 prio)
{
    const VcpuState& vs = s.vcpu[v];
    int worst = -1;
    for (unsigned k = 0; k < n; k++) {
        const u32 intid = vs.slots[k].intid;
        if (intid == kNoIntid)
            continue;
        const IrqState& i = s.irq(v, intid);
        if (!i.lr_pending || i.active)
            continue;
        if (worst < 0) {
            worst = static_cast<int>(k);
            continue;
        }
        const IrqState& w = s.irq(v, vs.slots[worst].intid);
        if (i.priority > w.priority || (i.priority == w.priority && intid > vs.slots[worst].intid))
            worst = static_cast<int>(k);
    }
    if (worst >= 0 && s.irq(v, vs.slots[worst].intid).priority > prio)
        return worst;
    return -1;
}

} // namespace

u32 lr_fold(VgicState& s, u32 v, const LrFile& lrf)
{
    VcpuState& vs = s.vcpu[v];
    const unsigned n = lr_count(lrf);
    const u32 ctl = s.ctlr_now();
    u32 kicks = 0;
    for (unsigned k = 0; k < n; k++) {
        LrSlot& slot = vs.slots[k];
        if (slot.intid == kNoIntid)
            continue;
        IrqState& i = s.irq(v, slot.intid);
        // Apply only the guest's own transitions (acknowledge: P -> A,
        // deactivate: A -> nothing) so that MMIO changes made by other
        // vCPUs since the flush survive.
        const u8 now = lr_state(lrf.lr[k]);
        const u8 was = slot.written;
        if ((was & kStatePending) && !(now & kStatePending)) {
            i.lr_pending = false;
            i.lr_from_latch = false;
            i.active = (now & kStateActive) != 0;
        } else if ((was & kStateActive) && !(now & kStateActive)) {
            i.active = false;
        }
        slot.written = now;
        if (!i.lr_pending && !i.active) {
            const u32 intid = slot.intid;
            if (intid < kNumSgis)
                __atomic_store_n(&vs.sgis_done, vs.sgis_done + 1, __ATOMIC_RELEASE);
            // The guest's deactivation of a HW-mapped level interrupt
            // deactivated the physical one: its line is low until that fires
            // again (at once, if the source is still asserted).
            if (i.hw && !i.edge)
                __atomic_store_n(&i.line, false, __ATOMIC_RELAXED);
            release(vs, k, i);
            // An edge that arrived while it was active here was kicked to
            // us (where it was resident); if it now routes elsewhere, pass
            // it on. Our own flush picks it up otherwise.
            if (intid >= kNumPrivate)
                kicks |= s.spi_kick(i, ctl) & ~static_cast<u32>(bit(v));
        }
    }
    return kicks;
}

u32 lr_flush(VgicState& s, u32 v, LrFile& lrf, Scope scope)
{
    VcpuState& vs = s.vcpu[v];
    const unsigned n = lr_count(lrf);
    const u32 ctl = s.ctlr_now();
    u32 kicks = 0;

    // Resident interrupts first: they must absorb new events for the same
    // INTID, since one INTID may occupy only one LR.
    for (unsigned k = 0; k < n; k++) {
        const u32 intid = vs.slots[k].intid;
        if (intid == kNoIntid)
            continue;
        IrqState& i = s.irq(v, intid);
        const bool fwd = VgicState::forwarded(i, ctl);
        if (fwd && i.latch && (i.lr_pending || (i.active && !i.hw))) {
            // Coalesce into the pending copy, or make an edge that arrived
            // while the guest handles the previous one pending+active.
            i.lr_pending = true;
            i.latch = false;
            i.lr_from_latch = true;
        }
        const bool line_dropped = !i.edge && !i.line && !i.lr_from_latch;
        const bool moved_away = !i.active && !routed_here(i, intid, v);
        if (i.lr_pending && (!fwd || moved_away || line_dropped))
            withdraw(i);
        if (!i.lr_pending && !i.active) {
            release(vs, k, i);
            if (intid >= kNumPrivate)
                kicks |= s.spi_kick(i, ctl) & ~static_cast<u32>(bit(v));
        }
    }

    // Then the best candidates into free LRs, evicting worse pending ones.
    bool overflow = false;
    for (;;) {
        const u32 c = best_candidate(s, v, ctl, scope);
        if (c == kNoIntid)
            break;
        IrqState& ci = s.irq(v, c);
        int k = free_slot(vs, n);
        if (k < 0) {
            k = eviction_victim(s, v, n, ci.priority);
            if (k < 0) {
                // Everything left is no better than what the LRs hold.
                overflow = true;
                break;
            }
            IrqState& victim = s.irq(v, vs.slots[k].intid);
            withdraw(victim);
            release(vs, static_cast<unsigned>(k), victim);
        }
        place(vs, v, static_cast<unsigned>(k), c, ci);
    }

    for (unsigned k = 0; k < n; k++) {
        LrSlot& slot = vs.slots[k];
        if (slot.intid == kNoIntid) {
            // Also clears a stale EOI bit that would keep ICH_EISR_EL2 set.
            lrf.lr[k] = 0;
            continue;
        }
        const IrqState& i = s.irq(v, slot.intid);
        // A line that rose while the guest handles the previous assertion
        // is re-sampled at deactivation; an SGI already resident exits at
        // its deactivation once the scheduler waits for it.
        if (wants_eoi_exit(vs, slot.intid, i))
            slot.eoi = true;
        slot.written = model_state(i);
        lrf.lr[k] = encode(slot.intid, i, slot);
    }
    // Underflow maintenance brings us back once the guest has freed LRs.
    lrf.hcr = (lrf.hcr & ~kHcrUie) | kHcrEn | (overflow ? kHcrUie : 0);
    return kicks;
}

bool lr_has_pending(const VgicState& s, u32 v, const LrFile& lrf, Scope scope)
{
    const VcpuState& vs = s.vcpu[v];
    const unsigned n = lr_count(lrf);
    for (unsigned k = 0; k < n; k++)
        if (vs.slots[k].intid != kNoIntid && lr_state(lrf.lr[k]) == kStatePending)
            return true;
    return best_candidate(s, v, s.ctlr_now(), scope) != kNoIntid;
}

u32 lr_reset(VgicState& s, u32 v, LrFile& lrf, u32& kicks)
{
    VcpuState& vs = s.vcpu[v];
    const u32 ctl = s.ctlr_now();
    u32 hw = 0;
    for (unsigned k = 0; k < kMaxLrs; k++) {
        const u32 intid = vs.slots[k].intid;
        if (intid == kNoIntid)
            continue;
        IrqState& i = s.irq(v, intid);
        if (intid < kNumPrivate) {
            if (i.hw)
                hw |= static_cast<u32>(bit(intid));
        } else {
            // The SPI outlives this vCPU's reset: keep its pending state,
            // drop the activation the old guest context never completed.
            withdraw(i);
            i.active = false;
        }
        release(vs, k, i);
        if (intid >= kNumPrivate)
            kicks |= s.spi_kick(i, ctl);
    }
    for (u32 intid = 0; intid < kNumPrivate; intid++) {
        const IrqState& i = vs.priv[intid];
        if (i.hw && i.latch)
            hw |= static_cast<u32>(bit(intid));
    }
    s.reset_private(v);
    for (unsigned k = 0; k < lr_count(lrf); k++)
        lrf.lr[k] = 0;
    lrf.hcr &= ~kHcrUie;
    return hw;
}

} // namespace vgic
