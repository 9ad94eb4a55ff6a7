// The disk path end to end, on the host: the guest's requests go to the
// emulated virtio-blk (VirtioBlk), through BlkForward to the virtio-blk
// driver (BlkDriver) and its own ring, over a loopback register window to a
// second emulated virtio-blk standing in for QEMU's device. That stand-in can
// reach exactly the guest's RAM and the driver's DMA area, nothing else.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>

#include "devices/blk_forward.h"
#include "drivers/virtio/blk.h"
#include "virtio_driver_harness.h"
#include "virtio_harness.h"

using namespace virtio_blk;
using virtio::BlkDma;
using virtio::BlkDriver;
using virtio::DmaBuf;
using virtio::dma_addr;

namespace {

constexpr u64 kQemuDiskBytes = 1024 * 1024;  // 2048 sectors

struct FakeClock final : MsClock {
    u64 ms = 1000;
    u64 now_ms() const override { return ms; }
};

struct FullRig {
    FullRig()
    {
        EXPECT_EQ(drv.init(t, *dma), BlkDriver::Init::Ok);
    }
    // Guest RAM first, then the driver's DMA area, and nothing else.
    vd::DmaArena arena{vt::kRamSize + align_up(sizeof(BlkDma), 4096)};
    vt::GuestRam ram{arena.alloc(vt::kRamSize, 4096)};
    BlkDma* dma = new (arena.alloc(sizeof(BlkDma), 4096)) BlkDma();
    // QEMU's device, as far as the hypervisor can tell.
    GuestMemory qmem = arena.mem();
    vt::CheckedBackend qdisk{kQemuDiskBytes};
    VirtioBlk qblk{qdisk, "qemu-disk"};
    vt::RecordingIrq qirq;
    VirtioMmio qdev{"qemu-virtio-blk", qblk, qmem, qirq};
    vd::LoopbackWindow win{qdev};
    virtio::Transport t{win};
    BlkDriver drv;
    // The hypervisor's emulated disk and the guest driving it.
    FakeClock clock;
    BlkForward fwd{drv, ram.mem, clock};
    VirtioBlk blk{fwd, "hyp-disk"};
    vt::RecordingIrq irq;
    VirtioMmio dev{"virtio-blk", blk, ram.mem, irq};
    vt::GuestDriver guest{ram, dev};

    int notifies() const { return static_cast<int>(qdev.stats().notifies); }
};

class BlkPathTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        rig = std::make_unique<FullRig>();
        rig->guest.ring = vt::Ring(rig->ram, 64);
        rig->guest.bring_up();
    }
    std::unique_ptr<FullRig> rig;
};

// ---- the driver ---------------------------------------------------------------

TEST_F(BlkPathTest, DriverNegotiatesAndReadsTheConfiguration)
{
    BlkDriver& d = rig->drv;
    EXPECT_EQ(d.capacity(), kQemuDiskBytes / 512);
    EXPECT_EQ(d.block_size(), 512u);
    EXPECT_FALSE(d.read_only());
    EXPECT_EQ(d.queue_size(), 256u);
    EXPECT_EQ(d.max_segments(), VirtioBlk::kSegMax) << "the device's seg_max";
    EXPECT_TRUE(rig->t.has(kFFlush));
    EXPECT_EQ(rig->qdev.status(), virtio::kStatusAcknowledge | virtio::kStatusDriver | virtio::kStatusFeaturesOk |
                                      virtio::kStatusDriverOk);
    // The guest sees the real disk's geometry.
    EXPECT_EQ(rig->guest.rd(vt::kConfig + off(Config::Capacity)), kQemuDiskBytes / 512);
    EXPECT_EQ(rig->blk.seg_max(), VirtioBlk::kSegMax);
}

