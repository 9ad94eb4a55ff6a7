// hwmode=hostile: a VM that does its worst to the machine it shares, for
// the isolation test's hostile neighbour. Each boot is one round on every
// vCPU of the VM, then SYSTEM_RESET, so the VM reboots from its pristine
// images and starts the next round, for as long as the machine runs:
//
//   1. SGI storms: ICC_SGI1R_EL1, ICC_SGI0R_EL1 and ICC_ASGI1R_EL1 with
//      every INTID, both IRM values, Aff3/Aff2/Aff1 of 0, 1 and 0xff, range
//      selectors 0, 1 and 15, full and random target lists, then random
//      64-bit values; interrupts stay masked, so they pile up pending.
//   2. PSCI with bad arguments over HVC and SMC: CPU_ON to MPIDRs that are
//      not this VM's (or nobody's) and with entry points outside its RAM,
//      AFFINITY_INFO with bad levels, CPU_SUSPEND, PSCI_FEATURES of every
//      function number, and every PSCI and random SMCCC function ID but
//      the ones that would stop the round (CPU_OFF on vCPU 0, SYSTEM_OFF,
//      SYSTEM_SUSPEND; SYSTEM_RESET comes last anyway).
//   3. Racing PSCI: vCPU 0 keeps calling CPU_ON(1) while vCPU 1 comes up,
//      storms, calls PSCI and powers itself off again, many times.
//   4. Its own disk (virtio-blk, slot 0) driven properly, with requests
//      whose buffers lie outside its RAM: at the IPA `hwpeer=` names (the
//      test passes an address inside VM 0's host-physical RAM, which a
//      device that took IPAs for host addresses would reach) and far out.
//      A write from its own RAM to sector 16 is the control: the test
//      finds it in the disk image, so the queue really worked. A second
//      queue has its rings themselves at the peer address.
//   5. Writes of random values over every 32-bit register of the
//      distributor, of eight redistributor frames (this VM's and ones no
//      vCPU has) and of all 32 virtio-mmio slots.
//   6. SYSTEM_RESET.
//
// Every access the hypervisor refuses comes back as an abort, which the
// handler counts and steps over (cpu.cpp). One HOSTILE line per phase.
#include "console.h"
#include "cpu.h"
#include "gic.h"
#include "hw.h"
#include "modes.h"
#include "psci.h"
#include "smp.h"
#include "sysreg.h"

extern "C" char secondary_entry[];

