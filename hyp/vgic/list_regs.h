// List-register management on a plain image of the vCPU interface, so the
// policy is testable on the host. The arch code copies ICH_LR<n>_EL2 and
// ICH_HCR_EL2 into an LrFile after each guest exit and back before entry.
//
// All functions here expect the caller to hold the distributor lock and
// then `v`'s lock (see vgic.cpp).
#pragma once
#include "types.h"
#include "vgic/state.h"

namespace vgic {

struct LrFile {
    u64 lr[kMaxLrs];
    unsigned num; // implemented LRs: ICH_VTR_EL2.ListRegs + 1 (4 on QEMU)
    u64 hcr;
};

// Apply what the guest did to the LRs since the last flush (acknowledge,
// deactivate) to the model, and release LRs whose interrupt is finished.
// Returns vCPUs to kick: a released SPI may have a new edge waiting for
// the vCPU it was re-routed to.
u32 lr_fold(VgicState& s, u32 v, const LrFile& lrf);

// Rewrite every LR from the model: merge new events into resident
// interrupts, withdraw ones no longer deliverable here, place the best
// pending candidates, and set ICH_HCR_EL2.UIE when some did not fit.
// Returns vCPUs to kick (an SPI handed back to its new target).
// Scope::PrivateOnly (no SPI resident, none signalled: the caller holds only
// the vCPU lock) leaves the SPIs out of the candidates.
enum class Scope : u8 { All, PrivateOnly };
u32 lr_flush(VgicState& s, u32 v, LrFile& lrf, Scope scope = Scope::All);

// Whether the guest has an interrupt it could take now (WFI wake-up).
bool lr_has_pending(const VgicState& s, u32 v, const LrFile& lrf, Scope scope = Scope::All);

// Empty `v`'s LRs (CPU_ON). Resident SPIs go back to their routing target.
// Returns the private INTIDs whose physical counterpart may still be active
// (HW interrupts resident or latched); `kicks` receives vCPUs to kick.
u32 lr_reset(VgicState& s, u32 v, LrFile& lrf, u32& kicks);

} // namespace vgic
