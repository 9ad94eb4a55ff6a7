// Bus addresses for the devices the hypervisor drives. QEMU's virtio-mmio
// devices on `virt` reach physical memory untranslated (no IOMMU) and
// coherently (their nodes are "dma-coherent"), and the hypervisor runs
// identity-mapped at EL2 (VA == PA), so a pointer to hypervisor or guest
// RAM is its own bus address. Host unit tests keep this rule: their fake
// devices dereference bus addresses as host pointers.
#pragma once
#include "types.h"

namespace virtio {

inline u64 dma_addr(const void* p) { return reinterpret_cast<uptr>(p); }

} // namespace virtio
