// QEMU's virtio-mmio devices, as the hypervisor's own drivers find and
// reach them: the transports the host DTB lists (HostPlatform::virtio),
// probed at boot, and their registers in device memory. None of this is
// ever mapped in stage 2, and guest_dtb.cpp drops every "virtio,mmio" node
// of QEMU's tree, so the guest can neither see nor reach these devices.
#pragma once
#include "drivers/virtio/regs.h"
#include "fdt/host_platform.h"
#include "types.h"

// A transport's register window at its physical address (identity-mapped,
// Device-nGnRE, by mmu.cpp).
class MmioRegWindow final : public virtio::RegWindow {
public:
    constexpr MmioRegWindow() = default;
    void set_base(u64 base) { base_ = base; }
    u64 base() const { return base_; }
    u32 read(u32 offset, u8 width) override;
    void write(u32 offset, u8 width, u32 value) override;

private:
    u64 base_ = 0;
};

enum class VirtioClaim : u8 {
    Found,   // *out is the device's transport, now claimed
    None,    // no unclaimed transport holds such a device
    Legacy,  // one does, but with the legacy (version 1) registers
};

// Probes the host's transports for a device of type `device_id` (virtio/
// spec.h kDevice*) that no earlier call claimed, and claims the first.
// Boot time, primary pCPU only (the claims are not locked).
VirtioClaim virtio_claim(const HostPlatform& host, u32 device_id, const VirtioSlot*& out);
