// virtio-blk requests through the transport: IN/OUT/FLUSH/GET_ID, any
// descriptor split, and each malformed case completing IOERR/UNSUPP (or
// used.len 0 without a status byte) without touching anything outside
// guest RAM or the disk.
#include <gtest/gtest.h>

#include "virtio_harness.h"

using namespace vt;
using namespace virtio_blk;

namespace {

class VirtioBlkTest : public ::testing::Test {
protected:
    void SetUp() override { r.bring_up(); }
    BlkRig r;
    static constexpr u64 kSectors = BlkRig::kDiskBytes / 512;
};

TEST_F(VirtioBlkTest, WriteThenReadBack)
{
    const auto data = pattern(4096, 3);
    const u64 src = r.alloc(4096), dst = r.alloc(4096);
    r.ram.fill(src, data);
    auto w = r.write(10, src, 4096);
    ASSERT_TRUE(w.completed);
    EXPECT_EQ(w.status, kSOk);
    EXPECT_EQ(w.used_len, 1u) << "OUT writes only the status byte";
    EXPECT_EQ(std::vector<u8>(r.disk.data.begin() + 10 * 512, r.disk.data.begin() + 10 * 512 + 4096), data);
    auto rd = r.read(10, dst, 4096);
    EXPECT_EQ(rd.status, kSOk);
    EXPECT_EQ(rd.used_len, 4097u);
    EXPECT_EQ(r.ram.bytes(dst, 4096), data);
    const auto st = r.blk.stats();
    EXPECT_EQ(st.reads, 1u);
    EXPECT_EQ(st.writes, 1u);
    EXPECT_EQ(st.bytes_read, 4096u);
    EXPECT_EQ(st.bytes_written, 4096u);
    EXPECT_EQ(st.errors, 0u);
}

TEST_F(VirtioBlkTest, AnyDescriptorSplitWorks)
{
    // Header split 3 + 13, data in pieces of 100, 412, 512 bytes, and the
    // status byte sharing the last data buffer.
    const auto data = pattern(1024, 9);
    const u64 h = r.alloc(16), d1 = r.alloc(100), d2 = r.alloc(412), d3 = r.alloc(513);
    r.ram.fill(h, blk_header(kTOut, 100));
    r.ram.fill(d1, std::vector<u8>(data.begin(), data.begin() + 100));
    r.ram.fill(d2, std::vector<u8>(data.begin() + 100, data.begin() + 512));
    r.ram.fill(d3, std::vector<u8>(data.begin() + 512, data.end()));
    const u64 st = r.alloc(1);
    auto w = r.run({{h, 3, false}, {h + 3, 13, false}, {d1, 100, false}, {d2, 412, false}, {d3, 512, false},
                    {st, 1, true}},
                   st);
    EXPECT_EQ(w.status, kSOk);
    EXPECT_EQ(std::vector<u8>(r.disk.data.begin() + 100 * 512, r.disk.data.begin() + 100 * 512 + 1024), data);

    // Read it back into 7 + 505 + (512 data + 1 status) bytes.
    const u64 h2 = r.alloc(16), o1 = r.alloc(7), o2 = r.alloc(505), o3 = r.alloc(513);
    r.ram.fill(h2, blk_header(kTIn, 100));
    auto rd = r.run({{h2, 16, false}, {o1, 7, true}, {o2, 505, true}, {o3, 513, true}}, o3 + 512);
    EXPECT_EQ(rd.status, kSOk);
    EXPECT_EQ(rd.used_len, 1025u);
    std::vector<u8> got = r.ram.bytes(o1, 7);
    for (u8 b : r.ram.bytes(o2, 505))
        got.push_back(b);
    for (u8 b : r.ram.bytes(o3, 512))
        got.push_back(b);
    EXPECT_EQ(got, data);
}

TEST_F(VirtioBlkTest, LastSectorIsReachable)
{
    const u64 buf = r.alloc(512);
    r.ram.fill(buf, pattern(512, 1));
    EXPECT_EQ(r.write(kSectors - 1, buf, 512).status, kSOk);
    EXPECT_EQ(r.read(kSectors - 1, buf, 512).status, kSOk);
    EXPECT_EQ(r.read(kSectors, buf, 0).status, kSOk) << "an empty read at the end";
}

TEST_F(VirtioBlkTest, PastTheEndIsIoErrAndNeverReachesTheDisk)
{
    const u64 buf = r.alloc(1024);
    struct Case {
        u64 sector;
        u32 len;
    };
    const Case cases[] = {
        {kSectors, 512},
        {kSectors - 1, 1024},
        {kSectors + 1000, 512},
        {~u64{0}, 512},              // sector * 512 would overflow
        {~u64{0} / 512 + 1, 512},    // so would this
        {(~u64{0} - 1), 0},          // even empty, the start is past the end
    };
    for (const Case& c : cases) {
        const int calls = r.disk.calls;
        EXPECT_EQ(r.read(c.sector, buf, c.len).status, kSIoErr) << c.sector;
        EXPECT_EQ(r.write(c.sector, buf, c.len).status, kSIoErr) << c.sector;
        EXPECT_EQ(r.disk.calls, calls) << c.sector;
    }
    EXPECT_EQ(r.blk.stats().errors, 2 * std::size(cases));
}

TEST_F(VirtioBlkTest, DataNotWholeSectorsIsIoErr)
{
    const u64 buf = r.alloc(1024);
    for (u32 len : {1u, 511u, 513u, 1000u}) {
        EXPECT_EQ(r.read(0, buf, len).status, kSIoErr) << len;
        EXPECT_EQ(r.write(0, buf, len).status, kSIoErr) << len;
    }
    EXPECT_EQ(r.disk.calls, 0);
}

TEST_F(VirtioBlkTest, ShortOrMissingHeaderIsIoErr)
{
    const u64 h = r.alloc(16), st = r.alloc(1);
    r.ram.fill(h, blk_header(kTIn, 0));
    auto res = r.run({{h, 8, false}, {st, 1, true}}, st);
    EXPECT_EQ(res.status, kSIoErr);
    EXPECT_EQ(res.used_len, 1u);
    res = r.run({{st, 1, true}}, st);  // only a status byte
    EXPECT_EQ(res.status, kSIoErr);
    EXPECT_EQ(r.disk.calls, 0);
}

TEST_F(VirtioBlkTest, NoStatusByteCompletesWithZeroLength)
{
    const u64 h = r.alloc(16);
    r.ram.fill(h, blk_header(kTFlush, 0));
    auto res = r.run({{h, 16, false}}, 0);
    ASSERT_TRUE(res.completed);
    EXPECT_EQ(res.used_len, 0u);
    EXPECT_EQ(r.disk.flushes, 0);
    EXPECT_EQ(r.blk.stats().errors, 1u);
}

TEST_F(VirtioBlkTest, UnknownTypeIsUnsupp)
{
    for (u32 type : {2u, 10u, 11u, 13u, 14u, 0x8000'0000u}) {
        const u64 h = r.alloc(16), st = r.alloc(1);
        r.ram.fill(h, blk_header(type, 0));
        auto res = r.run({{h, 16, false}, {st, 1, true}}, st);
        EXPECT_EQ(res.status, kSUnsupp) << type;
        EXPECT_EQ(res.used_len, 1u);
    }
    EXPECT_EQ(r.blk.stats().unsupported, 6u);
    EXPECT_EQ(r.blk.stats().errors, 0u);
}

TEST_F(VirtioBlkTest, Flush)
{
    const u64 h = r.alloc(16), st = r.alloc(1);
    r.ram.fill(h, blk_header(kTFlush, 0));
    EXPECT_EQ(r.run({{h, 16, false}, {st, 1, true}}, st).status, kSOk);
    EXPECT_EQ(r.disk.flushes, 1);
    r.disk.fail = true;
    EXPECT_EQ(r.run({{h, 16, false}, {st, 1, true}}, st).status, kSIoErr);
    EXPECT_EQ(r.blk.stats().flushes, 2u);
}

TEST_F(VirtioBlkTest, GetId)
{
    const u64 h = r.alloc(16), id = r.alloc(21);
    r.ram.fill(h, blk_header(kTGetId, 0));
    auto res = r.run({{h, 16, false}, {id, 21, true}}, id + 20);
    EXPECT_EQ(res.status, kSOk);
    EXPECT_EQ(res.used_len, 21u);
    const auto b = r.ram.bytes(id, 20);
    EXPECT_EQ(std::string(b.begin(), b.end()), std::string("hyp-test-disk-serial-number").substr(0, 20));

    // A short serial is NUL-padded.
    BlkRig short_rig("abc");
    short_rig.bring_up();
    const u64 h2 = short_rig.alloc(16), out = short_rig.alloc(21);
    short_rig.ram.fill(h2, blk_header(kTGetId, 0));
    short_rig.ram.fill(out, std::vector<u8>(21, 0xcc));
    res = short_rig.run({{h2, 16, false}, {out, 21, true}}, out + 20);
    EXPECT_EQ(res.status, kSOk);
    EXPECT_EQ(res.used_len, 21u);
    const auto sb = short_rig.ram.bytes(out, 20);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(sb.data())), "abc");
    EXPECT_EQ(sb[19], 0);

