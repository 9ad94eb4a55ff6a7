// A VM's disk: the emulated virtio-blk the guest drives,
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
// device is given only the hypervisor's ring and slots (VmDisk::dma) and guest
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
// BlkDriver, the transport and the DMA slots are guarded by the device lock.
//
// Each VM with a disk has its own QEMU device (the i-th virtio-blk-device on
// QEMU's command line belongs to the i-th VM that asks for one), its own
// driver, ring and DMA slots, and sees only its own RAM through GuestMemory:
// a request naming another VM's memory fails like any buffer outside RAM.
#include "vm/vm_disk.h"

#include "config.h"
#include "devices/blk_forward.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_mmio.h"
#include "devices/virtqueue.h"
#include "drivers/virtio/blk.h"
#include "drivers/virtio/transport.h"
#include "host_irq.h"
#include "log.h"
#include "drivers/virtio/dma.h"
#include "virtio_devices.h"
#include "vm/arch.h"
#include "vm/traced_backend.h"
#include "vm/vm.h"

namespace {

// The pCPU that takes the real device's completion interrupt: the one of
// the VM's vCPU 0, to which Linux routes the disk interrupt by default (pCPU
// 0 in the one-VM presets). Never another VM's: handling it takes pCPU
// time, which the placement gives only to the VM itself.
u32 completion_pcpu(const Vm& vm) { return vm.vcpus[0].pcpu; }

unsigned long long ull(u64 v) { return static_cast<unsigned long long>(v); }

// Milliseconds for the backend's progress watchdog (BlkForward).
class CounterClock final : public MsClock {
public:
    u64 now_ms() const override { return arch::now() / (arch::ticks_per_second() / 1000); }
};
constinit CounterClock g_clock;

class DiskIrq final : public IrqLine {
public:
    void set_level(bool level) override { vm->vgic.set_spi_level(kGuestLayout.virtio_spi, level); }
    Vm* vm = nullptr;
};

} // namespace

struct VmDisk {
    GuestMemory ram{};
    MmioRegWindow window{};
    virtio::Transport transport{window};
    virtio::BlkDma dma{};
    virtio::BlkDriver driver{};
    BlkForward forward{driver, ram, g_clock};
    TracedBackend traced{forward};
    DiskIrq irq{};
    VirtioBlk blk{traced, "hyp-virtio-disk0"};
    VirtioMmio dev{"virtio-blk", blk, ram, irq};
    const VirtioSlot* slot = nullptr;
    Vm* vm = nullptr;                       // the VM it belongs to
    char serial[virtio_blk::kIdBytes + 1]{}; // its GET_ID answer
};

namespace {
constinit VmDisk g_disks[kMaxVms];
u32 g_ndisks;
// GET_ID's answer buffer: written by QEMU's device, so DMA-visible.
alignas(64) u8 g_id_buf[virtio_blk::kIdBytes];

void completion_irq(u32, void* ctx) { static_cast<VmDisk*>(ctx)->dev.service(); }

// The device's serial (QEMU's -device virtio-blk-device,serial=...), asked
// once at boot, synchronously: nothing else uses the device yet.
void read_serial(VmDisk& d)
{
    const virtio::DmaBuf buf{virtio::dma_addr(g_id_buf), sizeof g_id_buf, true};
    for (u8& b : g_id_buf)
        b = 0;
    if (d.driver.submit(virtio_blk::kTGetId, 0, &buf, 1, 0) != virtio::BlkDriver::Submit::Queued)
        return;
    d.driver.kick();
    const u64 deadline = arch::now() + arch::ticks_per_second();
    u64 token = 0;
    u8 status = 0;
    while (!d.driver.reap(token, status))
        if (arch::now() > deadline)
            return;
    d.driver.ack_interrupt();
    if (status != virtio_blk::kSOk)
        return;
    for (usize i = 0; i < sizeof g_id_buf && g_id_buf[i]; i++)
        d.serial[i] = static_cast<char>(g_id_buf[i]);
}

bool same(const char* a, const char* b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}
} // namespace

