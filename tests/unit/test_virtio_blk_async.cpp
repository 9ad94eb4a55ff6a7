// The emulated virtio-blk over a backend that finishes requests later:
// completion through VirtioMmio::service(), chains waiting for room in the
// backend, a reset with requests in flight, and protocol breaches.
#include <gtest/gtest.h>

#include "virtio_harness.h"

using namespace vt;
using namespace virtio_blk;

namespace {

class VirtioBlkAsyncTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        r.ring = Ring(r.ram, 64);
        r.bring_up();
        r.disk.async = true;
    }
    struct Req {
        u16 head;
        u64 status, data;
    };
    // Offers one request without notifying.
    Req offer(u32 type, u64 sector, u32 len, u8 seed = 0)
    {
        const u64 h = r.alloc(16), d = r.alloc(len ? len : 1), st = r.alloc(1);
        r.ram.fill(h, blk_header(type, sector));
        if (len)
            r.ram.fill(d, pattern(len, seed));
        r.ram.put<u8>(st, 0xee);
        std::vector<Buf> bufs{{h, 16, false}};
        if (len)
            bufs.push_back({d, len, type == kTIn});
        bufs.push_back({st, 1, true});
        return {r.ring.submit(bufs), st, d};
    }
    BlkRig r;
};

TEST_F(VirtioBlkAsyncTest, RequestsFinishWhenTheBackendSaysSo)
{
    const Req a = offer(kTOut, 10, 1024, 1), b = offer(kTOut, 20, 512, 2), c = offer(kTFlush, 0, 0);
    r.notify();
    EXPECT_EQ(r.disk.kicks, 1) << "one kick for the batch";
    EXPECT_EQ(r.blk.in_flight(), 3u);
    EXPECT_FALSE(r.ring.take_used().has_value()) << "nothing finished yet";
    EXPECT_FALSE(r.irq.level);
    EXPECT_EQ(r.ram.get<u8>(a.status), 0xee) << "the status byte waits for the backend";

    r.disk.finish_at(1);  // b first: completions may come out of order
    r.dev.service();
    EXPECT_EQ(r.disk.acks, 1) << "service() acknowledges the backend's interrupt";
    auto u = r.ring.take_used();
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->id, b.head);
    EXPECT_EQ(u->len, 1u);
    EXPECT_EQ(r.ram.get<u8>(b.status), kSOk);
    EXPECT_EQ(r.irq.rising, 1);
    EXPECT_EQ(r.disk.data[20 * 512], pattern(512, 2)[0]);
    r.ack_all();

    r.disk.finish();
    r.dev.service();
    std::vector<u16> ids;
    while (auto x = r.ring.take_used())
        ids.push_back(static_cast<u16>(x->id));
    EXPECT_EQ(ids, (std::vector<u16>{a.head, c.head}));
    EXPECT_EQ(r.ram.get<u8>(c.status), kSOk);
    EXPECT_EQ(r.irq.rising, 2);
    const auto st = r.blk.stats();
    EXPECT_EQ(st.writes, 2u);
    EXPECT_EQ(st.bytes_written, 1536u);
    EXPECT_EQ(st.flushes, 1u);
    EXPECT_EQ(st.queued, 3u);
    EXPECT_EQ(st.max_in_flight, 3u);
    EXPECT_EQ(r.blk.in_flight(), 0u);
    EXPECT_EQ(r.dev.stats().services, 2u);
}

TEST_F(VirtioBlkAsyncTest, ReadDataArrivesWithTheCompletionAndBackendErrorsAreIoErr)
{
    const auto data = pattern(2048, 9);
    std::copy(data.begin(), data.end(), r.disk.data.begin() + 100 * 512);
    const Req rd = offer(kTIn, 100, 2048);
    r.notify();
    r.disk.finish();
    r.dev.service();
    auto u = r.ring.take_used();
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->len, 2049u);
    EXPECT_EQ(r.ram.bytes(rd.data, 2048), data);

    r.disk.fail = true;
    const Req bad = offer(kTIn, 100, 512);
    r.notify();
    r.disk.finish();
    r.dev.service();
    u = r.ring.take_used();
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->len, 1u) << "a failed read writes only the status";
    EXPECT_EQ(r.ram.get<u8>(bad.status), kSIoErr);
    EXPECT_EQ(r.blk.stats().errors, 1u);
}

TEST_F(VirtioBlkAsyncTest, ChainsWaitForRoomInTheBackend)
{
    r.disk.room = 2;
    std::vector<Req> reqs;
    for (int i = 0; i < 5; i++)
        reqs.push_back(offer(kTOut, static_cast<u64>(i), 512, static_cast<u8>(i)));
    r.notify();
    EXPECT_EQ(r.disk.calls, 2);
    EXPECT_EQ(r.blk.in_flight(), 2u);
    EXPECT_GE(r.blk.stats().waits, 1u);
    // Each completion makes room for the chain that waited.
    for (int round = 0; round < 5; round++) {
        r.disk.finish(1);
        r.dev.service();
    }
    std::vector<u16> ids;
    while (auto x = r.ring.take_used())
        ids.push_back(static_cast<u16>(x->id));
    ASSERT_EQ(ids.size(), 5u);
    for (int i = 0; i < 5; i++) {
        EXPECT_EQ(ids[static_cast<size_t>(i)], reqs[static_cast<size_t>(i)].head);
        EXPECT_EQ(r.ram.get<u8>(reqs[static_cast<size_t>(i)].status), kSOk);
        EXPECT_EQ(r.disk.data[static_cast<size_t>(i) * 512], pattern(512, static_cast<u8>(i))[0]);
    }
    EXPECT_EQ(r.disk.calls, 5);
    EXPECT_EQ(r.blk.in_flight(), 0u);
}