TEST(BlkDriverInit, RefusesWhatIsNotAUsableBlockDevice)
{
    vd::DmaArena arena{align_up(sizeof(BlkDma), 4096) + 4096};
    BlkDma* dma = new (arena.alloc(sizeof(BlkDma), 4096)) BlkDma();
    BlkDriver d;
    virtio::Setup why = virtio::Setup::Ok;

    vd::ScriptedMmio console;  // device_id = console
    virtio::Transport tc(console);
    EXPECT_EQ(d.init(tc, *dma, &why), BlkDriver::Init::NotBlock);
    EXPECT_TRUE(console.status_writes.empty());

    vd::ScriptedMmio noflush;
    noflush.device_id = virtio::kDeviceBlock;
    noflush.features = virtio::kFVersion1 | kFSegMax;
    virtio::Transport tn(noflush);
    EXPECT_EQ(d.init(tn, *dma, &why), BlkDriver::Init::Setup);
    EXPECT_EQ(why, virtio::Setup::MissingFeatures) << "FLUSH is required: writes must reach the file";
    EXPECT_TRUE(noflush.status & virtio::kStatusFailed);

    vd::ScriptedMmio noqueue;
    noqueue.device_id = virtio::kDeviceBlock;
    noqueue.features = virtio::kFVersion1 | kFFlush;
    noqueue.queue_num_max[0] = 0;
    virtio::Transport tq(noqueue);
    EXPECT_EQ(d.init(tq, *dma, &why), BlkDriver::Init::Setup);
    EXPECT_EQ(why, virtio::Setup::NoQueue);
    EXPECT_TRUE(noqueue.status & virtio::kStatusFailed);
    DmaBuf b{0x1000, 512, false};
    EXPECT_EQ(d.submit(kTOut, 0, &b, 1, 1), BlkDriver::Submit::Invalid) << "not initialised";
}

