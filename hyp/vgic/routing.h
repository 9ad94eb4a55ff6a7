// Affinity routing: which vCPUs an ICC_SGI1R_EL1 write or a GICD_IROUTER
// value names. Pure functions over the vCPUs' MPIDR affinity fields.
#pragma once
#include "types.h"

namespace vgic {

// ICC_SGI1R_EL1 fields.
struct Sgi1r {
    u32 target_list; // [15:0]: Aff0 = rs*16 + k for each set bit k
    u32 aff1;        // [23:16]
    u32 intid;       // [27:24]
    u32 aff2;        // [39:32]
    bool irm;        // [40]: every PE but the sender
    u32 rs;          // [47:44]
    u32 aff3;        // [55:48]
};

Sgi1r decode_sgi1r(u64 value);

// Bitmask of vCPU indices the write targets. `sender` matters only for IRM.
u32 sgi1r_targets(u64 value, u32 sender, const u64* mpidr, u32 nvcpus);

// vCPU index an SPI with this IROUTER value goes to, or kNoVcpu (0xff) when
// no vCPU has that affinity: the SPI then waits until it is re-routed.
// IRM=1 (any PE) always picks vCPU 0, a valid 1-of-N choice that keeps
// delivery deterministic.
u8 irouter_target(u64 irouter, const u64* mpidr, u32 nvcpus);

} // namespace vgic
