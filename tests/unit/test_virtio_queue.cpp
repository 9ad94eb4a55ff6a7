// Split virtqueue and GuestMemory: bounds, ring validation, chain walking
// and every way a guest can get a chain or a ring wrong.
#include <gtest/gtest.h>

#include "virtio_harness.h"

using namespace vt;

namespace {

TEST(GuestMemory, BoundsChecks)
{
    GuestRam ram;
    const GuestMemory& m = ram.mem;
    EXPECT_TRUE(m.contains(kRamBase, kRamSize));
    EXPECT_TRUE(m.contains(kRamBase + kRamSize, 0));
    EXPECT_FALSE(m.contains(kRamBase, kRamSize + 1));
    EXPECT_FALSE(m.contains(kRamBase - 1, 1));
    EXPECT_FALSE(m.contains(kRamBase + kRamSize, 1));
    EXPECT_FALSE(m.contains(0, 16));
    // Wrap-around: a huge length or an address near 2^64 never passes.
    EXPECT_FALSE(m.contains(kRamBase + 16, ~u64{0} - 8));
    EXPECT_FALSE(m.contains(~u64{0} - 4, 16));
    EXPECT_EQ(m.map(kRamBase + 8, 0), nullptr);
    EXPECT_EQ(m.map(kRamBase + kRamSize - 4, 8), nullptr);
    EXPECT_EQ(m.map(kRamBase + kRamSize - 8, 8), ram.ptr(kRamBase + kRamSize - 8));

    GuestMemory empty;
    EXPECT_FALSE(empty.contains(0, 0));
    EXPECT_EQ(empty.map(0, 1), nullptr);
}

TEST(GuestMemory, TypedAccessesNeedAlignmentAndRam)
{
    GuestRam ram;
    const GuestMemory& m = ram.mem;
    u16 v16 = 0;
    u32 v32 = 0;
    u64 v64 = 0;
    ram.put<u64>(kRamBase + 0x100, 0x1122'3344'5566'7788);
    EXPECT_TRUE(m.load64(kRamBase + 0x100, v64));
    EXPECT_EQ(v64, 0x1122'3344'5566'7788u);
    EXPECT_TRUE(m.load32(kRamBase + 0x104, v32));
    EXPECT_EQ(v32, 0x1122'3344u);
    EXPECT_TRUE(m.load16(kRamBase + 0x102, v16, true));
    EXPECT_EQ(v16, 0x5566u);
    EXPECT_FALSE(m.load16(kRamBase + 0x101, v16));
    EXPECT_FALSE(m.load32(kRamBase + 0x102, v32));
    EXPECT_FALSE(m.load64(kRamBase + 0x104, v64));
    EXPECT_FALSE(m.load64(kRamBase + kRamSize, v64));
    EXPECT_FALSE(m.load16(kRamBase - 2, v16));
    EXPECT_FALSE(m.store16(kRamBase + kRamSize, 1));
    EXPECT_FALSE(m.store32(kRamBase + 2, 1));
    EXPECT_TRUE(m.store32(kRamBase + kRamSize - 4, 0xabcd));
    EXPECT_EQ(ram.get<u32>(kRamBase + kRamSize - 4), 0xabcdu);
    u8 buf[4] = {};
    EXPECT_FALSE(m.read(kRamBase + kRamSize - 2, buf, 4));
    EXPECT_FALSE(m.write(kRamBase - 1, buf, 4));
    EXPECT_TRUE(m.read(kRamBase + 1, buf, 0));
}

class VirtqueueTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_TRUE(enable()); }
    bool enable()
    {
        q.reset();
        q.size = ring.size;
        q.desc_addr = ring.desc;
        q.avail_addr = ring.avail;
        q.used_addr = ring.used;
        return q.enable(ram.mem, 256);
    }
    Virtqueue::Pop pop() { return q.pop(ram.mem, chain); }

    GuestRam ram;
    Ring ring{ram, 8};
    Virtqueue q;
    VqChain chain;
};

TEST_F(VirtqueueTest, EnableValidatesSizeAlignmentAndPlacement)
{
    struct Case {
        u32 size;
        u64 desc, avail, used;
        bool ok;
    };
    const u64 d = ring.desc, a = ring.avail, u = ring.used;
    const Case cases[] = {
        {8, d, a, u, true},
        {1, d, a, u, true},
        {0, d, a, u, false},            // no queue
        {6, d, a, u, false},            // not a power of two
        {512, d, a, u, false},          // above the maximum
        {8, d + 8, a, u, false},        // descriptor table not 16-aligned
        {8, d, a + 1, u, false},        // avail not 2-aligned
        {8, d, a, u + 2, false},        // used not 4-aligned
        {8, 0x1000, a, u, false},       // outside RAM
        {8, d, kRamBase + kRamSize - 8, u, false},        // avail runs off the end
        {8, d, a, kRamBase + kRamSize - 16, false},       // used runs off the end
        {8, ~u64{0} - 15, a, u, false}, // wraps
    };
    for (const Case& c : cases) {
        q.reset();
        q.size = c.size;
        q.desc_addr = c.desc;
        q.avail_addr = c.avail;
        q.used_addr = c.used;
        EXPECT_EQ(q.enable(ram.mem, 256), c.ok) << c.size << " " << std::hex << c.desc << " " << c.avail << " " << c.used;
        EXPECT_EQ(q.ready(), c.ok);
    }
    q.reset();
    q.size = 16;
    q.desc_addr = d;
    q.avail_addr = a;
    q.used_addr = u;
    EXPECT_FALSE(q.enable(ram.mem, 8)) << "device maximum applies";
}

TEST_F(VirtqueueTest, EmptyUntilTheDriverPublishes)
{
    EXPECT_EQ(pop(), Virtqueue::Pop::Empty);
    const u16 head = ring.chain({{kRamBase + 0x10'0000, 16, false}});
    EXPECT_EQ(pop(), Virtqueue::Pop::Empty) << "not offered yet";
    ring.offer(head);
    EXPECT_EQ(pop(), Virtqueue::Pop::Chain);
    EXPECT_EQ(pop(), Virtqueue::Pop::Empty);
}

TEST_F(VirtqueueTest, ChainSegmentsAndStreamTotals)
{
    const u64 b = kRamBase + 0x10'0000;
    const u16 head = ring.submit({{b, 16, false}, {b + 0x100, 100, false}, {b + 0x200, 512, true}, {b + 0x400, 1, true}});
    ASSERT_EQ(pop(), Virtqueue::Pop::Chain);
    EXPECT_EQ(chain.head, head);
    EXPECT_EQ(chain.error, ChainError::None);
    EXPECT_EQ(chain.nseg, 4u);
    EXPECT_EQ(chain.readable, 116u);
    EXPECT_EQ(chain.writable, 513u);
    EXPECT_EQ(chain.seg[1].host, ram.ptr(b + 0x100));
    EXPECT_TRUE(chain.seg[2].writable);
}

TEST_F(VirtqueueTest, StreamsSpanSegments)
{
    const u64 b = kRamBase + 0x10'0000;
    ram.fill(b, {1, 2, 3});
    ram.fill(b + 0x100, {4, 5, 6, 7});
    ring.submit({{b, 3, false}, {b + 0x100, 4, false}, {b + 0x200, 2, true}, {b + 0x300, 3, true}});
    ASSERT_EQ(pop(), Virtqueue::Pop::Chain);
    u8 out[5] = {};
    ASSERT_TRUE(chain.read_stream(1, out, 5));
    EXPECT_EQ(std::vector<u8>(out, out + 5), (std::vector<u8>{2, 3, 4, 5, 6}));
    EXPECT_FALSE(chain.read_stream(3, out, 5)) << "past the readable stream";
    const u8 in[4] = {9, 8, 7, 6};
    ASSERT_TRUE(chain.write_stream(1, in, 4));
    EXPECT_EQ(ram.bytes(b + 0x200, 2), (std::vector<u8>{0, 9}));
    EXPECT_EQ(ram.bytes(b + 0x300, 3), (std::vector<u8>{8, 7, 6}));
    EXPECT_FALSE(chain.write_stream(4, in, 2));
    std::vector<std::pair<u64, u64>> pieces;
    EXPECT_TRUE(chain.for_each_piece(false, 2, 4, [&](u8*, u64 n, u64 pos) {
        pieces.emplace_back(pos, n);
        return true;
    }));
    EXPECT_EQ(pieces, (std::vector<std::pair<u64, u64>>{{2, 1}, {3, 3}}));
}

TEST_F(VirtqueueTest, LoopIsBoundedByQueueSize)
{
    // 0 -> 1 -> 0 -> ...
    ring.write_desc(0, kRamBase + 0x10'0000, 16, virtq::kDescNext, 1);
    ring.write_desc(1, kRamBase + 0x10'0100, 16, virtq::kDescNext, 0);
    ring.offer(0);
    ASSERT_EQ(pop(), Virtqueue::Pop::Chain);
    EXPECT_EQ(chain.error, ChainError::TooLong);
    EXPECT_FALSE(chain.shaped());
    EXPECT_LE(chain.nseg, ring.size);
    EXPECT_FALSE(q.broken()) << "a bad chain fails its request, not the queue";
}

TEST_F(VirtqueueTest, SelfLoop)
{
    ring.write_desc(3, kRamBase + 0x10'0000, 16, virtq::kDescNext | virtq::kDescWrite, 3);
    ring.offer(3);
    ASSERT_EQ(pop(), Virtqueue::Pop::Chain);
    EXPECT_EQ(chain.error, ChainError::TooLong);
}

TEST_F(VirtqueueTest, FullLengthChainIsFine)
{
    std::vector<Buf> bufs;
    for (u32 i = 0; i < ring.size; i++)
        bufs.push_back({kRamBase + 0x10'0000 + 0x100 * i, 8, i >= 4});
    ring.submit(bufs);
    ASSERT_EQ(pop(), Virtqueue::Pop::Chain);
    EXPECT_EQ(chain.error, ChainError::None);
    EXPECT_EQ(chain.nseg, ring.size);
}

TEST_F(VirtqueueTest, NextIndexOutOfRange)
{
    ring.write_desc(0, kRamBase + 0x10'0000, 16, virtq::kDescNext, 8);
    ring.offer(0);
    ASSERT_EQ(pop(), Virtqueue::Pop::Chain);
    EXPECT_EQ(chain.error, ChainError::BadIndex);
    ring.write_desc(1, kRamBase + 0x10'0000, 16, virtq::kDescNext, 0xffff);
    ring.offer(1);
    ASSERT_EQ(pop(), Virtqueue::Pop::Chain);
    EXPECT_EQ(chain.error, ChainError::BadIndex);
}

TEST_F(VirtqueueTest, IndirectNotNegotiated)
{
    ring.write_desc(0, kRamBase + 0x10'0000, 64, virtq::kDescIndirect, 0);
    ring.offer(0);
    ASSERT_EQ(pop(), Virtqueue::Pop::Chain);
    EXPECT_EQ(chain.error, ChainError::Indirect);
}

TEST_F(VirtqueueTest, ReadableAfterWritable)
{
    const u64 b = kRamBase + 0x10'0000;
    ring.submit({{b, 16, false}, {b + 0x100, 1, true}, {b + 0x200, 16, false}});
    ASSERT_EQ(pop(), Virtqueue::Pop::Chain);
    EXPECT_EQ(chain.error, ChainError::ReadAfterWrite);
}

TEST_F(VirtqueueTest, BuffersOutsideRamKeepTheShape)
{
    const u64 b = kRamBase + 0x10'0000;
    const std::vector<std::vector<Buf>> bad = {
        {{0x1000, 16, false}, {b, 1, true}},                         // below RAM
        {{kRamBase + kRamSize - 8, 16, false}, {b, 1, true}},        // straddles the end
        {{~u64{0} - 7, 16, false}, {b, 1, true}},                    // wraps around 2^64
        {{b, 16, false}, {kRamBase + kRamSize, 1, true}},            // status just past the end
    };
    for (const auto& bufs : bad) {
        ring.submit(bufs);
        ASSERT_EQ(pop(), Virtqueue::Pop::Chain);
        EXPECT_EQ(chain.error, ChainError::OutsideRam);
        EXPECT_TRUE(chain.shaped());
        EXPECT_EQ(chain.readable, 16u);
        EXPECT_EQ(chain.writable, 1u);
    }
    // Zero-length buffers are never mapped and never an error.
    ring.submit({{0, 0, false}, {b, 1, true}});
    ASSERT_EQ(pop(), Virtqueue::Pop::Chain);
    EXPECT_EQ(chain.error, ChainError::None);
}

TEST_F(VirtqueueTest, AvailIndexRunningAheadBreaksTheQueue)
{
    ram.put<u16>(ring.avail + 2, static_cast<u16>(ring.size + 1));
    EXPECT_EQ(pop(), Virtqueue::Pop::Broken);
    EXPECT_TRUE(q.broken());
    EXPECT_EQ(pop(), Virtqueue::Pop::Empty) << "stays stopped";
    ASSERT_TRUE(enable());
    EXPECT_FALSE(q.broken());
}

TEST_F(VirtqueueTest, HeadOutOfRangeBreaksTheQueue)
{
    ring.offer(static_cast<u16>(ring.size));
    EXPECT_EQ(pop(), Virtqueue::Pop::Broken);
    EXPECT_TRUE(q.broken());
}

TEST_F(VirtqueueTest, UsedRingAndIndicesWrapAround)
{
    const u64 b = kRamBase + 0x10'0000;
    for (u32 i = 0; i < 70'000; i++) {
        const u16 head = ring.submit({{b, 16, false}, {b + 0x100, 1, true}});
        ASSERT_EQ(pop(), Virtqueue::Pop::Chain) << i;
        ASSERT_TRUE(q.push(ram.mem, chain.head, i));
        const auto u = ring.take_used();
        ASSERT_TRUE(u.has_value()) << i;
        ASSERT_EQ(u->id, head);
        ASSERT_EQ(u->len, i);
    }
    EXPECT_EQ(q.used_idx(), static_cast<u16>(70'000));
    EXPECT_EQ(q.last_avail(), static_cast<u16>(70'000));
}

TEST_F(VirtqueueTest, NoInterruptFlag)
{
    EXPECT_TRUE(q.wants_interrupt(ram.mem));
    ring.set_avail_flags(virtq::kAvailNoInterrupt);
    EXPECT_FALSE(q.wants_interrupt(ram.mem));
}

TEST_F(VirtqueueTest, DisabledQueueYieldsNothing)
{
    ring.submit({{kRamBase + 0x10'0000, 16, false}});
    q.disable();
    EXPECT_EQ(pop(), Virtqueue::Pop::Empty);
}

TEST(ChainErrorNames, AllNamed)
{
    for (ChainError e : {ChainError::None, ChainError::OutsideRam, ChainError::TooLong, ChainError::BadIndex,
                         ChainError::Indirect, ChainError::ReadAfterWrite})
        EXPECT_STRNE(chain_error_name(e), "?");
}

} // namespace