TEST_F(BlkPathTest, DriverRequestsRoundTrip)
{
    BlkDriver& d = rig->drv;
    u8* data = rig->ram.ptr(vt::kRamBase + 0x20'0000);
    const auto pat = vt::pattern(4096, 11);
    std::memcpy(data, pat.data(), pat.size());
    const DmaBuf w[2] = {{dma_addr(data), 1000, false}, {dma_addr(data + 1000), 3096, false}};
    ASSERT_EQ(d.submit(kTOut, 8, w, 2, 0xabc), BlkDriver::Submit::Queued);
    ASSERT_EQ(d.submit(kTFlush, 0, nullptr, 0, 0xdef), BlkDriver::Submit::Queued);
    EXPECT_EQ(d.in_flight(), 2u);
    d.kick();
    u64 token = 0;
    u8 st = 0xee;
    ASSERT_TRUE(d.reap(token, st));
    EXPECT_EQ(token, 0xabcu);
    EXPECT_EQ(st, kSOk);
    ASSERT_TRUE(d.reap(token, st));
    EXPECT_EQ(token, 0xdefu);
    EXPECT_EQ(st, kSOk);
    EXPECT_FALSE(d.reap(token, st));
    EXPECT_TRUE(std::equal(pat.begin(), pat.end(), rig->qdisk.data.begin() + 8 * 512));
    EXPECT_EQ(rig->qdisk.flushes, 1);

    std::memset(data, 0, 4096);
    const DmaBuf r[1] = {{dma_addr(data), 4096, true}};
    ASSERT_EQ(d.submit(kTIn, 8, r, 1, 7), BlkDriver::Submit::Queued);
    d.kick();
    ASSERT_TRUE(d.reap(token, st));
    EXPECT_EQ(st, kSOk);
    EXPECT_TRUE(std::equal(pat.begin(), pat.end(), data));

    rig->qdisk.fail = true;
    ASSERT_EQ(d.submit(kTIn, 8, r, 1, 8), BlkDriver::Submit::Queued);
    d.kick();
    ASSERT_TRUE(d.reap(token, st));
    EXPECT_EQ(st, kSIoErr) << "the device's error reaches the caller";
    const BlkDriver::Stats s = d.stats();
    EXPECT_EQ(s.submitted, 4u);
    EXPECT_EQ(s.completed, 4u);
    EXPECT_EQ(s.failed, 1u);
    EXPECT_EQ(s.notifies, 3u);
    EXPECT_EQ(s.bogus, 0u);
}

TEST_F(BlkPathTest, DriverRunsOutOfRoomAndRecovers)
{
    BlkDriver& d = rig->drv;
    rig->win.hold_notifies = true;  // QEMU is slow today
    u8* data = rig->ram.ptr(vt::kRamBase + 0x20'0000);
    std::vector<DmaBuf> segs;
    for (u32 i = 0; i < d.max_segments(); i++)
        segs.push_back({dma_addr(data + 512 * i), 512, true});
    const u32 n = d.max_segments();
    ASSERT_EQ(d.submit(kTIn, 0, segs.data(), n, 1), BlkDriver::Submit::Queued);
    ASSERT_EQ(d.submit(kTIn, 0, segs.data(), n, 2), BlkDriver::Submit::Queued);
    EXPECT_EQ(d.submit(kTIn, 0, segs.data(), 1, 3), BlkDriver::Submit::NoRoom) << "256 descriptors taken";
    EXPECT_EQ(d.submit(kTIn, 0, segs.data(), n + 1, 3), BlkDriver::Submit::Invalid);
    const DmaBuf empty{dma_addr(data), 0, true};
    EXPECT_EQ(d.submit(kTIn, 0, &empty, 1, 3), BlkDriver::Submit::Invalid);
    d.kick();
    u64 token = 0;
    u8 st = 0;
    EXPECT_FALSE(d.reap(token, st)) << "nothing done until the device runs";
    rig->win.deliver();
    ASSERT_TRUE(d.reap(token, st));
    EXPECT_EQ(token, 1u);
    EXPECT_EQ(d.submit(kTIn, 0, segs.data(), 1, 3), BlkDriver::Submit::Queued);
    EXPECT_EQ(d.stats().no_room, 1u);
}

// ---- the whole path ------------------------------------------------------------

TEST_F(BlkPathTest, GuestWriteReachesTheRealDiskAndReadsBack)
{
    vt::GuestDriver& g = rig->guest;
    const auto pat = vt::pattern(8192, 3);
    const u64 src = g.alloc(8192), dst = g.alloc(8192);
    g.ram.fill(src, pat);
    // Submit and completion are separate events: nothing is used at notify.
    const u64 hdr = g.alloc(16), st = g.alloc(1);
    g.ram.fill(hdr, vt::blk_header(kTOut, 40));
    g.ram.put<u8>(st, 0xee);
    const u16 head = g.ring.submit({{hdr, 16, false}, {src, 5000, false}, {src + 5000, 3192, false}, {st, 1, true}});
    g.notify();
    EXPECT_EQ(rig->notifies(), 1) << "the real device was notified";
    EXPECT_TRUE(rig->qirq.level) << "and raised its interrupt";
    EXPECT_FALSE(g.ring.take_used().has_value()) << "the guest hears nothing before the interrupt is handled";
    rig->dev.service();  // the physical interrupt's handler
    EXPECT_FALSE(rig->qirq.level) << "service() acknowledged the real device";
    auto u = g.ring.take_used();
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->id, head);
    EXPECT_EQ(g.ram.get<u8>(st), kSOk);
    EXPECT_EQ(rig->irq.rising, 1);
    EXPECT_TRUE(std::equal(pat.begin(), pat.end(), rig->qdisk.data.begin() + 40 * 512));

    const u64 h2 = g.alloc(16), st2 = g.alloc(1);
    g.ram.fill(h2, vt::blk_header(kTIn, 40));
    g.ring.submit({{h2, 16, false}, {dst, 8192, true}, {st2, 1, true}});
    g.notify();
    rig->dev.service();
    u = g.ring.take_used();
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->len, 8193u);
    EXPECT_EQ(g.ram.bytes(dst, 8192), pat);

    const u64 h3 = g.alloc(16), st3 = g.alloc(1);
    g.ram.fill(h3, vt::blk_header(kTFlush, 0));
    g.ring.submit({{h3, 16, false}, {st3, 1, true}});
    g.notify();
    rig->dev.service();
    ASSERT_TRUE(g.ring.take_used().has_value());
    EXPECT_EQ(g.ram.get<u8>(st3), kSOk);
    EXPECT_EQ(rig->qdisk.flushes, 1) << "the guest's FLUSH reached the real device";
    EXPECT_EQ(rig->drv.stats().submitted, 3u);
}