namespace {

constexpr u64 kSystemReset = 0x8400'0009;
constexpr u64 kVirtioBase = 0x0a00'0000;
constexpr u32 kVirtioSlots = 32;
constexpr u64 kVirtioSlotSize = 0x200;
constexpr u32 kGicrFrames = 8;
constexpr u32 kRaceRounds = 40;

u32 g_nvcpus;
RamRange g_ram;
u64 g_vcpu1_starts;  // CPU_ONs of vCPU 1 that reached hostile_secondary

u64 take_faults()
{
    const u64 n = faults_pending();
    fault_reset();
    return n;
}

// Every SGI register with every target encoding the register can hold.
u64 sgi_storm(Rng& rng)
{
    static constexpr u64 kAff[] = {0, 1, 0xff};
    static constexpr u64 kRs[] = {0, 1, 15};
    u64 n = 0;
    for (u64 intid = 0; intid < 16; intid++)
        for (u64 irm = 0; irm < 2; irm++)
            for (u64 a3 : kAff)
                for (u64 a2 : kAff)
                    for (u64 a1 : kAff)
                        for (u64 rs : kRs) {
                            const u64 list = (n & 1) ? 0xffff : rng.next() & 0xffff;
                            const u64 v = a3 << 48 | rs << 44 | irm << 40 | a2 << 32 | intid << 24 | a1 << 16 | list;
                            MSR(ICC_SGI1R_EL1, v);
                            MSR(ICC_SGI0R_EL1, v);
                            MSR(ICC_ASGI1R_EL1, v);
                            n += 3;
                        }
    for (u32 i = 0; i < 1000; i++, n++)
        MSR(ICC_SGI1R_EL1, rng.next());
    isb();
    return n;
}

bool stops_the_round(u64 fn)
{
    // The hypervisor reads the function ID from w0 (SMCCC), with or without
    // the SMC64 bit: keep away from the calls that would end the round.
    const u32 f = static_cast<u32>(fn) & ~(1u << 30);
    return f == 0x8400'0002 || f == 0x8400'0008 || f == 0x8400'0009 || f == 0x8400'000e || f == 0x8400'0012 ||
           f == 0x8400'0001;
}

u64 call(bool smc, u64 fn, u64 a1, u64 a2, u64 a3)
{
    return smc ? psci::smc(fn, a1, a2, a3) : psci::hvc(fn, a1, a2, a3);
}

struct PsciStats {
    u64 calls, successes;
};

PsciStats psci_bad(Rng& rng, u32 self)
{
    PsciStats st{};
    const u64 ram_end = g_ram.base + g_ram.size;
    const u64 bad_mpidr[] = {g_nvcpus, g_nvcpus + 1, 7, 0x100, 0x1'0000, 0x1'0000'0000, 0xff'00ff'ffff, ~u64{0}};
    const u64 bad_entry[] = {0, 1, g_ram.base - 4, g_ram.base + 2, ram_end, ram_end + 0x1000, 0x4'0000'0000,
                             ~u64{0} - 3, 0x0900'0000};
    for (u32 smc = 0; smc < 2; smc++) {
        const u64 fns[] = {psci::kCpuOn, 0x8400'0003};
        const u64 entries[] = {addr_of(secondary_entry), bad_entry[0], bad_entry[4], bad_entry[7]};
        for (u64 fn : fns) {
            for (u64 m : bad_mpidr)
                for (u64 e : entries) {
                    st.calls++;
                    st.successes += static_cast<i32>(call(smc, fn, m, e, rng.next())) == psci::kSuccess;
                }
            // This VM's own vCPUs (the other one is usually on) with entries outside its RAM.
            for (u32 cpu = 0; cpu < g_nvcpus; cpu++)
                for (u64 e : bad_entry) {
                    st.calls++;
                    st.successes += static_cast<i32>(call(smc, fn, cpu, e, rng.next())) == psci::kSuccess;
                }
        }
        for (u64 m : bad_mpidr)
            for (u64 level = 0; level < 6; level++) {
                st.calls += 2;
                call(smc, psci::kAffinityInfo, m, level, 0);
                call(smc, psci::kAffinityInfo, self, level | (rng.next() << 8), 0);
            }
        for (u64 f = 0; f < 0x100; f++) {
            st.calls += 2;
            call(smc, psci::kFeatures, 0x8400'0000 | f, 0, 0);
            call(smc, psci::kFeatures, 0xc400'0000 | f, 0, 0);
        }
        // Every PSCI function number in both conventions, with random arguments.
        const u64 bases[] = {0x8400'0000, 0xc400'0000, 0xffff'ffff'8400'0000};
        for (u64 f = 0; f < 0x20; f++)
            for (u64 base : bases) {
                if (stops_the_round(base | f))
                    continue;
                st.calls++;
                call(smc, base | f, rng.next(), rng.next(), rng.next());
            }
        // Random SMCCC function IDs (fast and yielding calls of every owner).
        for (u32 i = 0; i < 400; i++) {
            const u64 fn = rng.next();
            if (stops_the_round(fn))
                continue;
            st.calls++;
            call(smc, fn, rng.next(), rng.next(), rng.next());
        }
    }
    // HVC immediates other than 0.
    for (u32 i = 0; i < 50; i++) {
        register u64 x0 asm("x0") = psci::kVersion;
        asm volatile("hvc #1\n\thvc #0xffff" : "+r"(x0)::"x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10",
                     "x11", "x12", "x13", "x14", "x15", "x16", "x17", "memory");
        st.calls += 2;
    }
    return st;
}

// CPU_SUSPEND in both power-state types, with and without a valid entry:
// the SGIs of the storm are pending, so a standby returns at once; the
// virtual timer is a backstop.
u64 suspend_calls()
{
    u64 n = 0;
    wake_timer_arm(cntvct() + us_to_ticks(2000));
    const u64 states[] = {0, u64{1} << 16, ~u64{0}, 0x1'0000'ffff};
    const u64 entries[] = {addr_of(secondary_entry), 0};
    for (u64 ps : states)
        for (u64 e : entries) {
            psci::hvc(psci::kCpuSuspend, ps, e, 0);
            n++;
        }
    wake_timer_disarm();
    return n;
}

struct WriteStats {
    u64 writes, aborts;
};

void scribble(uptr base, u64 size, Rng& rng, WriteStats& st)
{
    for (u64 off = 0; off < size; off += 4) {
        mmio_write32(base + off, static_cast<u32>(rng.next()));
        st.writes++;
        st.aborts += take_faults();
    }
}

// The test ends the rounds by typing 'q' on the console: SYSTEM_OFF.
// Looked for between phases; a 'q' that arrives during a reset is lost
// with the UART's FIFO, so the test repeats it.
void stop_if_asked()
{
    while (console_rx_ready()) {
        if (console_getc() == 'q') {
            print("HOSTILE stop (q on the console)\n");
            psci::system_off();
        }
    }
}

// virtio-mmio v2 (virtio 1.2, 4.2.2) and virtio-blk (5.2.6).
enum class Vio : u32 {
    Magic = 0x000,
    DeviceId = 0x008,
    DriverFeatures = 0x020,
    DriverFeaturesSel = 0x024,
    QueueSel = 0x030,
    QueueNumMax = 0x034,
    QueueNum = 0x038,
    QueueReady = 0x044,
    QueueNotify = 0x050,
    Status = 0x070,
    QueueDescLow = 0x080,
    QueueDescHigh = 0x084,
    QueueDriverLow = 0x090,
    QueueDriverHigh = 0x094,
    QueueDeviceLow = 0x0a0,
    QueueDeviceHigh = 0x0a4,
};
constexpr u32 kStAck = 1, kStDriver = 2, kStDriverOk = 4, kStFeaturesOk = 8;
constexpr u16 kDescNext = 1, kDescWrite = 2;
constexpr u32 kBlkIn = 0, kBlkOut = 1;
constexpr u32 kQueueNum = 16;
constexpr u32 kChains = 4;
constexpr u64 kControlSector = 16;
constexpr u64 kPeerSector = 24;
constexpr u8 kControlByte = 0x5a;

struct VDesc {
    u64 addr;
    u32 len;
    u16 flags, next;
};
struct VAvail {
    u16 flags, idx, ring[kQueueNum];
};
struct VUsedElem {
    u32 id, len;
};
struct VUsed {
    u16 flags, idx;
    VUsedElem ring[kQueueNum];
};
struct BlkHeader {
    u32 type, reserved;
    u64 sector;
};
struct alignas(4096) VirtioArea {
    VDesc desc[kQueueNum];
    VAvail avail;
    alignas(4) VUsed used;
    BlkHeader hdr[kChains];
    u8 status[kChains];
    alignas(512) u8 control_data[512];
};
VirtioArea g_vio;

void vio_w(Vio r, u32 v) { mmio_write32(kVirtioBase + static_cast<u32>(r), v); }
u32 vio_r(Vio r) { return mmio_read32(kVirtioBase + static_cast<u32>(r)); }

void vio_queue(u64 desc, u64 avail, u64 used)
{
    vio_w(Vio::QueueSel, 0);
    vio_w(Vio::QueueNum, kQueueNum);
    vio_w(Vio::QueueDescLow, static_cast<u32>(desc));
    vio_w(Vio::QueueDescHigh, static_cast<u32>(desc >> 32));
    vio_w(Vio::QueueDriverLow, static_cast<u32>(avail));
    vio_w(Vio::QueueDriverHigh, static_cast<u32>(avail >> 32));
    vio_w(Vio::QueueDeviceLow, static_cast<u32>(used));
    vio_w(Vio::QueueDeviceHigh, static_cast<u32>(used >> 32));
    vio_w(Vio::QueueReady, 1);
}

bool vio_start()
{
    vio_w(Vio::Status, 0);
    for (u32 i = 0; vio_r(Vio::Status) != 0; i++)
        if (i > 100000)
            return false;
    vio_w(Vio::Status, kStAck | kStDriver);
    vio_w(Vio::DriverFeaturesSel, 1);
    vio_w(Vio::DriverFeatures, 1);  // VIRTIO_F_VERSION_1 (bit 32)
    vio_w(Vio::DriverFeaturesSel, 0);
    vio_w(Vio::DriverFeatures, 0);
    vio_w(Vio::Status, kStAck | kStDriver | kStFeaturesOk);
    return (vio_r(Vio::Status) & kStFeaturesOk) != 0;
}

// One 3-descriptor request chain: header, data, status.
void vio_chain(u32 c, u32 type, u64 sector, u64 data, u32 len)
{
    VirtioArea& a = g_vio;
    a.hdr[c] = {type, 0, sector};
    a.status[c] = 0xee;
    VDesc* d = &a.desc[3 * c];
    d[0] = {addr_of(&a.hdr[c]), sizeof(BlkHeader), kDescNext, static_cast<u16>(3 * c + 1)};
    d[1] = {data, len, static_cast<u16>(kDescNext | (type == kBlkIn ? kDescWrite : 0)), static_cast<u16>(3 * c + 2)};
    d[2] = {addr_of(&a.status[c]), 1, kDescWrite, 0};
    a.avail.ring[a.avail.idx % kQueueNum] = static_cast<u16>(3 * c);
    asm volatile("dmb ishst" ::: "memory");
    a.avail.idx++;
}

// The disk's requests: one good, three reaching outside this VM's RAM.
void virtio_dma(u64 peer)
{
    if (vio_r(Vio::Magic) != 0x74726976 || vio_r(Vio::DeviceId) != 2) {
        print("HOSTILE virtio no disk in slot 0\n");
        return;
    }
    const u32 vfault = static_cast<u32>(take_faults());
    VirtioArea& a = g_vio;
    memset(&a, 0, sizeof a);
    memset(a.control_data, kControlByte, sizeof a.control_data);
    if (!vio_start()) {
        print("HOSTILE virtio FEATURES_OK refused\n");
        return;
    }
    vio_queue(addr_of(a.desc), addr_of(&a.avail), addr_of(&a.used));
    vio_w(Vio::Status, kStAck | kStDriver | kStFeaturesOk | kStDriverOk);
    vio_chain(0, kBlkOut, kControlSector, addr_of(a.control_data), 512);
    vio_chain(1, kBlkOut, kPeerSector, peer, 4096);          // VM 0's memory onto this disk
    vio_chain(2, kBlkIn, kControlSector, peer + 4096, 512);  // this disk into VM 0's memory
    vio_chain(3, kBlkOut, kPeerSector + 8, 0xffff'ffff'f000ull, 4096);
    asm volatile("dsb ish" ::: "memory");
    vio_w(Vio::QueueNotify, 0);
    poll_until([&] { return load_acquire(a.used.idx) >= kChains; }, 2'000'000);
    const u16 used = load_acquire(a.used.idx);
    print("HOSTILE virtio used=%u status own=%u peer_out=%u peer_in=%u wild=%u status_reg=0x%x faults=%u\n", used,
          a.status[0], a.status[1], a.status[2], a.status[3], vio_r(Vio::Status), vfault);

    // Rings at the peer address: the device must not accept or use them.
    if (vio_start()) {
        vio_queue(peer, peer + 0x1000, peer + 0x2000);
        const u32 ready = vio_r(Vio::QueueReady);
        vio_w(Vio::Status, kStAck | kStDriver | kStFeaturesOk | kStDriverOk);
        vio_w(Vio::QueueNotify, 0);
        spin_us(2000);
        print("HOSTILE virtio peer_rings queue_ready=%u status_reg=0x%x\n", ready, vio_r(Vio::Status));
    }
    vio_w(Vio::Status, 0);
    take_faults();
}

} // namespace

void hostile_secondary(u32 cpu, u32 arg)
{
    Rng rng{cntpct() ^ (u64{cpu} << 32) ^ arg ^ 0x9e3779b97f4a7c15ull};
    fetch_add(g_vcpu1_starts, u64{1});
    if (arg == 0) {
        sgi_storm(rng);
        psci_bad(rng, cpu);
    } else {
        for (u32 i = 0; i < 20; i++) {
            MSR(ICC_SGI1R_EL1, rng.next());
            psci::hvc(psci::kCpuOn, 0, rng.next(), rng.next());
            psci::hvc(psci::kAffinityInfo, rng.next() & 0xff, rng.next() & 3, 0);
        }
    }
    take_faults();
    psci::cpu_off();
}

void hostile_main()
{
    g_ram = guest_ram();
    g_nvcpus = 1;
    while (g_nvcpus < hw::kMaxCpus && psci::affinity_info(cpu_mpidr(g_nvcpus)) >= 0)
        g_nvcpus++;
    Rng rng{cntpct() ^ 0x5deece66dull};
    print("HOSTILE round vcpus=%u ram=0x%lx+0x%lx\n", g_nvcpus, g_ram.base, g_ram.size);
    const u64 t0 = cntpct();
    stop_if_asked();

    if (g_nvcpus > 1)
        psci::cpu_on(cpu_mpidr(1), addr_of(secondary_entry), make_context(kRoleHostile, 0));
    const u64 sgis = sgi_storm(rng);
    print("HOSTILE sgi writes=%lu\n", sgis);
    stop_if_asked();
    const PsciStats ps = psci_bad(rng, 0);
    const u64 susp = suspend_calls();
    print("HOSTILE psci calls=%lu successes=%lu suspends=%lu\n", ps.calls, ps.successes, susp);

    // The CPU_ON race: vCPU 0 calls CPU_ON(1) as fast as it can while vCPU 1
    // is on, coming up or powering itself off.
    u64 ons = 0, already = 0, other = 0;
    for (u32 r = 0; g_nvcpus > 1 && r < kRaceRounds; r++) {
        for (u32 i = 0; i < 100000; i++) {
            const i32 ret =
                psci::cpu_on(cpu_mpidr(1), addr_of(secondary_entry), make_context(kRoleHostileShort, r + 1));
            if (ret == psci::kSuccess) {
                ons++;
                break;
            }
            (ret == psci::kAlreadyOn ? already : other)++;
            psci::affinity_info(cpu_mpidr(1));
        }
    }
    print("HOSTILE race cpu_on_success=%lu already_on=%lu other=%lu vcpu1_starts=%lu\n", ons, already, other,
          load_acquire(g_vcpu1_starts));

    stop_if_asked();
    char peer_arg[24];
    u64 peer = g_ram.base + g_ram.size + 64 * MiB;
    if (bootarg("hwpeer", peer_arg, sizeof peer_arg)) {
        const char* p = peer_arg;
        next_number(p, peer);
    }
    virtio_dma(peer & ~u64{0xfff});
    stop_if_asked();
    WriteStats gicd{}, gicr{}, virtio{};
    scribble(hw::kGicd, 0x1'0000, rng, gicd);
    for (u32 f = 0; f < kGicrFrames; f++)
        scribble(hw::kGicr + f * hw::kGicrStride, hw::kGicrStride, rng, gicr);
    for (u32 s = 0; s < kVirtioSlots; s++)
        scribble(kVirtioBase + s * kVirtioSlotSize, kVirtioSlotSize, rng, virtio);
    print("HOSTILE writes gicd=%lu/%lu gicr=%lu/%lu virtio=%lu/%lu (writes/aborts)\n", gicd.writes, gicd.aborts,
          gicr.writes, gicr.aborts, virtio.writes, virtio.aborts);
    stop_if_asked();
    print("HOSTILE reset after %lu ms\n", ticks_to_us(cntpct() - t0) / 1000);
    psci::hvc(kSystemReset);
    fatal("SYSTEM_RESET returned");
}