const char* vm_disks_probe(const HostPlatform& host)
{
    for (;;) {
        const VirtioSlot* slot = nullptr;
        switch (virtio_claim(host, virtio::kDeviceBlock, slot)) {
        case VirtioClaim::None: return nullptr;
        case VirtioClaim::Legacy:
            return "disk: QEMU's virtio-mmio transports use the legacy layout: run QEMU with "
                   "-global virtio-mmio.force-legacy=false (scripts/run-qemu.sh does)";
        case VirtioClaim::Found: break;
        }
        // Different address spaces, but keep them apart anyway: a reader
        // (or a future identity map of device windows) must never confuse
        // the two.
        if (slot->base < kGuestLayout.virtio_ipa + kGuestLayout.virtio_size &&
            kGuestLayout.virtio_ipa < slot->base + slot->size)
            return "disk: the real device's transport overlaps the guest's emulated one: move kGuestLayout.virtio_ipa";
        if (g_ndisks == kMaxVms)
            return "disk: more virtio-blk devices than VMs can have (kMaxVms)";
        VmDisk& d = g_disks[g_ndisks++];
        d.window.set_base(slot->base);
        d.slot = slot;
        virtio::Setup why = virtio::Setup::Ok;
        if (d.driver.init(d.transport, d.dma, &why) != virtio::BlkDriver::Init::Ok) {
            hyp_log("disk at 0x%llx: %s", ull(slot->base), virtio::setup_name(why));
            return "disk: QEMU's virtio-blk device could not be brought up";
        }
        if (d.driver.capacity() == 0)
            return "disk: the image is smaller than one 512-byte sector";
        read_serial(d);
    }
}

const char* vm_disk_attach(Vm& vm, const char* serial)
{
    if (serial && !serial[0]) {
        hyp_log("VM %u disk: none", vm.id);
        return nullptr;
    }
    VmDisk* d = nullptr;
    for (u32 i = 0; i < g_ndisks && !d; i++)
        if (!g_disks[i].vm && (!serial || same(g_disks[i].serial, serial)))
            d = &g_disks[i];
    if (!d) {
        if (serial)
            return "a VM's disk: no QEMU virtio-blk device has its serial (scripts/machine.py gives "
                   "each -device virtio-blk-device serial=<name>)";
        hyp_log("VM %u disk: none (QEMU has no virtio-blk-device for it; make run DISK=path gives it one)", vm.id);
        return nullptr;
    }
    d->vm = &vm;
    d->irq.vm = &vm;
    d->traced.set_vm(static_cast<u8>(vm.id));
    d->ram.init(vm.ram_ipa, reinterpret_cast<u8*>(vm.ipa_to_pa(vm.ram_ipa)), vm.ram_size);
    if (!vm.bus.add(kGuestLayout.virtio_ipa, kGuestLayout.virtio_size, d->dev))
        return "disk: the MMIO bus is full";
    if (!host_irq_attach(d->slot->intid, completion_pcpu(vm), completion_irq, d))
        return "disk: cannot attach the device's interrupt";
    vm.disk = d;
    hyp_log("VM %u disk: virtio-blk (virtio-mmio v2) at IPA 0x%llx, INTID %u: %llu sectors (%llu MiB)%s%s%s", vm.id,
            ull(kGuestLayout.virtio_ipa), kGuestLayout.virtio_spi, ull(d->driver.capacity()),
            ull(d->driver.capacity() * virtio_blk::kSectorSize / MiB), d->driver.read_only() ? ", read-only" : "",
            d->serial[0] ? ", serial " : "", d->serial);
    hyp_log("VM %u disk backend: QEMU virtio-blk at PA 0x%llx (never mapped for a guest), INTID %u -> pCPU %u, "
            "queue %u, seg_max %u, block size %u",
            vm.id, ull(d->slot->base), d->slot->intid, completion_pcpu(vm), d->driver.queue_size(),
            d->driver.max_segments(), d->driver.block_size());
    return nullptr;
}

void vm_disk_reset(Vm& vm)
{
    if (vm.disk)
        vm.disk->dev.reset();
}

void vm_disk_print_stats(const Vm& vm)
{
    const VmDisk* d = vm.disk;
    if (!d)
        return;
    const VirtioBlk::Stats b = d->blk.stats();
    const VirtioMmio::Stats m = d->dev.stats();
    const virtio::BlkDriver::Stats ds = d->driver.stats();
    hyp_log("VM %u disk: %llu reads (%llu KiB), %llu writes (%llu KiB), %llu flushes, %llu errors, %llu unsupported; "
            "%llu notifies, %llu interrupts, %llu device resets",
            vm.id, ull(b.reads), ull(b.bytes_read / KiB), ull(b.writes), ull(b.bytes_written / KiB), ull(b.flushes),
            ull(b.errors), ull(b.unsupported), ull(m.notifies), ull(m.interrupts), ull(m.resets));
    hyp_log("VM %u disk backend: %llu requests (%llu failed), %llu notifies, %llu interrupts, %llu waits for room, "
            "max %llu in flight, %llu bogus completions, %llu buffers refused, %llu restarts",
            vm.id, ull(ds.submitted), ull(ds.failed), ull(ds.notifies), ull(ds.interrupts), ull(b.waits),
            ull(b.max_in_flight), ull(ds.bogus), ull(d->forward.refused()), ull(ds.restarts));
}