TEST_F(VirtioBlkAsyncTest, BusyWithNothingInFlightFailsInsteadOfWaitingForever)
{
    r.disk.room = 0;
    const Req a = offer(kTOut, 0, 512);
    r.notify();
    auto u = r.ring.take_used();
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->id, a.head);
    EXPECT_EQ(r.ram.get<u8>(a.status), kSIoErr);
}

// virtio 1.x 4.2.2.1: after writing 0 to Status the driver waits for it to
// read back 0. With requests still in the backend the reset must not wait
// for them under the device lock (the backend may take long, or never
// finish): it completes when their completions come in.
TEST_F(VirtioBlkAsyncTest, ResetWithRequestsInFlightCompletesWhenTheBackendFinishes)
{
    const Req a = offer(kTOut, 3, 512, 4);
    offer(kTOut, 4, 512, 5);
    r.notify();
    ASSERT_EQ(r.blk.in_flight(), 2u);
    r.wr(virtio::MmioReg::Status, 0);
    EXPECT_FALSE(r.disk.spun) << "the reset spun, waiting for the backend under the device lock";
    EXPECT_EQ(r.dev.stats().resets, 2u) << "the bring-up's and this one";
    EXPECT_NE(r.status(), 0u) << "Status reads 0 only once nothing is in flight";
    EXPECT_FALSE(r.irq.level);
    // A driver that does not wait gets nowhere until the reset is done.
    r.wr(virtio::MmioReg::Status, virtio::kStatusAcknowledge);
    r.wr(virtio::MmioReg::QueueSel, 0);
    EXPECT_EQ(r.rd(virtio::MmioReg::QueueReady), 0u);

    r.disk.finish(1);
    r.dev.service();
    EXPECT_NE(r.status(), 0u) << "one request is still in the backend";
    r.disk.finish();
    r.dev.service();
    EXPECT_EQ(r.status(), 0u) << "the last completion finished the reset";
    EXPECT_EQ(r.blk.in_flight(), 0u);
    EXPECT_EQ(r.ring.used_idx(), 0u) << "no completion reaches the reset queue";
    EXPECT_EQ(r.ram.get<u8>(a.status), 0xee);
    EXPECT_EQ(r.disk.data[3 * 512], pattern(512, 4)[0]) << "the write itself did happen";
    // The device works again after the usual bring-up.
    r.ring = Ring(r.ram, 64, kRamBase + 0x8000);
    r.bring_up();
    const Req b = offer(kTIn, 3, 512);
    r.notify();
    r.disk.finish();
    r.dev.service();
    ASSERT_TRUE(r.ring.take_used().has_value());
    EXPECT_EQ(r.ram.get<u8>(b.status), kSOk);
    EXPECT_EQ(r.ram.bytes(b.data, 512), pattern(512, 4));
}

TEST_F(VirtioBlkAsyncTest, ResetWithNothingInFlightIsImmediate)
{
    offer(kTOut, 3, 512, 4);
    r.notify();
    r.disk.finish();
    r.dev.service();
    ASSERT_TRUE(r.ring.take_used().has_value());
    r.wr(virtio::MmioReg::Status, 0);
    EXPECT_EQ(r.status(), 0u);
    EXPECT_EQ(r.disk.abandons, 0);
}

// A backend whose requests cannot finish (its device needs a reset): the
// guest's reset makes it give up on them and completes at once.
TEST_F(VirtioBlkAsyncTest, ResetGivesUpOnABackendThatCannotFinish)
{
    const Req a = offer(kTOut, 3, 512, 4);
    r.notify();
    r.disk.stuck = true;
    r.wr(virtio::MmioReg::Status, 0);
    EXPECT_FALSE(r.disk.spun);
    EXPECT_EQ(r.disk.abandons, 1);
    EXPECT_EQ(r.status(), 0u);
    EXPECT_EQ(r.blk.in_flight(), 0u);
    EXPECT_EQ(r.ram.get<u8>(a.status), 0xee) << "the answer is dropped";
    EXPECT_EQ(r.blk.stats().errors, 1u) << "counted as failed";
}

