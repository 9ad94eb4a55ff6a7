// The virtio driver layer (hyp/drivers/virtio): the transport handshake
// against a scripted register file, the driver-side split virtqueue against
// the hypervisor's device-side virtqueue, and both together driving the
// emulated virtio-blk device over a loopback register window.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "drivers/virtio/queue.h"
#include "drivers/virtio/transport.h"
#include "virtio_driver_harness.h"
#include "virtio_harness.h"

using namespace vd;
using namespace virtio;

namespace {

// ---- transport -----------------------------------------------------------------

TEST(VirtioTransport, ProbeClassifiesSlots)
{
    ScriptedMmio m;
    Transport t(m);
    EXPECT_EQ(t.probe(), Probe::Device);
    EXPECT_EQ(t.device_id(), kDeviceConsole);
    m.version = kVersionLegacy;
    EXPECT_EQ(t.probe(), Probe::Legacy);
    m.device_id = kDeviceNone;
    EXPECT_EQ(t.probe(), Probe::Empty) << "an empty legacy slot is just empty";
    m.device_id = kDeviceBlock;
    EXPECT_NE(std::string(probe_name(Probe::Legacy)).find("force-legacy=false"), std::string::npos);
    m.version = 3;
    EXPECT_EQ(t.probe(), Probe::BadVersion);
    m.magic = 0;
    EXPECT_EQ(t.probe(), Probe::NotVirtio);
    EXPECT_TRUE(m.status_writes.empty()) << "probing must not touch the device's state";
}

TEST(VirtioTransport, NegotiationFollowsTheSpecSteps)
{
    ScriptedMmio m;
    m.features = kFVersion1 | bit(0) | bit(3) | kFRingEventIdx;
    Transport t(m);
    ASSERT_EQ(t.negotiate(bit(0) | bit(1), 0), Setup::Ok);
    const std::vector<u32> want{0, kStatusAcknowledge, kStatusAcknowledge | kStatusDriver,
                                kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk};
    EXPECT_EQ(m.status_writes, want);
    EXPECT_EQ(m.driver_features, kFVersion1 | bit(0)) << "only what was both wanted and offered";
    EXPECT_EQ(t.features(), kFVersion1 | bit(0));
    EXPECT_EQ(t.offered(), m.features);
    EXPECT_TRUE(t.has(bit(0)));
    EXPECT_FALSE(t.has(bit(1)));
    t.driver_ok();
    EXPECT_EQ(m.status, want.back() | kStatusDriverOk);
}

TEST(VirtioTransport, MissingRequiredFeatureFailsTheDevice)
{
    ScriptedMmio m;
    m.features = bit(0);  // no VERSION_1
    Transport t(m);
    EXPECT_EQ(t.negotiate(bit(0), 0), Setup::MissingFeatures);
    EXPECT_TRUE(m.status & kStatusFailed);
    EXPECT_FALSE(m.status & kStatusFeaturesOk);
    EXPECT_EQ(t.features(), 0u);

    m.features = kFVersion1;
    m.status_writes.clear();
    EXPECT_EQ(t.negotiate(0, bit(9)), Setup::MissingFeatures);
    EXPECT_EQ(m.status_writes.front(), 0u) << "negotiation starts from a reset";
    EXPECT_TRUE(m.status & kStatusFailed);
}

TEST(VirtioTransport, RefusedFeaturesOkFailsTheDevice)
{
    ScriptedMmio m;
    m.refuse_features_ok = true;
    Transport t(m);
    EXPECT_EQ(t.negotiate(0, 0), Setup::FeaturesRefused);
    EXPECT_TRUE(m.status & kStatusFailed);
    EXPECT_EQ(t.features(), 0u);
}

TEST(VirtioTransport, ResetThatNeverCompletesIsReported)
{
    ScriptedMmio m;
    m.stuck_status = true;
    Transport t(m);
    EXPECT_FALSE(t.reset());
    EXPECT_EQ(t.negotiate(0, 0), Setup::NotReset);
}

TEST(VirtioTransport, QueueSetupSizesAndPublishesTheRings)
{
    ScriptedMmio m;
    Transport t(m);
    ASSERT_EQ(t.negotiate(0, 0), Setup::Ok);
    DmaArena arena;
    DriverQueue q0, q1, q2, q3;
    void* ring = arena.alloc(DriverQueue::ring_bytes(256));
    ASSERT_EQ(t.setup_queue(0, q0, ring, 256), Setup::Ok);
    EXPECT_EQ(q0.size(), 64u) << "the device's QueueNumMax";
    EXPECT_EQ(m.queue[0].num, 64u);
    EXPECT_TRUE(m.queue[0].ready);
    EXPECT_EQ(m.queue[0].desc, q0.desc_bus());
    EXPECT_EQ(m.queue[0].driver, q0.avail_bus());
    EXPECT_EQ(m.queue[0].device, q0.used_bus());
    EXPECT_EQ(q0.desc_bus(), virtio::dma_addr(ring));

    ASSERT_EQ(t.setup_queue(1, q1, arena.alloc(DriverQueue::ring_bytes(256)), 256), Setup::Ok);
    EXPECT_EQ(q1.size(), 64u) << "QueueNumMax 100 rounds down to a power of two";
    EXPECT_EQ(t.setup_queue(2, q2, arena.alloc(DriverQueue::ring_bytes(256)), 256), Setup::NoQueue);
    EXPECT_FALSE(m.queue[2].ready);
    ASSERT_EQ(t.setup_queue(3, q3, arena.alloc(DriverQueue::ring_bytes(16)), 16), Setup::Ok);
    EXPECT_EQ(q3.size(), 16u) << "the driver's own limit";
    EXPECT_EQ(t.setup_queue(3, q3, arena.alloc(DriverQueue::ring_bytes(16)), 16), Setup::QueueInUse);
    EXPECT_EQ(t.setup_queue(0, q0, arena.alloc(DriverQueue::ring_bytes(256)) + 8, 256), Setup::QueueInUse);
}

TEST(VirtioTransport, MisalignedRingIsRefused)
{
    ScriptedMmio m;
    Transport t(m);
    DmaArena arena;
    DriverQueue q;
    EXPECT_EQ(t.setup_queue(0, q, arena.alloc(DriverQueue::ring_bytes(64)) + 8, 64), Setup::BadRing);
    EXPECT_FALSE(m.queue[0].ready);
}

TEST(VirtioTransport, InterruptAckNotifyAndConfig)
{
    ScriptedMmio m;
    Transport t(m);
    EXPECT_EQ(t.ack_interrupt(), 0u);
    EXPECT_TRUE(m.acks.empty()) << "nothing to acknowledge, no write";
    m.interrupt_status = kIntUsedBuffer | kIntConfigChange;
    EXPECT_EQ(t.ack_interrupt(), kIntUsedBuffer | kIntConfigChange);
    EXPECT_EQ(m.acks, std::vector<u32>{kIntUsedBuffer | kIntConfigChange});
    EXPECT_EQ(m.interrupt_status, 0u);
    t.notify(1);
    t.notify(0);
    EXPECT_EQ(m.notifies, (std::vector<u32>{1, 0}));

    m.config[0] = 0x89ab'cdef;
    m.config[1] = 0x0123'4567;
    EXPECT_EQ(t.config64(0), 0x0123'4567'89ab'cdefull);
    EXPECT_EQ(t.config32(4), 0x0123'4567u);
    EXPECT_EQ(t.config16(2), 0x89abu);
    EXPECT_EQ(t.config8(1), 0xcdu);
    m.bump_generation_reads = 3;  // the config changes under the first reads
    EXPECT_EQ(t.config64(0), 0x0123'4567'89ab'cdefull);
    EXPECT_EQ(m.bump_generation_reads, 0);
    m.status = kStatusDriverOk | kStatusNeedsReset;
    EXPECT_TRUE(t.needs_reset());
}

// ---- driver-side queue against the device-side queue ---------------------------

class DriverQueueTest : public ::testing::Test {
protected:
    void SetUp() override { init(16); }
    void init(u32 n)
    {
        ring = arena.alloc(DriverQueue::ring_bytes(DriverQueue::kMaxSize));
        ASSERT_TRUE(q.init(n, ring));
        dev.reset();
        dev.size = n;
        dev.desc_addr = q.desc_bus();
        dev.avail_addr = q.avail_bus();
        dev.used_addr = q.used_bus();
        ASSERT_TRUE(dev.enable(mem, 256)) << "the device accepts the driver's layout";
    }
    DmaBuf buf(u64 len, bool w) { return {virtio::dma_addr(arena.alloc(len)), static_cast<u32>(len), w}; }

    DmaArena arena;
    GuestMemory mem = arena.mem();
    void* ring = nullptr;
    DriverQueue q;
    Virtqueue dev;
    VqChain chain;
};

TEST_F(DriverQueueTest, InitChecksSizeAndAlignment)
{
    DriverQueue x;
    EXPECT_FALSE(x.init(0, ring));
    EXPECT_FALSE(x.init(12, ring));
    EXPECT_FALSE(x.init(512, ring));
    EXPECT_FALSE(x.init(16, static_cast<u8*>(ring) + 8));
    EXPECT_FALSE(x.init(16, nullptr));
    EXPECT_TRUE(x.init(1, ring));
    EXPECT_EQ(x.free_descs(), 1u);
    EXPECT_EQ(DriverQueue::used_offset(256) % virtq::kUsedAlign, 0u);
    EXPECT_EQ(DriverQueue::ring_bytes(256), 4096u + 518u + 2u + 2054u);
}

TEST_F(DriverQueueTest, ChainArrivesAsOfferedAndComesBack)
{
    const DmaBuf b[3] = {buf(16, false), buf(512, true), buf(1, true)};
    ASSERT_TRUE(q.add(b, 3, 0x1234));
    EXPECT_EQ(q.free_descs(), 13u);
    EXPECT_EQ(q.in_flight(), 1u);
    ASSERT_EQ(dev.pop(mem, chain), Virtqueue::Pop::Chain);
    ASSERT_EQ(chain.error, ChainError::None);
    ASSERT_EQ(chain.nseg, 3u);
    for (u32 i = 0; i < 3; i++) {
        EXPECT_EQ(virtio::dma_addr(chain.seg[i].host), b[i].addr);
        EXPECT_EQ(chain.seg[i].len, b[i].len);
        EXPECT_EQ(chain.seg[i].writable, b[i].device_writable);
    }
    EXPECT_EQ(dev.pop(mem, chain), Virtqueue::Pop::Empty);

    u64 token = 0;
    u32 written = 0;
    EXPECT_EQ(q.reap(token, written), DriverQueue::Reap::Empty);
    ASSERT_TRUE(dev.push(mem, chain.head, 513));
    ASSERT_EQ(q.reap(token, written), DriverQueue::Reap::Chain);
    EXPECT_EQ(token, 0x1234u);
    EXPECT_EQ(written, 513u);
    EXPECT_EQ(q.free_descs(), 16u);
    EXPECT_EQ(q.in_flight(), 0u);
    EXPECT_EQ(q.reap(token, written), DriverQueue::Reap::Empty);
}

TEST_F(DriverQueueTest, BadChainsAreRefusedWithNothingChanged)
{
    const DmaBuf w = buf(8, true), r = buf(8, false);
    const DmaBuf ok[1] = {r};
    const DmaBuf empty[1] = {{w.addr, 0, true}};
    const DmaBuf wr[2] = {w, r};
    std::vector<DmaBuf> too_many(17, r);
    EXPECT_FALSE(q.add(ok, 0, 1));
    EXPECT_FALSE(q.add(empty, 1, 1));
    EXPECT_FALSE(q.add(wr, 2, 1)) << "device-readable after writable";
    EXPECT_FALSE(q.add(too_many.data(), 17, 1));
    EXPECT_EQ(q.free_descs(), 16u);
    EXPECT_EQ(q.in_flight(), 0u);
    EXPECT_EQ(dev.pop(mem, chain), Virtqueue::Pop::Empty) << "nothing was published";
    EXPECT_TRUE(q.add(too_many.data(), 16, 1)) << "exactly the ring fits";
    EXPECT_FALSE(q.add(ok, 1, 2)) << "and then nothing more";
}

// Chains of random length completed in random order: every chain the device
// sees is the one offered, descriptors of chains in flight never overlap,
// and the free list ends up whole.
TEST_F(DriverQueueTest, OutOfOrderCompletionsReuseDescriptorsSafely)
{
    std::mt19937 rng(7);
    struct Live {
        u16 head;
        u64 token;
        std::vector<u16> descs;
    };
    std::vector<Live> live;
    std::map<u64, u32> expect_len;  // token -> writable bytes offered
    std::set<u16> busy;
    u64 next_token = 1;
    u64 reaped = 0;
    for (int iter = 0; iter < 3000; iter++) {
        const u32 n = 1 + rng() % 5;
        if (n <= q.free_descs() && rng() % 3) {
            std::vector<DmaBuf> b;
            const u32 nr = rng() % (n + 1);
            u32 wbytes = 0;
            for (u32 i = 0; i < n; i++) {
                b.push_back({0x1000u + i, 8 + i, i >= nr});
                wbytes += i >= nr ? 8 + i : 0;
            }
            ASSERT_TRUE(q.add(b.data(), n, next_token));
            expect_len[next_token] = wbytes;
            ASSERT_EQ(dev.pop(mem, chain), Virtqueue::Pop::Chain);
            // GuestMemory refuses the fake addresses, but the shape is walked.
            ASSERT_TRUE(chain.shaped());
            ASSERT_EQ(chain.nseg, n);
            ASSERT_EQ(chain.writable, wbytes);
            Live l{chain.head, next_token, {}};
            u16 idx = chain.head;
            for (u32 i = 0; i < n; i++) {
                ASSERT_TRUE(busy.insert(idx).second) << "descriptor " << idx << " handed out twice";
                l.descs.push_back(idx);
                const auto* d = reinterpret_cast<const virtq::Desc*>(static_cast<u8*>(ring)) + idx;
                idx = d->next;
            }
            live.push_back(l);
            next_token++;
        } else if (!live.empty()) {
            const size_t k = rng() % live.size();
            const Live l = live[k];
            live.erase(live.begin() + static_cast<long>(k));
            for (u16 d : l.descs)
                busy.erase(d);
            ASSERT_TRUE(dev.push(mem, l.head, 1000));
            u64 token = 0;
            u32 written = 0;
            ASSERT_EQ(q.reap(token, written), DriverQueue::Reap::Chain);
            EXPECT_EQ(token, l.token);
            EXPECT_EQ(written, expect_len[l.token]) << "clipped to the writable bytes";
            reaped++;
        }
        ASSERT_EQ(q.free_descs() + busy.size(), 16u);
        ASSERT_EQ(q.in_flight(), live.size());
    }
    EXPECT_GT(reaped, 500u);
    EXPECT_EQ(q.bogus(), 0u);
}

TEST_F(DriverQueueTest, UsedEntriesNamingNoChainAreSkipped)
{
    const DmaBuf b[2] = {buf(16, false), buf(4, true)};
    ASSERT_TRUE(q.add(b, 2, 77));
    ASSERT_EQ(dev.pop(mem, chain), Virtqueue::Pop::Chain);
    ASSERT_TRUE(dev.push(mem, static_cast<u16>(chain.head + 5), 4));  // not a head in flight
    ASSERT_TRUE(dev.push(mem, 0xffff, 4));                            // not a descriptor at all
    ASSERT_TRUE(dev.push(mem, chain.head, 4));
    ASSERT_TRUE(dev.push(mem, chain.head, 4));                        // the same chain twice
    u64 token = 0;
    u32 written = 0;
    EXPECT_EQ(q.reap(token, written), DriverQueue::Reap::Bogus);
    EXPECT_EQ(q.reap(token, written), DriverQueue::Reap::Bogus);
    EXPECT_EQ(q.reap(token, written), DriverQueue::Reap::Chain);
    EXPECT_EQ(token, 77u);
    EXPECT_EQ(q.reap(token, written), DriverQueue::Reap::Bogus);
    EXPECT_EQ(q.reap(token, written), DriverQueue::Reap::Empty);
    EXPECT_EQ(q.bogus(), 3u);
    EXPECT_EQ(q.free_descs(), 16u) << "nothing freed twice";
}

TEST_F(DriverQueueTest, NotificationAndInterruptSuppression)
{
    EXPECT_TRUE(q.needs_notify());
    *reinterpret_cast<u16*>(static_cast<u8*>(ring) + DriverQueue::used_offset(16)) = virtq::kUsedNoNotify;
    EXPECT_FALSE(q.needs_notify());
    EXPECT_TRUE(dev.wants_interrupt(mem));
    q.set_interrupts(false);
    EXPECT_FALSE(dev.wants_interrupt(mem));
    q.set_interrupts(true);
    EXPECT_TRUE(dev.wants_interrupt(mem));
}

TEST_F(DriverQueueTest, IndicesWrapAround)
{
    const DmaBuf b[1] = {buf(4, true)};
    for (u32 i = 0; i < 70'000; i++) {
        ASSERT_TRUE(q.add(b, 1, i));
        ASSERT_EQ(dev.pop(mem, chain), Virtqueue::Pop::Chain);
        ASSERT_TRUE(dev.push(mem, chain.head, 4));
        u64 token = 0;
        u32 written = 0;
        ASSERT_EQ(q.reap(token, written), DriverQueue::Reap::Chain);
        ASSERT_EQ(token, i);
    }
    EXPECT_EQ(q.free_descs(), 16u);
}

// ---- loopback: the driver layer drives the emulated virtio-blk device -----------

struct Loopback {
    DmaArena arena{4 << 20};
    GuestMemory mem = arena.mem();
    vt::CheckedBackend disk{64 * 1024};
    VirtioBlk blk{disk, "loopback"};
    vt::RecordingIrq irq;
    VirtioMmio dev{"virtio-blk", blk, mem, irq};
    LoopbackWindow window{dev};
    Transport t{window};
    DriverQueue q;
};

TEST(VirtioDriverLoopback, BringsUpTheEmulatedBlockDeviceAndDoesIo)
{
    Loopback lb;
    ASSERT_EQ(lb.t.probe(), Probe::Device);
    ASSERT_EQ(lb.t.device_id(), kDeviceBlock);
    ASSERT_EQ(lb.t.negotiate(virtio_blk::kFFlush | virtio_blk::kFBlkSize | virtio_blk::kFGeometry,
                             virtio_blk::kFFlush),
              Setup::Ok);
    EXPECT_EQ(lb.t.features(), kFVersion1 | virtio_blk::kFFlush | virtio_blk::kFBlkSize)
        << "geometry is not offered";
    ASSERT_EQ(lb.t.setup_queue(0, lb.q, lb.arena.alloc(DriverQueue::ring_bytes(256)), 256), Setup::Ok);
    EXPECT_EQ(lb.q.size(), 256u);
    EXPECT_EQ(lb.t.setup_queue(1, lb.q, lb.arena.alloc(DriverQueue::ring_bytes(256)), 256), Setup::NoQueue);
    lb.t.driver_ok();
    EXPECT_EQ(lb.dev.status(), kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
    EXPECT_EQ(lb.t.config64(virtio_blk::off(virtio_blk::Config::Capacity)), 128u);
    EXPECT_EQ(lb.t.config32(virtio_blk::off(virtio_blk::Config::BlkSize)), 512u);

    auto* hdr = reinterpret_cast<virtio_blk::ReqHeader*>(lb.arena.alloc(16));
    u8* data = lb.arena.alloc(1024);
    u8* st = lb.arena.alloc(1);
    const auto pat = vt::pattern(1024, 5);
    std::memcpy(data, pat.data(), pat.size());
    *hdr = {virtio_blk::kTOut, 0, 7};
    const DmaBuf out[3] = {{dma_addr(hdr), 16, false}, {dma_addr(data), 1024, false}, {dma_addr(st), 1, true}};
    *st = 0xee;
    ASSERT_TRUE(lb.q.add(out, 3, 1));
    ASSERT_TRUE(lb.q.needs_notify());
    lb.t.notify(0);
    u64 token = 0;
    u32 written = 0;
    ASSERT_EQ(lb.q.reap(token, written), DriverQueue::Reap::Chain);
    EXPECT_EQ(token, 1u);
    EXPECT_EQ(written, 1u);
    EXPECT_EQ(*st, virtio_blk::kSOk);
    EXPECT_TRUE(std::equal(pat.begin(), pat.end(), lb.disk.data.begin() + 7 * 512));
    EXPECT_EQ(lb.t.ack_interrupt(), kIntUsedBuffer);
    EXPECT_FALSE(lb.irq.level);

    std::memset(data, 0, 1024);
    *hdr = {virtio_blk::kTIn, 0, 7};
    const DmaBuf in[3] = {{dma_addr(hdr), 16, false}, {dma_addr(data), 1024, true}, {dma_addr(st), 1, true}};
    ASSERT_TRUE(lb.q.add(in, 3, 2));
    lb.t.notify(0);
    ASSERT_EQ(lb.q.reap(token, written), DriverQueue::Reap::Chain);
    EXPECT_EQ(token, 2u);
    EXPECT_EQ(written, 1025u);
    EXPECT_TRUE(std::equal(pat.begin(), pat.end(), data));

    // Polling drivers switch the interrupt off.
    lb.q.set_interrupts(false);
    lb.t.ack_interrupt();
    ASSERT_TRUE(lb.q.add(in, 3, 3));
    lb.t.notify(0);
    ASSERT_EQ(lb.q.reap(token, written), DriverQueue::Reap::Chain);
    EXPECT_EQ(lb.t.ack_interrupt(), 0u);

    ASSERT_TRUE(lb.t.reset());
    EXPECT_EQ(lb.dev.status(), 0u);
}

} // namespace