    const u64 small = r.alloc(11);
    res = r.run({{h, 16, false}, {small, 11, true}}, small + 10);
    EXPECT_EQ(res.status, kSIoErr) << "ID buffer under 20 bytes";
}

TEST_F(VirtioBlkTest, DataBufferOutsideRamIsIoErr)
{
    const u64 h = r.alloc(16), st = r.alloc(1);
    for (u32 type : {kTIn, kTOut}) {
        r.ram.fill(h, blk_header(type, 0));
        const bool w = type == kTIn;
        for (u64 bad : {u64{0x1000}, kRamBase + kRamSize - 256, ~u64{0} - 255}) {
            auto res = r.run({{h, 16, false}, {bad, 512, w}, {st, 1, true}}, st);
            EXPECT_EQ(res.status, kSIoErr) << type << " " << std::hex << bad;
            EXPECT_EQ(res.used_len, 1u);
        }
    }
    EXPECT_EQ(r.disk.calls, 0);
}

TEST_F(VirtioBlkTest, StatusOutsideRamCompletesWithZeroLength)
{
    const u64 h = r.alloc(16), buf = r.alloc(512);
    r.ram.fill(h, blk_header(kTIn, 0));
    auto res = r.run({{h, 16, false}, {buf, 512, true}, {kRamBase + kRamSize, 1, true}}, 0);
    ASSERT_TRUE(res.completed);
    EXPECT_EQ(res.used_len, 0u);
    EXPECT_EQ(r.disk.calls, 0);
}