// Every malformed request fails in the hypervisor; the real device never
// hears of it.
TEST_F(BlkPathTest, GuestMistakesNeverReachTheRealDevice)
{
    vt::GuestDriver& g = rig->guest;
    const u64 cap = rig->drv.capacity();
    const u64 buf = g.alloc(1024), st = g.alloc(1), hdr = g.alloc(16);
    struct Case {
        const char* what;
        std::vector<vt::Buf> bufs;
        u32 type;
        u64 sector;
    };
    const u64 outside[] = {0x1000, vt::kRamBase + vt::kRamSize - 256, vt::kRamBase + vt::kRamSize,
                           virtio::dma_addr(rig->dma) /* the driver's own DMA area */};
    std::vector<Case> cases;
    for (u64 bad : outside) {
        cases.push_back({"read into memory outside guest RAM", {{hdr, 16, false}, {bad, 512, true}, {st, 1, true}},
                         kTIn, 0});
        cases.push_back({"write from memory outside guest RAM", {{hdr, 16, false}, {bad, 512, false}, {st, 1, true}},
                         kTOut, 0});
    }
    cases.push_back({"past the end", {{hdr, 16, false}, {buf, 1024, true}, {st, 1, true}}, kTIn, cap - 1});
    cases.push_back({"start past the end", {{hdr, 16, false}, {buf, 512, false}, {st, 1, true}}, kTOut, cap});
    cases.push_back({"sector overflow", {{hdr, 16, false}, {buf, 512, false}, {st, 1, true}}, kTOut, ~u64{0} / 256});
    cases.push_back({"partial sector", {{hdr, 16, false}, {buf, 700, true}, {st, 1, true}}, kTIn, 0});
    cases.push_back({"short header", {{hdr, 15, false}, {st, 1, true}}, kTFlush, 0});
    for (const Case& c : cases) {
        g.ram.fill(hdr, vt::blk_header(c.type, c.sector));
        const auto res = g.run(c.bufs, st);
        ASSERT_TRUE(res.completed) << c.what;
        EXPECT_EQ(res.status, kSIoErr) << c.what;
    }
    // A looping chain and one without a status byte: used.len 0.
    const u16 base = g.ring.next_desc;
    g.ring.write_desc(base, hdr, 16, virtq::kDescNext, static_cast<u16>(base + 1));
    g.ring.write_desc(static_cast<u16>(base + 1), buf, 512, virtq::kDescNext | virtq::kDescWrite, base);
    g.ring.next_desc = static_cast<u16>(base + 2);
    g.ring.offer(base);
    g.notify();
    auto u = g.ring.take_used();
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->len, 0u);
    g.ram.fill(hdr, vt::blk_header(kTIn, 0));
    const auto res = g.run({{hdr, 16, false}}, 0);
    EXPECT_EQ(res.used_len, 0u);

    EXPECT_EQ(rig->drv.stats().submitted, 0u);
    EXPECT_EQ(rig->qdisk.calls, 0);
    EXPECT_EQ(rig->notifies(), 0);
    EXPECT_EQ(rig->blk.stats().errors, cases.size() + 2);
    EXPECT_FALSE(rig->guest.status() & virtio::kStatusNeedsReset);
}

