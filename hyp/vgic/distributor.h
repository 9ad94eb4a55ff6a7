// GICD: the guest's view of the distributor. Single Security state (DS=1)
// with affinity routing always on (ARE=1), so the SGI/PPI parts of the
// banked registers live in the redistributors and read as zero here.
#pragma once
#include "mmio.h"
#include "vgic/state.h"

namespace vgic {

class Distributor final : public MmioDevice {
public:
    constexpr explicit Distributor(VgicState& s) : MmioDevice("gicd"), s_(s) {}
    MmioResult access(u32 vcpu, u64 offset, MmioAccess& a) override;

private:
    // Number of implemented SPIs among `count` INTIDs starting at `first`.
    u32 spis_in(u32 first, u32 count) const;
    u32 read_word(u64 offset) const;
    u32 write_word(u64 offset, u32 value); // returns vCPUs to kick
    u64 read_irouter(u32 intid) const;
    u32 write_irouter(u32 intid, u64 value);
    u32 kicks_for(u32 first, u32 affected) const;

    VgicState& s_;
};

} // namespace vgic
