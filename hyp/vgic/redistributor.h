// GICR: one RD_base + SGI_base frame pair per vCPU, laid out back to back.
// The frame, not the accessor, selects the vCPU: any vCPU may probe any
// redistributor (Linux walks them all reading GICR_TYPER).
#pragma once
#include "mmio.h"
#include "vgic/state.h"

namespace vgic {

class Redistributors final : public MmioDevice {
public:
    constexpr explicit Redistributors(VgicState& s) : MmioDevice("gicr"), s_(s) {}
    // Size of the MMIO window: nvcpus * kGicrStride.
    u64 size() const;
    MmioResult access(u32 vcpu, u64 offset, MmioAccess& a) override;

private:
    u64 typer(u32 v) const;
    void rd_access(u32 v, u64 offset, MmioAccess& a, u64 wdata);
    u32 sgi_access(u32 v, u64 offset, MmioAccess& a, u64 wdata); // returns vCPUs to kick

    VgicState& s_;
};

} // namespace vgic