TEST_F(BlkPathTest, ForwarderRefusesBuffersOutsideGuestRam)
{
    BlkForward& f = rig->fwd;
    BlockSeg seg{reinterpret_cast<u8*>(rig->dma), 512};  // hypervisor memory, not the guest's
    BlockRequest r{.op = BlockRequest::Op::Read, .sector = 0, .bytes = 512, .seg = &seg, .nseg = 1, .tag = 0};
    EXPECT_EQ(f.start(r), BlockBackend::Start::Failed);
    seg.host = rig->ram.ptr(vt::kRamBase + vt::kRamSize - 256);  // straddles the end
    EXPECT_EQ(f.start(r), BlockBackend::Start::Failed);
    EXPECT_EQ(f.refused(), 2u);
    seg.host = rig->ram.ptr(vt::kRamBase + vt::kRamSize - 512);
    EXPECT_EQ(f.start(r), BlockBackend::Start::Queued);
    EXPECT_EQ(rig->drv.stats().submitted, 1u);
}

// One guest write on its way to the real device, which has not seen it yet
// (its notification is held back). Returns the status byte's address.
u64 write_in_flight(FullRig& rig, u64 sector, const std::vector<u8>& pat)
{
    vt::GuestDriver& g = rig.guest;
    rig.win.hold_notifies = true;
    rig.win.resets = 0;  // the driver's own bring-up reset the device once
    const u64 src = g.alloc(512), hdr = g.alloc(16), st = g.alloc(1);
    g.ram.fill(src, pat);
    g.ram.fill(hdr, vt::blk_header(kTOut, sector));
    g.ram.put<u8>(st, 0xee);
    g.ring.submit({{hdr, 16, false}, {src, 512, false}, {st, 1, true}});
    g.notify();
    EXPECT_EQ(rig.drv.in_flight(), 1u);
    return st;
}