// Without progress the reset stays pending, and nothing spins meanwhile:
// each register access looks once.
TEST_F(VirtioBlkAsyncTest, PendingResetNeverSpins)
{
    offer(kTOut, 3, 512, 4);
    r.notify();
    r.wr(virtio::MmioReg::Status, 0);
    for (int i = 0; i < 100; i++)
        EXPECT_NE(r.status(), 0u);
    EXPECT_FALSE(r.disk.spun);
    EXPECT_LE(r.disk.empty_polls, 101) << "one look per access";
    r.disk.finish();
    EXPECT_EQ(r.status(), 0u) << "a register access also completes the reset";
}

// Linux's virtio_mmio (vm_del_vq) writes QueueReady = 0 and expects it to
// read back 0 once the device is done with the ring.
TEST_F(VirtioBlkAsyncTest, DisablingTheQueueCompletesWhenItsRequestsFinish)
{
    offer(kTOut, 6, 512, 6);
    r.notify();
    ASSERT_EQ(r.blk.in_flight(), 1u);
    r.wr(virtio::MmioReg::QueueSel, 0);
    r.wr(virtio::MmioReg::QueueReady, 0);
    EXPECT_FALSE(r.disk.spun) << "disabling spun, waiting for the backend under the device lock";
    EXPECT_EQ(r.rd(virtio::MmioReg::QueueReady), 1u) << "reads 1 while the device still uses the ring";
    const u32 desc = r.rd(virtio::MmioReg::QueueDescLow);
    r.wr(virtio::MmioReg::QueueDescLow, desc + 0x1000);
    EXPECT_EQ(r.rd(virtio::MmioReg::QueueDescLow), desc) << "frozen until the queue is off";
    r.disk.finish();
    r.dev.service();
    EXPECT_EQ(r.rd(virtio::MmioReg::QueueReady), 0u);
    EXPECT_EQ(r.blk.in_flight(), 0u);
    EXPECT_EQ(r.ring.used_idx(), 0u) << "the answer is not pushed into a disabled ring";
    EXPECT_EQ(r.disk.data[6 * 512], pattern(512, 6)[0]);
}

TEST_F(VirtioBlkAsyncTest, ChainOfferedAgainWhileInFlightNeedsReset)
{
    const Req a = offer(kTOut, 0, 512);
    r.notify();
    r.ring.offer(a.head);  // the driver reuses a chain the device still owns
    r.notify();
    EXPECT_TRUE(r.status() & virtio::kStatusNeedsReset);
    EXPECT_EQ(r.disk.calls, 1) << "the second offer never reached the backend";
    EXPECT_TRUE(r.irq.level) << "configuration change interrupt";
    r.disk.finish();
    r.dev.service();
    EXPECT_EQ(r.ring.used_idx(), 0u) << "a broken queue gets no completions";
    EXPECT_EQ(r.blk.in_flight(), 0u);
    r.wr(virtio::MmioReg::Status, 0);
    EXPECT_EQ(r.status(), 0u);
}

TEST_F(VirtioBlkAsyncTest, NotifyAlsoReapsFinishedWork)
{
    const Req a = offer(kTOut, 0, 512);
    r.notify();
    r.disk.finish();  // finished, but its interrupt has not been handled yet
    const Req b = offer(kTOut, 1, 512);
    r.notify();
    auto u = r.ring.take_used();
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->id, a.head);
    EXPECT_EQ(r.blk.in_flight(), 1u);
    (void)b;
}

// ---- configuration from the backend ----------------------------------------------

TEST(VirtioBlkBackendConfig, ReadOnlyBackendOffersRoAndRefusesWrites)
{
    BlkRig r;
    r.disk.ro = true;
    EXPECT_TRUE(r.blk.features() & kFRo);
    r.bring_up();
    const u64 buf = r.alloc(512);
    EXPECT_EQ(r.write(0, buf, 512).status, kSIoErr);
    EXPECT_EQ(r.read(0, buf, 512).status, kSOk);
    EXPECT_EQ(r.disk.calls, 1);
}

TEST(VirtioBlkBackendConfig, SegMaxFollowsTheBackendAndIsEnforced)
{
    BlkRig r;
    r.disk.max_segs = 4;
    r.ring = Ring(r.ram, 64);
    r.bring_up();
    EXPECT_EQ(r.rd(vt::kConfig + off(Config::SegMax)), 4u);
    const u64 h = r.alloc(16), d = r.alloc(5 * 512), st = r.alloc(1);
    r.ram.fill(h, blk_header(kTIn, 0));
    std::vector<Buf> four{{h, 16, false}}, five{{h, 16, false}};
    for (int i = 0; i < 5; i++) {
        five.push_back({d + 512u * static_cast<u64>(i), 512, true});
        if (i < 4)
            four.push_back({d + 512u * static_cast<u64>(i), 512, true});
    }
    four.push_back({st, 1, true});
    five.push_back({st, 1, true});
    EXPECT_EQ(r.run(four, st).status, kSOk);
    EXPECT_EQ(r.run(five, st).status, kSIoErr) << "more data buffers than seg_max";
    EXPECT_EQ(r.disk.calls, 1);

    BlkRig big;
    EXPECT_EQ(big.blk.seg_max(), VirtioBlk::kSegMax) << "capped by what the guest ring can hold";
}

} // namespace
