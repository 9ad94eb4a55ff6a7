// What a pCPU's hardware holds that the generic Pcpu does not describe, and
// how a pCPU finds its own Pcpu (TPIDR_EL2).
#pragma once
#include <sysreg.h>  // <>: host tests substitute a fake (tests/unit/fake_arch)
#include "types.h"

class Vm;

struct PcpuArch {
    // ICH_LR<n>_EL2 and ICH_HCR_EL2 as last written or read (vif.h).
    u64 vif_lr[kMaxHwListRegs];
    u64 vif_hcr;
    // The VM whose stage 2 (VTTBR_EL2) and CNTVOFF_EL2 are loaded.
    const Vm* vm;
};

template <typename T>
inline T* cpu_local()
{
    return reinterpret_cast<T*>(read_tpidr_el2());
}
