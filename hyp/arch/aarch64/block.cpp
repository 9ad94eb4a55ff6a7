// The guest's disk on the target: the emulated virtio-blk the guest drives,
// backed by one of QEMU's own virtio-blk devices that only the hypervisor
// drives (QEMU opens the image file: -drive ... -device virtio-blk-device,
// from scripts/run-qemu.sh).
//
//   guest virtio_blk ── trap ──▶ VirtioMmio/VirtioBlk (checks every request)
//        ──▶ BlkForward ──▶ BlkDriver: own ring, own header and status bytes,
//            the guest's data buffers by physical address
//        ──▶ QEMU virtio-blk-device ──▶ image file (FLUSH = fdatasync)
//   completion: QEMU's SPI ──▶ pCPU 0 ──▶ VirtioMmio::service()
//        ──▶ guest used ring + guest SPI (vGIC: to the vCPU the guest chose,
//            kick SGI if that vCPU is on another pCPU)
//
// Isolation. The real transport is never mapped in stage 2 and its DTB node
// is not in the guest's, so the guest reaches only the emulation. The real
// device is given only the hypervisor's ring and slots (g_dma) and guest
// data buffers that VirtioBlk mapped through GuestMemory and BlkForward
// checked again; a malformed request fails in VirtioBlk and never reaches it.
//
// Cost model. A request is asynchronous. The notifying vCPU traps once (its
// QueueNotify), the hypervisor pops and checks the guest's chains and writes
// them into its own ring, then notifies QEMU once per batch: a second trap,
// into QEMU, which parses our ring and starts the host I/O (its thread pool)
// before the vCPU returns to the guest. The vCPU runs on (or WFIs) while the
// host reads or writes the file. The completion is QEMU's interrupt on
// pCPU 0: an exit of whatever runs there, two register accesses to
// acknowledge it, the used entries, and the guest's interrupt. Up to 256
// descriptors (two maximal requests, many small ones) are in flight at
// once, so the four vCPUs' requests overlap in the host. The device lock is
// held only while requests are translated or completed, never while the host
// does I/O. Copies: none; the data moves between the file and guest RAM by
// QEMU's DMA.
//
// Lock order: the device lock (VirtioMmio) -> vGIC locks. BlkForward,
// BlkDriver, the transport and g_dma are guarded by the device lock.
#include "block.h"

#include "config.h"
#include "devices/blk_forward.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_mmio.h"
#include "devices/virtqueue.h"
#include "drivers/virtio/blk.h"
#include "drivers/virtio/transport.h"
#include "firmware.h"
#include "host_irq.h"
#include "log.h"
#include "sysreg.h"
#include "virtio_devices.h"
#include "vm.h"

namespace {

// The pCPU that takes the real device's completion interrupt. 0 in both
// modes: it always runs guest code, and it is where vCPU 0, which Linux
// routes the disk interrupt to by default, lives.
constexpr u32 kCompletionPcpu = 0;

unsigned long long ull(u64 v) { return static_cast<unsigned long long>(v); }

class CounterClock final : public MsClock {
public:
    u64 now_ms() const override { return read_cntpct_el0() / (read_cntfrq_el0() / 1000); }
};

class BlockIrq final : public IrqLine {
public:
    void set_level(bool level) override { g_vm.vgic.set_spi_level(kGuestLayout.virtio_spi, level); }
};

constinit GuestMemory g_guest_ram;
constinit MmioRegWindow g_window;
constinit virtio::Transport g_transport{g_window};
constinit virtio::BlkDma g_dma{};
constinit virtio::BlkDriver g_driver;
constinit CounterClock g_clock;
constinit BlkForward g_forward{g_driver, g_guest_ram, g_clock};
constinit BlockIrq g_blk_irq;
constinit VirtioBlk g_blk{g_forward, "hyp-virtio-disk0"};
constinit VirtioMmio g_blk_dev{"virtio-blk", g_blk, g_guest_ram, g_blk_irq};
const VirtioSlot* g_slot;

void completion_irq(u32) { g_blk_dev.service(); }

[[noreturn]] void fatal_disk(const char* what, const char* detail = "")
{
    hyp_log("FATAL: disk: %s%s", what, detail);
    firmware::system_off();
}

} // namespace

