// The shared vgic model: SPI state behind the distributor lock, each vCPU's
// private interrupts and LR bookkeeping behind that vCPU's lock.
//
// Lock order: dist_lock before any vcpu[n].lock; never two vCPU locks at once.
#pragma once
#include "config.h"
#include "spinlock.h"
#include "vgic/irq.h"
#include "vgic/notifier.h"

namespace vgic {

constexpr u32 kNumPrivate = 32;   // SGIs 0..15, PPIs 16..31
constexpr u32 kNumSgis = 16;
constexpr u32 kMaxSpis = 988;     // INTIDs 32..1019
constexpr u32 kMaxLrs = 16;       // architectural maximum of ICH_LR<n>_EL2
constexpr u16 kNoIntid = 0xffff;

// What the vgic put in one list register at the last flush.
struct LrSlot {
    u16 intid = kNoIntid;
    u8 written = 0; // LR state written at flush: fold compares it to spot guest transitions
    bool eoi = false;
};

struct VcpuState {
    mutable Spinlock lock;
    IrqState priv[kNumPrivate]{};
    // Written only by the owner's fold/flush, or by reset_vcpu while the
    // vCPU is off; always under the lock anyway.
    LrSlot slots[kMaxLrs]{};
    u32 waker = 0;
    u64 sgi_sent = 0;     // atomic counters, no lock
    u64 sgi_received = 0;
    // Kicks so far (atomic): a scheduler holding a blocked vCPU re-checks
    // has_pending only when this moved, not on every exit of the others.
    mutable u32 events = 0;
    // SGIs the guest has finished handling (deactivated), counted by fold;
    // with sgi_exit set, SGIs are placed with the LR EOI bit so that the
    // deactivation itself exits (a scheduler waiting for an IPI's answer).
    u32 sgis_done = 0;
    bool sgi_exit = false;
};

struct VgicState {
    mutable Spinlock dist_lock;
    u32 ctlr = 0; // GICD_CTLR group enables; written under dist_lock, read atomically
    u32 nvcpus = 0;
    u32 nr_spis = 0;
    u64 mpidr[kMaxVcpus]{};
    Notifier* notifier = nullptr;
    // vCPUs that may have something new to deliver since their last flush:
    // set (atomically) by every kick, cleared by the owner's flush. Lets
    // fold/flush skip the locks on the common exit with nothing to do.
    mutable u32 dirty = 0;
    // vCPUs whose next flush must look at the SPIs: set (atomically, before
    // the kick) whenever SPI state changes in a way that may concern them,
    // cleared by the owner's flush. A vCPU with no SPI resident and this bit
    // clear has nothing to gain from the SPIs, so its fold/flush take only
    // its own lock, never dist_lock: with four pCPUs taking exits at once
    // the one distributor lock had become the machine's bottleneck (most of
    // a multi-pCPU boot was spent spinning on it).
    mutable u32 spi_dirty = 0;
    IrqState spi[kMaxSpis]{};
    VcpuState vcpu[kMaxVcpus]{};

    u32 ctlr_now() const { return __atomic_load_n(&ctlr, __ATOMIC_RELAXED); }
    u32 all_vcpus() const { return static_cast<u32>(mask(nvcpus)); }
    bool is_spi(u32 intid) const { return intid >= kNumPrivate && intid - kNumPrivate < nr_spis; }

    // Private INTIDs resolve in `v`'s bank; caller holds the matching lock.
    IrqState& irq(u32 v, u32 intid) { return intid < kNumPrivate ? vcpu[v].priv[intid] : spi[intid - kNumPrivate]; }
    const IrqState& irq(u32 v, u32 intid) const
    {
        return intid < kNumPrivate ? vcpu[v].priv[intid] : spi[intid - kNumPrivate];
    }

    // Not yet in an LR and the guest could take it now.
    bool wants_service(const IrqState& i, u32 ctl) const { return forwarded(i, ctl) && i.source_pending(); }
    static bool forwarded(const IrqState& i, u32 ctl);

    // The vCPU that must run a flush for this SPI to progress: where it is
    // resident, else where it is routed (kNoVcpu: unroutable).
    static u8 service_vcpu(const IrqState& spi_irq) { return spi_irq.resident() ? spi_irq.res_vcpu : spi_irq.target; }

    // Kick mask for an SPI that may have become deliverable.
    u32 spi_kick(const IrqState& spi_irq, u32 ctl) const;

    void kick(u32 vcpu_mask) const;
    // The same for a kick that comes from SPI state: marks spi_dirty first.
    void kick_spi(u32 vcpu_mask) const;
    // Some LR of `v` holds an SPI. Owner-only bookkeeping: the owner may read
    // it without the lock.
    bool spi_resident(u32 v) const;

    // Power-on values; they keep the init parameters.
    void reset_private(u32 v);
    void reset_spis();
};

} // namespace vgic