TEST_F(VirtioBlkTest, MalformedChainsFailAndTheQueueGoesOn)
{
    const u64 h = r.alloc(16), st = r.alloc(1);
    r.ram.fill(h, blk_header(kTFlush, 0));
    const u16 base = r.ring.next_desc;
    // A loop: base -> base+1 -> base.
    r.ring.write_desc(base, h, 16, virtq::kDescNext, static_cast<u16>(base + 1));
    r.ring.write_desc(static_cast<u16>(base + 1), st, 1, virtq::kDescNext | virtq::kDescWrite, base);
    r.ring.next_desc = static_cast<u16>(base + 2);
    r.ring.offer(base);
    r.notify();
    auto u = r.ring.take_used();
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->id, base);
    EXPECT_EQ(u->len, 0u);
    // Readable after writable.
    auto res = r.run({{st, 1, true}, {h, 16, false}}, 0);
    EXPECT_EQ(res.used_len, 0u);
    // Indirect.
    const u16 ind = r.ring.next_desc;
    r.ring.write_desc(ind, h, 16, virtq::kDescIndirect, 0);
    r.ring.next_desc++;
    r.ring.offer(ind);
    r.notify();
    u = r.ring.take_used();
    ASSERT_TRUE(u.has_value());
    EXPECT_EQ(u->len, 0u);
    EXPECT_EQ(r.disk.flushes, 0);
    EXPECT_FALSE(r.status() & virtio::kStatusNeedsReset);
    // And a good request still works.
    const u64 buf = r.alloc(512);
    EXPECT_EQ(r.read(0, buf, 512).status, kSOk);
    EXPECT_EQ(r.blk.stats().errors, 3u);
}

TEST_F(VirtioBlkTest, BackendFailureIsIoErr)
{
    const u64 buf = r.alloc(512);
    r.disk.fail = true;
    EXPECT_EQ(r.read(0, buf, 512).status, kSIoErr);
    EXPECT_EQ(r.write(0, buf, 512).status, kSIoErr);
}