// The guest writes Status = 0 on a thread; true if that returned within 1 s.
// Otherwise the real device is let run (today's code spins until it
// finishes), so that the test ends either way.
bool reset_returns_promptly(FullRig& rig)
{
    std::atomic<bool> returned{false};
    std::thread guest([&] {
        rig.guest.wr(virtio::MmioReg::Status, 0);
        returned = true;
    });
    for (int i = 0; i < 200 && !returned; i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const bool in_time = returned;
    if (!in_time)
        rig.win.deliver();
    guest.join();
    return in_time;
}

// The guest resets its device while the real one still has its request:
// the reset returns at once, Status reads non-zero until the real device's
// completion has come in, and that answer never reaches the reset queue.
TEST_F(BlkPathTest, GuestResetCompletesWithTheRealDevicesCompletion)
{
    vt::GuestDriver& g = rig->guest;
    const auto pat = vt::pattern(512, 8);
    const u64 st = write_in_flight(*rig, 5, pat);
    EXPECT_TRUE(reset_returns_promptly(*rig)) << "the reset waited for the real device under the device lock";
    EXPECT_NE(g.status(), 0u) << "the real device still has the request";
    rig->win.deliver();  // QEMU gets to it
    rig->dev.service();  // ... and interrupts
    EXPECT_EQ(g.status(), 0u);
    EXPECT_EQ(rig->drv.in_flight(), 0u);
    EXPECT_EQ(g.ring.used_idx(), 0u);
    EXPECT_EQ(g.ram.get<u8>(st), 0xee);
    EXPECT_TRUE(std::equal(pat.begin(), pat.end(), rig->qdisk.data.begin() + 5 * 512));
    EXPECT_EQ(rig->win.resets, 0) << "nothing to give up on: the real device was not reset";
    rig->win.hold_notifies = false;
    g.ring = vt::Ring(g.ram, 64, vt::kRamBase + 0x8000);
    g.bring_up();
    const u64 dst = g.alloc(512);
    EXPECT_FALSE(g.read(5, dst, 512).completed) << "completes only at the interrupt";
    rig->dev.service();
    ASSERT_TRUE(g.ring.take_used().has_value());
    EXPECT_EQ(g.ram.bytes(dst, 512), pat);
}

// The real device gave up on its ring (DEVICE_NEEDS_RESET): its requests
// will never complete. A guest reset resets it (QEMU ends its DMA before
// its reset completes), drops the request and completes; the real device
// is brought up again and serves the guest's next requests.
TEST_F(BlkPathTest, GuestResetCompletesWhenTheRealDeviceNeedsReset)
{
    vt::GuestDriver& g = rig->guest;
    const u64 st = write_in_flight(*rig, 5, vt::pattern(512, 8));
    rig->win.give_up();
    EXPECT_TRUE(reset_returns_promptly(*rig)) << "the reset spun, waiting for a device that needs a reset";
    EXPECT_EQ(g.status(), 0u) << "nothing can land in guest memory any more: the reset is complete";
    EXPECT_GE(rig->win.resets, 1) << "the driver reset the real device";
    EXPECT_EQ(rig->drv.in_flight(), 0u);
    EXPECT_EQ(g.ring.used_idx(), 0u);
    EXPECT_EQ(g.ram.get<u8>(st), 0xee);
    rig->win.held.clear();  // the notification the reset made stale
    rig->win.hold_notifies = false;
    g.ring = vt::Ring(g.ram, 64, vt::kRamBase + 0x8000);
    g.bring_up();
    const u64 buf = g.alloc(512);
    g.ram.fill(buf, vt::pattern(512, 3));
    EXPECT_FALSE(g.write(7, buf, 512).completed);
    rig->dev.service();
    auto u = g.ring.take_used();
    ASSERT_TRUE(u.has_value()) << "the real device works again";
    const auto pat = vt::pattern(512, 3);
    EXPECT_TRUE(std::equal(pat.begin(), pat.end(), rig->qdisk.data.begin() + 7 * 512));
}

// The real device just never answers (and does not say it needs a reset):
// once the request is overdue, the guest's pending reset gives up on it,
// resetting the real device, and completes.
TEST_F(BlkPathTest, GuestResetGivesUpOnAnOverdueRealDevice)
{
    vt::GuestDriver& g = rig->guest;
    const u64 st = write_in_flight(*rig, 5, vt::pattern(512, 8));
    EXPECT_TRUE(reset_returns_promptly(*rig));
    rig->clock.ms += BlkForward::kOverdueMs - 1;
    EXPECT_NE(g.status(), 0u) << "not overdue yet: the real device may still answer";
    EXPECT_EQ(rig->win.resets, 0);
    rig->clock.ms += 1;
    EXPECT_EQ(g.status(), 0u) << "overdue: given up, the reset is complete";
    EXPECT_GE(rig->win.resets, 1);
    EXPECT_EQ(rig->drv.in_flight(), 0u);
    EXPECT_EQ(g.ram.get<u8>(st), 0xee);
    rig->win.held.clear();
    rig->win.hold_notifies = false;
    g.ring = vt::Ring(g.ram, 64, vt::kRamBase + 0x8000);
    g.bring_up();
    const u64 dst = g.alloc(512);
    EXPECT_FALSE(g.read(5, dst, 512).completed);
    rig->dev.service();
    ASSERT_TRUE(g.ring.take_used().has_value()) << "the real device works again";
}

// The same while the guest runs on: the real device's configuration
// interrupt says it needs a reset; the guest's requests in flight fail
// (IOERR) instead of hanging forever, and the next ones work.
TEST_F(BlkPathTest, RealDeviceNeedingResetFailsRequestsInFlightAndRecovers)
{
    vt::GuestDriver& g = rig->guest;
    const u64 st = write_in_flight(*rig, 5, vt::pattern(512, 8));
    rig->win.give_up();
    rig->dev.service();  // QEMU's configuration change interrupt
    auto u = g.ring.take_used();
    ASSERT_TRUE(u.has_value()) << "the request in flight was never completed";
    EXPECT_EQ(g.ram.get<u8>(st), kSIoErr);
    EXPECT_TRUE(rig->irq.level) << "the guest was told";
    EXPECT_GE(rig->win.resets, 1);
    EXPECT_EQ(rig->drv.stats().restarts, 1u);
    EXPECT_EQ(rig->drv.in_flight(), 0u);
    EXPECT_FALSE(g.status() & virtio::kStatusNeedsReset) << "the guest's device is fine";
    rig->win.held.clear();
    rig->win.hold_notifies = false;
    const u64 buf = g.alloc(512);
    g.ram.fill(buf, vt::pattern(512, 3));
    EXPECT_FALSE(g.write(9, buf, 512).completed);
    rig->dev.service();
    u = g.ring.take_used();
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(rig->blk.stats().errors, 1u);
    const auto pat = vt::pattern(512, 3);
    EXPECT_TRUE(std::equal(pat.begin(), pat.end(), rig->qdisk.data.begin() + 9 * 512));
}

// Four guest vCPUs hammer the device while a fifth thread plays the real
// device's interrupt handler: nothing is lost, every block lands.
TEST_F(BlkPathTest, ConcurrentNotifiersAndCompletionHandler)
{
    vt::GuestDriver& g = rig->guest;
    g.ring = vt::Ring(g.ram, 256, vt::kRamBase + 0x8000);
    g.bring_up();
    constexpr int kThreads = 4, kPerThread = 150;
    std::mutex ring_lock;  // the guest driver's own queue lock
    std::atomic<bool> stop{false};
    std::thread irq([&] {
        while (!stop.load())
            rig->dev.service();
    });
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; t++) {
        ts.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; i++) {
                {
                    std::lock_guard<std::mutex> lk(ring_lock);
                    while (static_cast<u16>(g.ring.avail_idx - g.ring.used_idx()) >= 16) {
                        ring_lock.unlock();
                        std::this_thread::yield();
                        ring_lock.lock();
                    }
                    const u64 slot = (g.ring.next_desc / 3) % 64;
                    const u64 base = vt::kRamBase + 0x20'0000 + 0x1000 * slot;
                    g.ram.fill(base, vt::blk_header(kTOut, static_cast<u64>(t * kPerThread + i)));
                    g.ram.put<u32>(base + 0x200, static_cast<u32>(t * kPerThread + i) ^ 0x5a5a'0000u);
                    g.ring.submit({{base, 16, false}, {base + 0x200, 512, false}, {base + 0x400, 1, true}});
                }
                MmioAccess a{.addr = 0, .width = 4, .write = true, .reg = 0, .sign_extend = false, .sf = false,
                             .data = 0};
                rig->dev.access(static_cast<u32>(t), virtio::off(virtio::MmioReg::QueueNotify), a);
            }
        });
    }
    for (auto& t : ts)
        t.join();
    for (int spin = 0; spin < 2000 && g.ring.used_idx() != kThreads * kPerThread; spin++)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    stop = true;
    irq.join();
    rig->dev.service();
    EXPECT_EQ(g.ring.used_idx(), static_cast<u16>(kThreads * kPerThread));
    EXPECT_EQ(rig->blk.stats().writes, static_cast<u64>(kThreads * kPerThread));
    EXPECT_EQ(rig->blk.stats().errors, 0u);
    for (int k = 0; k < kThreads * kPerThread; k++) {
        u32 v = 0;
        std::memcpy(&v, rig->qdisk.data.data() + 512 * static_cast<size_t>(k), 4);
        ASSERT_EQ(v, static_cast<u32>(k) ^ 0x5a5a'0000u) << k;
    }
    EXPECT_EQ(rig->drv.in_flight(), 0u);
}

} // namespace
