#include <gtest/gtest.h>

#include "mmio.h"

namespace {

// Data abort syndromes as the hardware reports them: EC=0x24, IL=1, ISV=1.
constexpr u64 kEcDabtLow = u64{0x24} << 26;
constexpr u64 kIl = u64{1} << 25;
constexpr u64 kIsv = u64{1} << 24;

u64 dabt(unsigned sas, bool sse, unsigned srt, bool sf, bool wnr)
{
    return kEcDabtLow | kIl | kIsv | (u64{sas} << 22) | (u64{sse} << 21) | (u64{srt} << 16) |
           (u64{sf} << 15) | (u64{wnr} << 6);
}

TEST(MmioDecode, Str32FromW3)
{
    MmioAccess a{};
    ASSERT_TRUE(mmio_decode(dabt(2, false, 3, false, true), 0x09000000, a));
    EXPECT_EQ(a.addr, 0x09000000u);
    EXPECT_EQ(a.width, 4);
    EXPECT_TRUE(a.write);
    EXPECT_EQ(a.reg, 3);
    EXPECT_FALSE(a.sign_extend);
    EXPECT_FALSE(a.sf);
}

TEST(MmioDecode, Ldr64IntoX30)
{
    MmioAccess a{};
    ASSERT_TRUE(mmio_decode(dabt(3, false, 30, true, false), 0x080a0008, a));
    EXPECT_EQ(a.width, 8);
    EXPECT_FALSE(a.write);
    EXPECT_EQ(a.reg, 30);
    EXPECT_TRUE(a.sf);
}

TEST(MmioDecode, ByteAndHalfwordWidths)
{
    MmioAccess a{};
    ASSERT_TRUE(mmio_decode(dabt(0, false, 1, false, false), 0, a));
    EXPECT_EQ(a.width, 1);
    ASSERT_TRUE(mmio_decode(dabt(1, false, 1, false, false), 0, a));
    EXPECT_EQ(a.width, 2);
}

TEST(MmioDecode, StoreFromXzr)
{
    MmioAccess a{};
    ASSERT_TRUE(mmio_decode(dabt(2, false, 31, false, true), 0x1000, a));
    EXPECT_EQ(a.reg, 31);
}

TEST(MmioDecode, NoSyndromeIsRejected)
{
    MmioAccess a{};
    EXPECT_FALSE(mmio_decode(dabt(2, false, 3, false, true) & ~kIsv, 0x1000, a));
}

TEST(MmioLoadResult, SignExtendsLdrsb)
{
    MmioAccess a{};
    ASSERT_TRUE(mmio_decode(dabt(0, true, 0, true, false), 0, a));
    a.data = 0x80;
    EXPECT_EQ(mmio_load_result(a), 0xffffffffffffff80ull);
}

TEST(MmioLoadResult, SignExtendIntoWRegisterClearsUpperHalf)
{
    MmioAccess a{};
    ASSERT_TRUE(mmio_decode(dabt(1, true, 0, false, false), 0, a));
    a.data = 0x8001;
    EXPECT_EQ(mmio_load_result(a), 0xffff8001ull);
}

TEST(MmioLoadResult, ZeroExtendsAndMasksToWidth)
{
    MmioAccess a{};
    ASSERT_TRUE(mmio_decode(dabt(1, false, 0, true, false), 0, a));
    a.data = 0xdead8001;
    EXPECT_EQ(mmio_load_result(a), 0x8001ull);
}

class FakeDevice final : public MmioDevice {
public:
    FakeDevice() : MmioDevice("fake") {}
    MmioResult access(u32 vcpu, u64 offset, MmioAccess& a) override
    {
        last_vcpu = vcpu;
        last_offset = offset;
        if (!a.write)
            a.data = 0x1234;
        return MmioResult::Handled;
    }
    u32 last_vcpu = 99;
    u64 last_offset = 0;
};

TEST(MmioBus, DispatchesByRangeWithOffset)
{
    MmioBus bus;
    FakeDevice a, b;
    ASSERT_TRUE(bus.add(0x1000, 0x1000, a));
    ASSERT_TRUE(bus.add(0x3000, 0x100, b));
    MmioAccess acc{.addr = 0x3010, .width = 4, .write = false, .reg = 0, .sign_extend = false, .sf = false, .data = 0};
    int idx = -2;
    EXPECT_EQ(bus.dispatch(2, acc, &idx), MmioResult::Handled);
    EXPECT_EQ(idx, 1);
    EXPECT_EQ(b.last_vcpu, 2u);
    EXPECT_EQ(b.last_offset, 0x10u);
    EXPECT_EQ(acc.data, 0x1234u);
}

TEST(MmioBus, UnbackedAddressIsUnhandled)
{
    MmioBus bus;
    FakeDevice a;
    ASSERT_TRUE(bus.add(0x1000, 0x1000, a));
    MmioAccess acc{.addr = 0x2000, .width = 4, .write = true, .reg = 0, .sign_extend = false, .sf = false, .data = 0};
    EXPECT_EQ(bus.dispatch(0, acc), MmioResult::Unhandled);
    acc.addr = 0x1ffe; // straddles the end
    EXPECT_EQ(bus.dispatch(0, acc), MmioResult::Unhandled);
}

TEST(MmioBus, RejectsOverlap)
{
    MmioBus bus;
    FakeDevice a;
    ASSERT_TRUE(bus.add(0x1000, 0x1000, a));
    EXPECT_FALSE(bus.add(0x1800, 0x1000, a));
}

// Found by the mmio fuzzer: ranges are registered from platform data, and a
// base + size past 2^64 wrapped, so the overlap check passed a range that
// covered low addresses too, and an access near the top of the space was
// measured against a wrapped end.
TEST(MmioBus, RejectsRangeWrappingPastTheTopOfTheAddressSpace)
{
    MmioBus bus;
    FakeDevice low, high;
    ASSERT_TRUE(bus.add(0x0, 0x800, low));
    EXPECT_FALSE(bus.add(0xffff'ffff'ffff'f000, 0x2000, high));
    EXPECT_EQ(bus.count(), 1u);
    EXPECT_EQ(bus.find(0xffff'ffff'ffff'f800), -1);
}

TEST(MmioBus, RangeEndingAtTheTopOfTheAddressSpace)
{
    MmioBus bus;
    FakeDevice top, low;
    ASSERT_TRUE(bus.add(0xffff'ffff'ffff'f000, 0x1000, top));
    ASSERT_TRUE(bus.add(0x1000, 0x1000, low));
    EXPECT_FALSE(bus.add(0xffff'ffff'ffff'fff0, 0x10, low)); // overlaps the top range
    MmioAccess acc{.addr = 0xffff'ffff'ffff'f000, .width = 4, .write = false, .reg = 0, .sign_extend = false, .sf = false,
                   .data = 0};
    EXPECT_EQ(bus.dispatch(1, acc), MmioResult::Handled);
    EXPECT_EQ(top.last_offset, 0u);
    acc.addr = 0xffff'ffff'ffff'fff8;
    acc.width = 8;
    EXPECT_EQ(bus.dispatch(1, acc), MmioResult::Handled);
    EXPECT_EQ(top.last_offset, 0xff8u);
    acc.addr = 0xffff'ffff'ffff'fffc; // would run past 2^64
    EXPECT_EQ(bus.dispatch(1, acc), MmioResult::Unhandled);
}

} // namespace
