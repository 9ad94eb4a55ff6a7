// The virtual GICv3 (no LPIs/ITS) as the rest of the hypervisor sees it.
//
// Per vCPU, the core calls fold() after every guest exit and flush() right
// before every entry, on the pCPU running that vCPU, with the LrFile it
// copies from/to ICH_LR<n>_EL2 and ICH_HCR_EL2. Everything else may be
// called from any pCPU at any time.
//
// Lock order: the distributor lock before any vCPU lock.
#pragma once
#include "mmio.h"
#include "types.h"
#include "vgic/distributor.h"
#include "vgic/list_regs.h"
#include "vgic/notifier.h"
#include "vgic/redistributor.h"
#include "vgic/state.h"

namespace vgic {

class Vgic {
public:
    constexpr Vgic() : dist_(s_), redist_(s_) {}
    Vgic(const Vgic&) = delete;
    Vgic& operator=(const Vgic&) = delete;

    // `vcpu_mpidr[n]` supplies vCPU n's affinity fields (MPIDR_EL1 layout).
    // nvcpus is capped at kMaxVcpus and nr_spis at kMaxSpis.
    void init(u32 nvcpus, u32 nr_spis, const u64* vcpu_mpidr, Notifier* notifier);
    // Power-on state, keeping the init parameters. The next flush of each
    // vCPU overwrites whatever its LRs still hold.
    void reset();

    MmioDevice& distributor() { return dist_; }    // kGicdSize bytes at gicd_ipa
    MmioDevice& redistributors() { return redist_; } // redistributors_size() at gicr_ipa
    u64 redistributors_size() const { return redist_.size(); }

    // Device inputs. A level change on an SPI configured edge-triggered
    // counts a rising edge.
    void set_spi_level(u32 intid, bool level);
    void pulse_spi(u32 intid);
    // SGI/PPI made pending on `vcpu` (an edge).
    void set_private_pending(u32 vcpu, u32 intid);
    // The level of PPI `intid`'s line on `vcpu` (a level-sensitive source:
    // the pending state follows it). hw=true injects it with HW=1 and
    // pINTID=intid (the timers): the physical interrupt stays active until
    // the guest deactivates the virtual one, and that deactivation lowers
    // the line again (a source still asserted fires again at EL2 and raises
    // it). Returns whether the guest has the interrupt active.
    bool set_private_line(u32 vcpu, u32 intid, bool level, bool hw);
    // The line as last set (lock-free; for the owner's exit path).
    bool private_line(u32 vcpu, u32 intid) const;

    // Guest write to ICC_SGI1R_EL1 on `sender`. Returns the target mask.
    u32 send_sgi(u32 sender, u64 icc_sgi1r);
    // The target mask that write would have, without sending (the trace).
    u32 sgi_targets(u32 sender, u64 icc_sgi1r) const;

    void fold(u32 vcpu, const LrFile& lrf);
    void flush(u32 vcpu, LrFile& lrf);
    // Something the guest could take now: resident pending LR or an
    // unplaced deliverable interrupt. Ignores the guest's priority mask.
    bool has_pending(u32 vcpu, const LrFile& lrf) const;
    // Kicks aimed at `vcpu` so far. has_pending() can turn true only after
    // this moves, so a blocked vCPU need not be re-checked until then.
    u32 events(u32 vcpu) const;
    // SGIs `vcpu` has finished handling so far (fold saw them deactivated).
    u32 sgis_done(u32 vcpu) const;
    // While set, `vcpu`'s SGIs are delivered so that their deactivation
    // exits to the hypervisor (LR EOI bit): a scheduler lending the pCPU to
    // an IPI's target learns at once that it has answered. Owner pCPU only.
    void set_sgi_exit(u32 vcpu, bool on);
    // No LR in use, no overflow and no event since the last flush.
    bool quiet(u32 vcpu, const LrFile& lrf) const;
    // CPU_ON: empty its LRs and reset its private interrupts and WAKER.
    // Returns the private INTIDs whose physical interrupt may still be
    // active (HW-resident or HW-latched): the caller deactivates them.
    u32 reset_vcpu(u32 vcpu, LrFile& lrf);

    // Statistics for the exit table. Counted per (SGI, target) pair, so the
    // totals over all vCPUs are equal.
    u64 sgi_sent(u32 vcpu) const;
    u64 sgi_received(u32 vcpu) const;

    // Runs f() with the distributor lock held (the console's crash key
    // panics inside it: run.cpp).
    template <typename F>
    void with_dist_lock(F f)
    {
        LockGuard g(s_.dist_lock);
        f();
    }

    u32 nvcpus() const { return s_.nvcpus; }
    u32 nr_spis() const { return s_.nr_spis; }

private:
    friend struct VgicTestPeer; // tests/unit: reaches the locks
    VgicState s_;
    Distributor dist_;
    Redistributors redist_;
};

} // namespace vgic
