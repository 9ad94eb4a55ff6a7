// virtio-mmio transport with the block device behind it: identification,
// feature negotiation, status and reset, queue setup, notification,
// interrupts, config space and access widths.
#include <gtest/gtest.h>

#include <thread>

#include "virtio_harness.h"

using namespace vt;
using namespace virtio;

namespace {

constexpr u32 kAllOk = kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk;

class VirtioMmioTest : public ::testing::Test {
protected:
    BlkRig r;
    // A 512-byte read of sector 0 that must complete OK.
    void good_read()
    {
        const u64 buf = r.alloc(512);
        const auto res = r.read(0, buf, 512);
        ASSERT_TRUE(res.completed);
        EXPECT_EQ(res.status, virtio_blk::kSOk);
    }
};

TEST_F(VirtioMmioTest, Identification)
{
    EXPECT_EQ(r.rd(MmioReg::MagicValue), 0x74726976u);
    EXPECT_EQ(r.rd(MmioReg::Version), 2u);
    EXPECT_EQ(r.rd(MmioReg::DeviceId), 2u);
    EXPECT_EQ(r.rd(MmioReg::VendorId), kVendorId);
    EXPECT_EQ(r.rd(MmioReg::Status), 0u);
    EXPECT_EQ(r.rd(MmioReg::InterruptStatus), 0u);
    EXPECT_EQ(r.rd(MmioReg::ConfigGeneration), 0u);
    r.wr(MmioReg::QueueSel, 0);
    EXPECT_EQ(r.rd(MmioReg::QueueNumMax), 256u);
    EXPECT_EQ(r.rd(MmioReg::QueueReady), 0u);
    r.wr(MmioReg::QueueSel, 1);
    EXPECT_EQ(r.rd(MmioReg::QueueNumMax), 0u) << "only one queue";
    r.wr(MmioReg::QueueSel, 0xffff'ffff);
    EXPECT_EQ(r.rd(MmioReg::QueueNumMax), 0u);
    // Read-only registers ignore writes; reserved ones read zero.
    r.wr(MmioReg::MagicValue, 0);
    r.wr(MmioReg::DeviceId, 7);
    EXPECT_EQ(r.rd(MmioReg::MagicValue), 0x74726976u);
    EXPECT_EQ(r.rd(MmioReg::DeviceId), 2u);
    EXPECT_EQ(r.rd(0x0f0), 0u);
    EXPECT_EQ(r.rd(MmioReg::QueueNotify), 0u);
    EXPECT_EQ(r.rd(MmioReg::InterruptAck), 0u);
}

TEST_F(VirtioMmioTest, FeatureWordsBySelector)
{
    r.wr(MmioReg::DeviceFeaturesSel, 0);
    const u32 lo = r.rd(MmioReg::DeviceFeatures);
    EXPECT_EQ(lo, static_cast<u32>(virtio_blk::kFSegMax | virtio_blk::kFBlkSize | virtio_blk::kFFlush));
    r.wr(MmioReg::DeviceFeaturesSel, 1);
    EXPECT_EQ(r.rd(MmioReg::DeviceFeatures), 1u) << "VIRTIO_F_VERSION_1 is bit 32";
    r.wr(MmioReg::DeviceFeaturesSel, 2);
    EXPECT_EQ(r.rd(MmioReg::DeviceFeatures), 0u);
}

TEST_F(VirtioMmioTest, FeaturesOkNeedsVersion1)
{
    r.negotiate(virtio_blk::kFFlush);  // a legacy-only driver
    EXPECT_EQ(r.status(), kStatusAcknowledge | kStatusDriver);
    r.wr(MmioReg::Status, kAllOk);
    EXPECT_EQ(r.status() & (kStatusFeaturesOk | kStatusDriverOk), 0u) << "no DRIVER_OK without FEATURES_OK";
}

TEST_F(VirtioMmioTest, FeaturesOkRejectsWhatWasNotOffered)
{
    for (u64 extra : {bit(28) /* INDIRECT_DESC */, bit(29) /* EVENT_IDX */, bit(5) /* RO */, bit(33), bit(63)}) {
        r.negotiate(kFVersion1 | extra);
        EXPECT_FALSE(r.status() & kStatusFeaturesOk) << std::hex << extra;
    }
    r.negotiate(kFVersion1);  // a subset is fine
    EXPECT_TRUE(r.status() & kStatusFeaturesOk);
}

TEST_F(VirtioMmioTest, DriverFeaturesFrozenAfterFeaturesOk)
{
    r.negotiate(kFVersion1);
    ASSERT_TRUE(r.status() & kStatusFeaturesOk);
    r.wr(MmioReg::DriverFeaturesSel, 1);
    r.wr(MmioReg::DriverFeatures, 0);  // would drop VERSION_1
    r.wr(MmioReg::Status, r.status() | kStatusFeaturesOk);
    EXPECT_TRUE(r.status() & kStatusFeaturesOk);
    // Selector words beyond 1 are ignored, not folded into the low words.
    r.negotiate(kFVersion1);
    r.wr(MmioReg::DriverFeaturesSel, 2);
    r.wr(MmioReg::DriverFeatures, 0xffff'ffff);
    EXPECT_TRUE(r.status() & kStatusFeaturesOk);
}

TEST_F(VirtioMmioTest, StatusBitsAccumulateAndNeedsResetIsTheDevices)
{
    r.bring_up();
    r.wr(MmioReg::Status, kStatusAcknowledge);  // tries to clear bits
    EXPECT_EQ(r.status(), kAllOk);
    r.wr(MmioReg::Status, kAllOk | kStatusNeedsReset);
    EXPECT_EQ(r.status(), kAllOk);
    r.wr(MmioReg::Status, kAllOk | kStatusFailed);
    EXPECT_EQ(r.status(), kAllOk | kStatusFailed);
}

TEST_F(VirtioMmioTest, ResetReturnsEverythingToPowerOn)
{
    r.bring_up();
    good_read();
    ASSERT_TRUE(r.irq.level);
    const u64 resets = r.dev.stats().resets;
    r.wr(MmioReg::Status, 0);
    EXPECT_EQ(r.status(), 0u);
    EXPECT_EQ(r.rd(MmioReg::InterruptStatus), 0u);
    EXPECT_FALSE(r.irq.level);
    r.wr(MmioReg::QueueSel, 0);
    EXPECT_EQ(r.rd(MmioReg::QueueReady), 0u);
    EXPECT_EQ(r.rd(MmioReg::QueueNum), 0u);
    EXPECT_EQ(r.rd(MmioReg::QueueDescLow), 0u);
    EXPECT_EQ(r.rd(MmioReg::QueueDriverLow), 0u);
    EXPECT_EQ(r.rd(MmioReg::QueueDeviceLow), 0u);
    EXPECT_EQ(r.dev.stats().resets, resets + 1);
    // Nothing happens on a notify now, and a fresh bring-up works from index 0.
    const u16 used_before = r.ring.used_idx();
    r.notify();
    EXPECT_EQ(r.ring.used_idx(), used_before);
    r.ring = Ring(r.ram, 16, kRamBase + 0x8000);
    r.bring_up();
    good_read();
    EXPECT_EQ(r.ring.used_idx(), 1u);
    // The system-level reset does the same.
    r.dev.reset();
    EXPECT_EQ(r.dev.status(), 0u);
    EXPECT_FALSE(r.irq.level);
}

TEST_F(VirtioMmioTest, QueueRegistersFrozenWhileReady)
{
    r.bring_up();
    r.wr(MmioReg::QueueNum, 4);
    r.wr(MmioReg::QueueDescLow, 0x1234'0000);
    EXPECT_EQ(r.rd(MmioReg::QueueNum), 16u);
    EXPECT_EQ(r.rd(MmioReg::QueueDescLow), static_cast<u32>(r.ring.desc));
    good_read();
    // Not ready: writable again.
    r.wr(MmioReg::QueueReady, 0);
    EXPECT_EQ(r.rd(MmioReg::QueueReady), 0u);
    r.wr(MmioReg::QueueNum, 4);
    EXPECT_EQ(r.rd(MmioReg::QueueNum), 4u);
}

TEST_F(VirtioMmioTest, BadQueueSetupIsRefusedAndNeedsReset)
{
    struct Case {
        const char* what;
        u32 num;
        u64 desc;
    };
    const Case cases[] = {
        {"size 0", 0, kRamBase + 0x1000},
        {"size not a power of two", 12, kRamBase + 0x1000},
        {"size above QueueNumMax", 512, kRamBase + 0x1000},
        {"misaligned table", 16, kRamBase + 0x1008},
        {"table outside RAM", 16, 0x0800'0000},
        {"table above 4 GiB", 16, (u64{1} << 40)},
    };
    for (const Case& c : cases) {
        r.negotiate(r.blk.features());
        Ring ring(r.ram, 16);
        r.setup_queue(ring);  // with the good addresses...
        r.wr(MmioReg::QueueReady, 0);
        r.wr(MmioReg::QueueNum, c.num);
        r.wr(MmioReg::QueueDescLow, static_cast<u32>(c.desc));
        r.wr(MmioReg::QueueDescHigh, static_cast<u32>(c.desc >> 32));
        r.wr(MmioReg::QueueReady, 1);
        EXPECT_EQ(r.rd(MmioReg::QueueReady), 0u) << c.what;
        EXPECT_TRUE(r.status() & kStatusNeedsReset) << c.what;
        EXPECT_FALSE(r.irq.level) << "no config interrupt before DRIVER_OK: " << c.what;
    }
}

TEST_F(VirtioMmioTest, NothingConsumedBeforeDriverOk)
{
    r.negotiate(r.blk.features());
    r.setup_queue(r.ring);
    const u64 buf = r.alloc(512);
    const auto res = r.read(0, buf, 512);
    EXPECT_FALSE(res.completed);
    EXPECT_EQ(r.blk.stats().reads, 0u);
    r.wr(MmioReg::Status, kAllOk);
    r.notify();
    auto u = r.ring.take_used();
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->len, 513u);
}

TEST_F(VirtioMmioTest, NotifyForMissingOrUnreadyQueueIgnored)
{
    r.bring_up();
    const u64 buf = r.alloc(512);
    r.ring.submit({{buf, 16, false}, {buf + 16, 1, true}});
    r.wr(MmioReg::QueueNotify, 1);
    r.wr(MmioReg::QueueNotify, 0xffff'ffff);
    EXPECT_EQ(r.ring.used_idx(), 0u);
    r.wr(MmioReg::QueueReady, 0);
    r.notify();
    EXPECT_EQ(r.ring.used_idx(), 0u);
    EXPECT_EQ(r.dev.stats().notifies, 0u);
}

TEST_F(VirtioMmioTest, InterruptStatusAckAndEdges)
{
    r.bring_up();
    good_read();
    EXPECT_EQ(r.rd(MmioReg::InterruptStatus), kIntUsedBuffer);
    EXPECT_TRUE(r.irq.level);
    EXPECT_EQ(r.irq.rising, 1);
    good_read();  // still pending: no new edge
    EXPECT_EQ(r.irq.rising, 1);
    r.wr(MmioReg::InterruptAck, kIntConfigChange);  // acks nothing pending
    EXPECT_TRUE(r.irq.level);
    r.ack_all();
    EXPECT_FALSE(r.irq.level);
    EXPECT_EQ(r.rd(MmioReg::InterruptStatus), 0u);
    good_read();
    EXPECT_EQ(r.irq.rising, 2);
    EXPECT_EQ(r.dev.stats().interrupts, 2u);
    EXPECT_EQ(r.dev.stats().completions, 3u);
}

TEST_F(VirtioMmioTest, DriverCanSuppressInterrupts)
{
    r.bring_up();
    r.ring.set_avail_flags(virtq::kAvailNoInterrupt);
    good_read();
    EXPECT_FALSE(r.irq.level);
    EXPECT_EQ(r.rd(MmioReg::InterruptStatus), 0u);
    r.ring.set_avail_flags(0);
    good_read();
    EXPECT_TRUE(r.irq.level);
}

TEST_F(VirtioMmioTest, BrokenRingSetsNeedsResetWithConfigInterrupt)
{
    r.bring_up();
    r.ram.put<u16>(r.ring.avail + 2, 17);  // 17 chains "available" in a 16-entry ring
    r.notify();
    EXPECT_TRUE(r.status() & kStatusNeedsReset);
    EXPECT_EQ(r.rd(MmioReg::InterruptStatus), kIntConfigChange);
    EXPECT_TRUE(r.irq.level);
    EXPECT_EQ(r.ring.used_idx(), 0u);
    EXPECT_EQ(r.dev.stats().needs_reset, 1u);
    // Further notifies do nothing until the driver resets the device.
    r.ram.put<u16>(r.ring.avail + 2, 0);
    r.ring.avail_idx = 0;
    const u64 buf = r.alloc(512);
    EXPECT_FALSE(r.read(0, buf, 512).completed);
    r.ring = Ring(r.ram, 16, kRamBase + 0x8000);
    r.bring_up();
    EXPECT_FALSE(r.status() & kStatusNeedsReset);
    good_read();
}

TEST_F(VirtioMmioTest, HeadIndexOutOfRangeNeedsReset)
{
    r.bring_up();
    r.ring.offer(200);
    r.notify();
    EXPECT_TRUE(r.status() & kStatusNeedsReset);
    EXPECT_EQ(r.ring.used_idx(), 0u);
}

TEST_F(VirtioMmioTest, AccessWidths)
{
    u64 v = 0;
    EXPECT_EQ(r.access(MmioReg::MagicValue, false, v, 2), MmioResult::Unhandled);
    EXPECT_EQ(r.access(MmioReg::MagicValue, false, v, 1), MmioResult::Unhandled);
    EXPECT_EQ(r.access(MmioReg::MagicValue, false, v, 8), MmioResult::Unhandled);
    EXPECT_EQ(r.access(off(MmioReg::MagicValue) + 2, false, v, 4), MmioResult::Unhandled);
    EXPECT_EQ(r.access(kConfig, false, v, 8), MmioResult::Unhandled);
    EXPECT_EQ(r.access(kConfig + 2, false, v, 4), MmioResult::Unhandled);
    EXPECT_EQ(r.access(kConfig + 1, false, v, 2), MmioResult::Unhandled);
    EXPECT_EQ(r.access(kMmioSize, false, v, 4), MmioResult::Unhandled);
    EXPECT_EQ(r.access(kConfig + 0xff, false, v, 1), MmioResult::Handled);
    EXPECT_EQ(v, 0u);
}

TEST_F(VirtioMmioTest, ConfigSpace)
{
    // 1 MiB disk: 2048 sectors.
    EXPECT_EQ(r.rd(kConfig + 0), 2048u);
    EXPECT_EQ(r.rd(kConfig + 4), 0u);
    EXPECT_EQ(r.rd(kConfig + 12), VirtioBlk::kSegMax);
    EXPECT_EQ(r.rd(kConfig + 20), 512u);
    EXPECT_EQ(r.rd(kConfig + 8), 0u) << "size_max not offered";
    EXPECT_EQ(r.rd(kConfig + 16), 0u) << "geometry not offered";
    EXPECT_EQ(r.rd(kConfig + 1, 1), 8u);   // 2048 = 0x800
    EXPECT_EQ(r.rd(kConfig + 0, 2), 0x800u);
    EXPECT_EQ(r.rd(kConfig + 22, 2), 0u);
    EXPECT_EQ(r.rd(kConfig + 0x80), 0u);
    EXPECT_EQ(r.rd(kConfig + 0xfc), 0u);
    r.wr(kConfig + 0, 5);
    r.wr(kConfig + 32, 1, 1);  // writeback: not writable without CONFIG_WCE
    EXPECT_EQ(r.rd(kConfig + 0), 2048u);
    EXPECT_EQ(r.rd(kConfig + 32, 1), 0u);
}

TEST(VirtioMmioCapacity, FollowsBackendAndIgnoresPartialSector)
{
    GuestRam ram;
    struct BigDisk final : BlockBackend {  // 5 GiB + 100 bytes, never read
        u64 sectors() const override { return ((u64{5} << 30) + 100) / 512; }
        u32 max_segments() const override { return 8; }
        Start start(const BlockRequest&) override { return Start::Failed; }
    } disk;
    VirtioBlk blk(disk, "x");
    RecordingIrq irq;
    VirtioMmio dev("virtio-blk", blk, ram.mem, irq);
    MmioAccess a{.addr = 0, .width = 4, .write = false, .reg = 0, .sign_extend = false, .sf = false, .data = 0};
    ASSERT_EQ(dev.access(0, kConfig, a), MmioResult::Handled);
    const u64 lo = a.data;
    ASSERT_EQ(dev.access(0, kConfig + 4, a), MmioResult::Handled);
    EXPECT_EQ((a.data << 32) | lo, (u64{5} << 30) / 512);
}

// Four "vCPUs" notify at once; the driver side serialises its own ring
// updates (as Linux does with its queue lock) but the MMIO writes race.
TEST_F(VirtioMmioTest, ConcurrentNotifiersLoseNothing)
{
    r.ring = Ring(r.ram, 256);
    r.bring_up();
    constexpr int kThreads = 4, kPerThread = 200;
    std::mutex ring_lock;
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; t++) {
        ts.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; i++) {
                {
                    std::lock_guard<std::mutex> g(ring_lock);
                    // Keep at most 8 in flight so descriptors are not reused early.
                    while (static_cast<u16>(r.ring.avail_idx - r.ring.used_idx()) >= 8) {
                        ring_lock.unlock();
                        std::this_thread::yield();
                        ring_lock.lock();
                    }
                    const u64 base = kRamBase + 0x20'0000 + 0x1000 * ((r.ring.next_desc / 3) % 64);
                    r.ram.fill(base, blk_header(virtio_blk::kTIn, static_cast<u64>(t)));
                    r.ring.submit({{base, 16, false}, {base + 0x200, 512, true}, {base + 0x400, 1, true}});
                }
                MmioAccess a{.addr = 0, .width = 4, .write = true, .reg = 0, .sign_extend = false, .sf = false,
                             .data = 0};
                r.dev.access(static_cast<u32>(t), off(MmioReg::QueueNotify), a);
            }
        });
    }
    for (auto& t : ts)
        t.join();
    EXPECT_EQ(r.ring.used_idx(), static_cast<u16>(kThreads * kPerThread));
    EXPECT_EQ(r.blk.stats().reads, static_cast<u64>(kThreads * kPerThread));
    EXPECT_EQ(r.blk.stats().errors, 0u);
}

} // namespace
