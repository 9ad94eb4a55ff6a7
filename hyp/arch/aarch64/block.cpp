// The virtio-blk disk on the target: the semihosting backend, the guest RAM
// view, the interrupt line, and their registration.
//
// Cost model. Every request runs synchronously on the pCPU whose vCPU wrote
// QueueNotify, inside the device lock, and each backend call is a
// semihosting trap into QEMU (a SYS_SEEK, when the position changes, plus a
// SYS_READ/SYS_WRITE per run of whole sectors in one guest buffer). QEMU
// performs the host read()/write() on that vCPU thread holding its big
// lock. So while one request is in the host: the notifying vCPU is stopped,
// any other vCPU touching the disk spins on the device lock, and other
// pCPUs stall whenever they need QEMU's big lock (physical GIC and UART
// accesses). Throughput is bounded by one host syscall at a time; there is
// no request overlap and no asynchronous completion.
//
// Durability: SYS_WRITE goes straight to the host file descriptor (no
// buffering in QEMU), so completed writes are in the host page cache and
// survive QEMU exiting or being killed. Semihosting has no fsync, so FLUSH
// cannot force them to the host's disk; it reports success.
//
// Security: trusted guests only. QEMU decides at translation time that
// `HLT #0xF000` is a semihosting call whenever semihosting is enabled and
// the CPU is not at EL0; it never becomes an exception, so no EL2 control
// (HCR_EL2.TGE, MDCR_EL2.TDE, ...) can trap or forbid it. With a disk
// configured, the guest kernel (EL1) can therefore call semihosting itself,
// with zero exits to EL2: open/read/write any host file QEMU's user can,
// SYS_SYSTEM (run host shell commands), SYS_EXIT (kill QEMU), or an unknown
// operation number (QEMU abort()s). Verified with an EL1 probe image under
// this hypervisor. Without disk= (no -semihosting-config) nothing changes.
// The fix is a backend the guest cannot reach: a QEMU device (virtio-blk on
// one of the board's other virtio-mmio slots, or pflash) that only EL2 maps
// and drives, never in stage 2.
#include "block.h"

#include "config.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_mmio.h"
#include "devices/virtqueue.h"
#include "firmware.h"
#include "log.h"
#include "semihosting.h"
#include "vm.h"

namespace {

unsigned long long ull(u64 v) { return static_cast<unsigned long long>(v); }

class SemihostingDisk final : public BlockBackend {
public:
    constexpr SemihostingDisk() = default;

    bool open(const char* path)
    {
        handle_ = semihosting::open(path, semihosting::OpenMode::ReadWriteBinary);
        if (handle_ < 0)
            return false;
        const i64 len = semihosting::flen(handle_);
        if (len < 0)
            return false;
        bytes_ = static_cast<u64>(len);
        sectors_ = bytes_ / virtio_blk::kSectorSize;
        pos_ = 0;
        return true;
    }

    u64 bytes() const { return bytes_; }
    u64 sectors() const override { return sectors_; }
    bool read(u64 sector, void* buf, u64 count) override { return transfer(false, sector, buf, count); }
    bool write(u64 sector, const void* buf, u64 count) override
    {
        return transfer(true, sector, const_cast<void*>(buf), count);
    }
    bool flush() override { return true; }  // no fsync in semihosting: see the top of the file

    u64 calls() const { return __atomic_load_n(&calls_, __ATOMIC_RELAXED); }
    u64 failures() const { return __atomic_load_n(&failures_, __ATOMIC_RELAXED); }

private:
    static constexpr u64 kUnknownPos = ~u64{0};

    void count(u64& c) { __atomic_store_n(&c, c + 1, __ATOMIC_RELAXED); }