TEST_F(VirtioBlkTest, ManyRequestsInOneNotify)
{
    std::vector<u64> status;
    std::vector<u64> bufs;
    for (int i = 0; i < 5; i++) {  // 15 of the ring's 16 descriptors
        const u64 h = r.alloc(16), b = r.alloc(512), st = r.alloc(1);
        r.ram.fill(h, blk_header(i % 2 ? kTIn : kTOut, static_cast<u64>(i)));
        r.ram.fill(b, pattern(512, static_cast<u8>(i)));
        r.ram.put<u8>(st, 0xee);
        r.ring.submit({{h, 16, false}, {b, 512, i % 2 == 1}, {st, 1, true}});
        status.push_back(st);
    }
    r.notify();
    for (u64 st : status)
        EXPECT_EQ(r.ram.get<u8>(st), kSOk);
    EXPECT_EQ(r.ring.used_idx(), 5u);
    EXPECT_EQ(r.irq.rising, 1);
}

TEST(MemoryBlockBackend, BoundsChecked)
{
    std::vector<u8> disk(1024 + 100, 0);
    MemoryBlockBackend m(disk.data(), disk.size());
    u8 buf[1024] = {1};
    BlockSeg one{buf, 512}, two{buf, 1024};
    auto req = [](BlockRequest::Op op, u64 sector, BlockSeg& s) {
        return BlockRequest{.op = op, .sector = sector, .bytes = s.len, .seg = &s, .nseg = 1, .tag = 0};
    };
    using S = BlockBackend::Start;
    EXPECT_EQ(m.sectors(), 2u) << "a partial sector is not part of the disk";
    EXPECT_EQ(m.start(req(BlockRequest::Op::Write, 1, one)), S::Done);
    EXPECT_EQ(disk[512], 1);
    EXPECT_EQ(m.start(req(BlockRequest::Op::Write, 1, two)), S::Failed);
    EXPECT_EQ(m.start(req(BlockRequest::Op::Write, 2, one)), S::Failed);
    EXPECT_EQ(m.start(req(BlockRequest::Op::Read, ~u64{0}, one)), S::Failed);
    EXPECT_EQ(m.start(req(BlockRequest::Op::Read, 0, two)), S::Done);
    BlockRequest lie = req(BlockRequest::Op::Read, 0, one);
    lie.bytes = 1024;  // more than the segments hold
    EXPECT_EQ(m.start(lie), S::Failed);
    BlockRequest flush{.op = BlockRequest::Op::Flush, .sector = 0, .bytes = 0, .seg = nullptr, .nseg = 0, .tag = 0};
    EXPECT_EQ(m.start(flush), S::Done);
}

// Every split of a 2-sector transfer into two buffers: the bounce path for
// sectors straddling buffers, the direct path for whole ones.
TEST_F(VirtioBlkTest, EverySplitPointRoundTrips)
{
    const auto data = pattern(1024, 77);
    for (u32 cut = 1; cut < 1024; cut += 37) {
        const u64 h = r.alloc(16), a = r.alloc(1024), st = r.alloc(1);
        r.ram.fill(h, blk_header(kTOut, 20));
        r.ram.fill(a, data);
        ASSERT_EQ(r.run({{h, 16, false}, {a, cut, false}, {a + cut, 1024 - cut, false}, {st, 1, true}}, st).status,
                  kSOk);
        ASSERT_EQ(std::vector<u8>(r.disk.data.begin() + 20 * 512, r.disk.data.begin() + 21 * 512 + 512), data);
        const u64 h2 = r.alloc(16), b = r.alloc(1025);
        r.ram.fill(h2, blk_header(kTIn, 20));
        ASSERT_EQ(r.run({{h2, 16, false}, {b, 1024 - cut, true}, {b + 1024 - cut, cut + 1, true}}, b + 1024).status,
                  kSOk);
        ASSERT_EQ(r.ram.bytes(b, 1024), data) << cut;
        std::fill(r.disk.data.begin(), r.disk.data.end(), 0);
        r.next_buf = BlkRig::kBufBase;
    }
}

} // namespace
