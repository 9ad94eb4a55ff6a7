// Finding and reaching QEMU's virtio-mmio devices. See virtio_devices.h.
#include "virtio_devices.h"

#include "drivers/virtio/transport.h"
#include "mmio_io.h"

u32 MmioRegWindow::read(u32 offset, u8 width)
{
    const u64 a = base_ + offset;
    const u32 v = width == 1 ? mmio_read8(a) : width == 2 ? mmio_read16(a) : mmio_read32(a);
    dma_rmb();
    return v;
}

void MmioRegWindow::write(u32 offset, u8 width, u32 value)
{
    const u64 a = base_ + offset;
    dma_wmb();
    if (width == 1)
        mmio_write8(a, static_cast<u8>(value));
    else if (width == 2)
        mmio_write16(a, static_cast<u16>(value));
    else
        mmio_write32(a, value);
}

namespace {
u32 g_claimed;  // bit i: host.virtio[i] belongs to a driver
static_assert(HostPlatform::kMaxVirtio <= 32);
} // namespace

VirtioClaim virtio_claim(const HostPlatform& host, u32 device_id, const VirtioSlot*& out)
{
    VirtioClaim result = VirtioClaim::None;
    for (u32 i = 0; i < host.nvirtio; i++) {
        if (g_claimed & (1u << i))
            continue;
        MmioRegWindow w;
        w.set_base(host.virtio[i].base);
        virtio::Transport t(w);
        const virtio::Probe p = t.probe();
        if (p == virtio::Probe::Device && t.device_id() == device_id) {
            g_claimed |= 1u << i;
            out = &host.virtio[i];
            return VirtioClaim::Found;
        }
        if (p == virtio::Probe::Legacy && t.device_id() == device_id)
            result = VirtioClaim::Legacy;
    }
    return result;
}