    bool transfer(bool out, u64 sector, void* buf, u64 count_sectors)
    {
        if (count_sectors > sectors_ || sector > sectors_ - count_sectors)
            return false;  // the device checked already; never reach past the file
        u64 off = sector * virtio_blk::kSectorSize;
        u64 len = count_sectors * virtio_blk::kSectorSize;
        u8* p = static_cast<u8*>(buf);
        while (len) {
            if (pos_ != off) {
                count(calls_);
                if (!semihosting::seek(handle_, off)) {
                    pos_ = kUnknownPos;
                    count(failures_);
                    return false;
                }
                pos_ = off;
            }
            count(calls_);
            const u64 left = out ? semihosting::write(handle_, p, len) : semihosting::read(handle_, p, len);
            const u64 done = left <= len ? len - left : 0;
            if (done == 0) {
                pos_ = kUnknownPos;
                count(failures_);
                return false;  // EOF (the file shrank) or a host error
            }
            pos_ += done;
            off += done;
            p += done;
            len -= done;
        }
        return true;
    }

    i64 handle_ = -1;
    u64 bytes_ = 0;
    u64 sectors_ = 0;
    u64 pos_ = kUnknownPos;  // host file position, when known
    u64 calls_ = 0;          // semihosting calls for I/O
    u64 failures_ = 0;
};

class BlockIrq final : public IrqLine {
public:
    void set_level(bool level) override { g_vm.vgic.set_spi_level(kGuestLayout.virtio_spi, level); }
};

constinit GuestMemory g_guest_ram;
constinit SemihostingDisk g_disk;
constinit BlockIrq g_blk_irq;
constinit VirtioBlk g_blk{g_disk, "hyp-virtio-disk0"};
constinit VirtioMmio g_blk_dev{"virtio-blk", g_blk, g_guest_ram, g_blk_irq};
bool g_present;

[[noreturn]] void fatal_disk(const char* what)
{
    hyp_log("FATAL: disk %s: %s", g_vm.opts.disk, what);
    firmware::system_off();
}

} // namespace

void block_setup()
{
    if (g_vm.opts.disk[0] == '\0')
        return;
    // Said first: if QEMU lacks semihosting, the HLT below is undefined at
    // EL2 and the panic that follows would otherwise be a riddle.
    hyp_log("disk: opening %s on the host via semihosting (QEMU needs -semihosting-config enable=on,target=native)",
            g_vm.opts.disk);
    if (!g_disk.open(g_vm.opts.disk))
        fatal_disk("cannot open it read-write on the host (it must exist; make run creates build/disk.img)");
    if (g_disk.sectors() == 0)
        fatal_disk("smaller than one 512-byte sector");
    if (g_disk.bytes() % virtio_blk::kSectorSize)
        hyp_log("disk: %llu trailing bytes beyond the last whole sector are not visible to the guest",
                ull(g_disk.bytes() % virtio_blk::kSectorSize));
    g_guest_ram.init(g_vm.ram_ipa, reinterpret_cast<u8*>(g_vm.ipa_to_pa(g_vm.ram_ipa)), g_vm.ram_size);
    HYP_ASSERT(g_vm.bus.add(kGuestLayout.virtio_ipa, kGuestLayout.virtio_size, g_blk_dev));
    g_present = true;
    hyp_log("disk: virtio-blk (virtio-mmio v2) at IPA 0x%llx, INTID %u: %llu sectors (%llu MiB)",
            ull(kGuestLayout.virtio_ipa), kGuestLayout.virtio_spi, ull(g_disk.sectors()),
            ull(g_disk.sectors() * virtio_blk::kSectorSize / MiB));
}

bool block_present() { return g_present; }

void block_print_stats()
{
    if (!g_present)
        return;
    const VirtioBlk::Stats b = g_blk.stats();
    const VirtioMmio::Stats m = g_blk_dev.stats();
    hyp_log("disk: %llu reads (%llu KiB), %llu writes (%llu KiB), %llu flushes, %llu errors, %llu unsupported; "
            "%llu notifies, %llu interrupts, %llu semihosting calls (%llu failed), %llu device resets",
            ull(b.reads), ull(b.bytes_read / KiB), ull(b.writes), ull(b.bytes_written / KiB), ull(b.flushes),
            ull(b.errors), ull(b.unsupported), ull(m.notifies), ull(m.interrupts), ull(g_disk.calls()),
            ull(g_disk.failures()), ull(m.resets));
}