void block_setup(const HostPlatform& host)
{
    const VirtioSlot* slot = nullptr;
    switch (virtio_claim(host, virtio::kDeviceBlock, slot)) {
    case VirtioClaim::None:
        hyp_log("disk: none (QEMU has no virtio-blk-device; make run DISK=path gives it one)");
        return;
    case VirtioClaim::Legacy:
        fatal_disk("QEMU's virtio-mmio transports use the legacy layout: run QEMU with "
                   "-global virtio-mmio.force-legacy=false (scripts/run-qemu.sh does)");
    case VirtioClaim::Found: break;
    }
    // Different address spaces, but keep them apart anyway: a reader (or a
    // future identity map of device windows) must never confuse the two.
    if (slot->base < kGuestLayout.virtio_ipa + kGuestLayout.virtio_size &&
        kGuestLayout.virtio_ipa < slot->base + slot->size)
        fatal_disk("the real device's transport overlaps the guest's emulated one: move kGuestLayout.virtio_ipa");
    g_window.set_base(slot->base);
    virtio::Setup why = virtio::Setup::Ok;
    if (g_driver.init(g_transport, g_dma, &why) != virtio::BlkDriver::Init::Ok)
        fatal_disk("QEMU's virtio-blk device could not be brought up: ", virtio::setup_name(why));
    if (g_driver.capacity() == 0)
        fatal_disk("the image is smaller than one 512-byte sector");
    g_guest_ram.init(g_vm.ram_ipa, reinterpret_cast<u8*>(g_vm.ipa_to_pa(g_vm.ram_ipa)), g_vm.ram_size);
    HYP_ASSERT(g_vm.bus.add(kGuestLayout.virtio_ipa, kGuestLayout.virtio_size, g_blk_dev));
    HYP_ASSERT(host_irq_attach(slot->intid, kCompletionPcpu, completion_irq));
    g_slot = slot;
    hyp_log("disk: virtio-blk (virtio-mmio v2) at IPA 0x%llx, INTID %u: %llu sectors (%llu MiB)%s",
            ull(kGuestLayout.virtio_ipa), kGuestLayout.virtio_spi, ull(g_driver.capacity()),
            ull(g_driver.capacity() * virtio_blk::kSectorSize / MiB), g_driver.read_only() ? ", read-only" : "");
    hyp_log("disk backend: QEMU virtio-blk at PA 0x%llx (never mapped for the guest), INTID %u -> pCPU %u, "
            "queue %u, seg_max %u, block size %u",
            ull(slot->base), slot->intid, kCompletionPcpu, g_driver.queue_size(), g_driver.max_segments(),
            g_driver.block_size());
}

bool block_present() { return g_slot != nullptr; }

void block_print_stats()
{
    if (!g_slot)
        return;
    const VirtioBlk::Stats b = g_blk.stats();
    const VirtioMmio::Stats m = g_blk_dev.stats();
    const virtio::BlkDriver::Stats d = g_driver.stats();
    hyp_log("disk: %llu reads (%llu KiB), %llu writes (%llu KiB), %llu flushes, %llu errors, %llu unsupported; "
            "%llu notifies, %llu interrupts, %llu device resets",
            ull(b.reads), ull(b.bytes_read / KiB), ull(b.writes), ull(b.bytes_written / KiB), ull(b.flushes),
            ull(b.errors), ull(b.unsupported), ull(m.notifies), ull(m.interrupts), ull(m.resets));
    hyp_log("disk backend: %llu requests (%llu failed), %llu notifies, %llu interrupts, %llu waits for room, "
            "max %llu in flight, %llu bogus completions, %llu buffers refused, %llu restarts",
            ull(d.submitted), ull(d.failed), ull(d.notifies), ull(d.interrupts), ull(b.waits), ull(b.max_in_flight),
            ull(d.bogus), ull(g_forward.refused()), ull(d.restarts));
}
