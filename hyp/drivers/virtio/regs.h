// The register window of one virtio-mmio transport, as the hypervisor's
// virtio drivers reach it. On the target it is device memory
// (MmioRegWindow in hyp/arch/aarch64/include/virtio_devices.h); host unit tests put a fake
// device behind it. Offsets are from the transport's base (virtio/spec.h).
#pragma once
#include "types.h"

namespace virtio {

class RegWindow {
public:
    // One naturally aligned access of `width` bytes (1, 2 or 4; registers
    // below Config are always 4). A write is ordered after the driver's
    // earlier stores to memory the device reads (descriptors, rings), and a
    // read before the driver's later loads of memory the device wrote.
    virtual u32 read(u32 offset, u8 width) = 0;
    virtual void write(u32 offset, u8 width, u32 value) = 0;

protected:
    ~RegWindow() = default;
};

} // namespace virtio
