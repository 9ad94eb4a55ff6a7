// The software stage-1 walk the debugger uses for guest virtual addresses,
// against page tables built in a fake guest RAM.
#include <gtest/gtest.h>

#include <map>

#include "debug/s1_walk.h"

namespace {

class FakeRam final : public s1::TableReader {
public:
    bool read_u64(u64 ipa, u64& out) override
    {
        reads++;
        auto it = words.find(ipa);
        if (it == words.end()) {
            out = 0; // unset words of "RAM" read as 0 (invalid)
            return !strict;
        }
        out = it->second;
        return true;
    }
    std::map<u64, u64> words;
    bool strict = false;  // true: only written words are RAM
    int reads = 0;
    u64 next_table = 0x4010'0000; // where Tables allocates (shared by all tables in this RAM)
};

// Builds tables for one granule / VA size: map() creates the path to a
// page (level 3) or a block at `leaf_level`.
class Tables {
public:
    Tables(FakeRam& ram, unsigned g, unsigned va_bits) : ram_(ram), g_(g), va_bits_(va_bits)
    {
        const unsigned stride = g - 3;
        levels_ = (va_bits - g + stride - 1) / stride;
        root = alloc();
    }
    u64 alloc()
    {
        const u64 t = align_up(ram_.next_table, u64{1} << g_);
        ram_.next_table = t + (u64{1} << g_);
        return t;
    }
    unsigned shift(int level) const { return g_ + static_cast<unsigned>(3 - level) * (g_ - 3); }
    int start_level() const { return 4 - static_cast<int>(levels_); }

    void map(u64 va, u64 oa, int leaf_level = 3, u64 attrs = 0x403 /*AF, page*/)
    {
        u64 table = root;
        for (int l = start_level(); l < leaf_level; l++) {
            const unsigned bits = l == start_level() ? va_bits_ - shift(l) : g_ - 3;
            const u64 idx = (va >> shift(l)) & ((u64{1} << bits) - 1);
            u64& d = ram_.words[table + idx * 8];
            if (!(d & 1))
                d = alloc() | 3;
            table = d & ~u64{0xfff} & ((u64{1} << 48) - 1) & ~((u64{1} << g_) - 1);
        }
        const unsigned bits = leaf_level == start_level() ? va_bits_ - shift(leaf_level) : g_ - 3;
        const u64 idx = (va >> shift(leaf_level)) & ((u64{1} << bits) - 1);
        const u64 type = leaf_level == 3 ? 3 : 1;
        ram_.words[table + idx * 8] = oa | (attrs & ~u64{3}) | type;
    }

    u64 root;

private:
    FakeRam& ram_;
    unsigned g_, va_bits_, levels_;
};

// TCR_EL1 for both halves with the given sizes and granules.
constexpr u64 tcr(unsigned t0sz, unsigned tg0, unsigned t1sz, unsigned tg1)
{
    return u64{t0sz} | (u64{tg0} << 14) | (u64{t1sz} << 16) | (u64{tg1} << 30);
}
constexpr u64 kTg0_4k = 0, kTg0_64k = 1, kTg0_16k = 2;
constexpr u64 kTg1_16k = 1, kTg1_4k = 2, kTg1_64k = 3;

bool tr(const s1::Regs& r, u64 va, FakeRam& ram, s1::Result& out) { return s1::translate(r, va, ram, &out); }

TEST(S1WalkTest, MmuOffIsFlat)
{
    FakeRam ram;
    s1::Regs r{.sctlr = 0, .tcr = 0, .ttbr0 = 0, .ttbr1 = 0};
    s1::Result out{};
    ASSERT_TRUE(tr(r, 0x4008'1234, ram, out));
    EXPECT_EQ(out.ipa, 0x4008'1234u);
    EXPECT_EQ(out.size, 0x1000u - 0x234);
    EXPECT_FALSE(tr(r, 0xffff'0000'0000'0000ull, ram, out));
    EXPECT_EQ(ram.reads, 0);
}

TEST(S1WalkTest, FourKiB48BitKernelAndUserPages)
{
    FakeRam ram;
    Tables hi(ram, 12, 48), lo(ram, 12, 48);
    hi.map(0xffff'8000'1234'5000ull, 0x4123'4000);
    lo.map(0x0000'aaaa'0000'1000ull, 0x4555'6000);
    const s1::Regs r{.sctlr = 1, .tcr = tcr(16, kTg0_4k, 16, kTg1_4k), .ttbr0 = lo.root | (u64{7} << 48),
                     .ttbr1 = hi.root | 1 /*CnP*/};
    s1::Result out{};
    ASSERT_TRUE(tr(r, 0xffff'8000'1234'5678ull, ram, out));
    EXPECT_EQ(out.ipa, 0x4123'4678u);
    EXPECT_EQ(out.size, 0x1000u - 0x678);
    ASSERT_TRUE(tr(r, 0x0000'aaaa'0000'1ff8ull, ram, out)); // ASID bits in TTBR0 ignored
    EXPECT_EQ(out.ipa, 0x4555'6ff8u);
    // Neighbouring, unmapped page: the level-3 entry is invalid.
    EXPECT_FALSE(tr(r, 0xffff'8000'1234'6000ull, ram, out));
    // Not canonical: bits above the VA size disagree with bit 55.
    EXPECT_FALSE(tr(r, 0x00ff'8000'1234'5678ull, ram, out));
    EXPECT_FALSE(tr(r, 0xff00'aaaa'0000'1000ull, ram, out));
}

TEST(S1WalkTest, BlocksAtLevelsOneAndTwo)
{
    FakeRam ram;
    Tables t(ram, 12, 48);
    t.map(0xffff'0000'4000'0000ull, 0x8000'0000, 1);       // 1 GiB
    t.map(0xffff'0000'8020'0000ull, 0x4060'0000, 2);       // 2 MiB
    const s1::Regs r{.sctlr = 1, .tcr = tcr(16, kTg0_4k, 16, kTg1_4k), .ttbr0 = 0, .ttbr1 = t.root};
    s1::Result out{};
    ASSERT_TRUE(tr(r, 0xffff'0000'4abc'def0ull, ram, out));
    EXPECT_EQ(out.ipa, 0x8abc'def0u);
    EXPECT_EQ(out.size, 0x4000'0000u - 0x0abc'def0u);
    ASSERT_TRUE(tr(r, 0xffff'0000'8021'0004ull, ram, out));
    EXPECT_EQ(out.ipa, 0x4061'0004u);
    EXPECT_EQ(out.size, 0x20'0000u - 0x1'0004u);
}

TEST(S1WalkTest, ReservedEncodingsFault)
{
    FakeRam ram;
    Tables t(ram, 12, 48);
    t.map(0xffff'0000'0000'0000ull, 0x4000'0000, 0); // a "block" at level 0 is not allowed with 4K
    const s1::Regs r{.sctlr = 1, .tcr = tcr(16, kTg0_4k, 16, kTg1_4k), .ttbr0 = 0, .ttbr1 = t.root};
    s1::Result out{};
    EXPECT_FALSE(tr(r, 0xffff'0000'0000'1000ull, ram, out));
    // Level 3 with bits[1:0] = 01 is reserved.
    Tables t2(ram, 12, 48);
    t2.map(0xffff'0000'0010'0000ull, 0x4000'0000);
    const s1::Regs r2{.sctlr = 1, .tcr = tcr(16, kTg0_4k, 16, kTg1_4k), .ttbr0 = 0, .ttbr1 = t2.root};
    ASSERT_TRUE(tr(r2, 0xffff'0000'0010'0000ull, ram, out));
    for (auto& [ipa, d] : ram.words)
        if ((d & ~u64{0xfff}) == 0x4000'0000 && (d & 3) == 3)
            d = (d & ~u64{3}) | 1;
    EXPECT_FALSE(tr(r2, 0xffff'0000'0010'0000ull, ram, out));
}

TEST(S1WalkTest, TableOutsideGuestRamFaults)
{
    FakeRam ram;
    ram.strict = true;
    Tables t(ram, 12, 48);
    t.map(0xffff'0000'0000'0000ull, 0x4000'0000);
    // Point the root entry at a table that is not in RAM.
    for (auto& [ipa, d] : ram.words)
        if (ipa >= t.root && ipa < t.root + 4096)
            d = 0x9'0000'0000ull | 3;
    const s1::Regs r{.sctlr = 1, .tcr = tcr(16, kTg0_4k, 16, kTg1_4k), .ttbr0 = 0, .ttbr1 = t.root};
    s1::Result out{};
    EXPECT_FALSE(tr(r, 0xffff'0000'0000'0000ull, ram, out));
}

TEST(S1WalkTest, EpdDisablesAHalf)
{
    FakeRam ram;
    Tables t(ram, 12, 48);
    t.map(0xffff'0000'0000'0000ull, 0x4000'0000);
    s1::Regs r{.sctlr = 1, .tcr = tcr(16, kTg0_4k, 16, kTg1_4k) | bit(23), .ttbr0 = 0, .ttbr1 = t.root};
    s1::Result out{};
    EXPECT_FALSE(tr(r, 0xffff'0000'0000'0000ull, ram, out));
    r.tcr &= ~bit(23);
    EXPECT_TRUE(tr(r, 0xffff'0000'0000'0000ull, ram, out));
}

TEST(S1WalkTest, TopByteIgnore)
{
    FakeRam ram;
    Tables t(ram, 12, 48);
    t.map(0x0000'0000'0040'0000ull, 0x4100'0000);
    s1::Regs r{.sctlr = 1, .tcr = tcr(16, kTg0_4k, 16, kTg1_4k), .ttbr0 = t.root, .ttbr1 = 0};
    s1::Result out{};
    EXPECT_FALSE(tr(r, 0x5a00'0000'0040'0010ull, ram, out));
    r.tcr |= bit(37); // TBI0
    ASSERT_TRUE(tr(r, 0x5a00'0000'0040'0010ull, ram, out));
    EXPECT_EQ(out.ipa, 0x4100'0010u);
}

TEST(S1WalkTest, ThirtyNineBitsStartAtLevelOne)
{
    FakeRam ram;
    Tables t(ram, 12, 39);
    t.map(0x0000'0040'0000'3000ull, 0x4200'3000);
    const s1::Regs r{.sctlr = 1, .tcr = tcr(25, kTg0_4k, 25, kTg1_4k), .ttbr0 = t.root, .ttbr1 = 0};
    s1::Result out{};
    ASSERT_TRUE(tr(r, 0x0000'0040'0000'3abcull, ram, out));
    EXPECT_EQ(out.ipa, 0x4200'3abcu);
    EXPECT_EQ(ram.reads, 3);
    EXPECT_FALSE(tr(r, 0x0000'0080'0000'3abcull, ram, out)); // beyond 39 bits
}

TEST(S1WalkTest, SixtyFourKiBGranule)
{
    FakeRam ram;
    Tables t(ram, 16, 42);
    t.map(0x0000'0123'4567'0000ull, 0x4abc'0000);
    t.map(0x0000'0200'0000'0000ull, 0x6000'0000, 2); // 512 MiB block
    const s1::Regs r{.sctlr = 1, .tcr = tcr(22, kTg0_64k, 22, kTg1_4k), .ttbr0 = t.root, .ttbr1 = 0};
    s1::Result out{};
    ASSERT_TRUE(tr(r, 0x0000'0123'4567'89abull, ram, out));
    EXPECT_EQ(out.ipa, 0x4abc'89abu);
    EXPECT_EQ(out.size, 0x1'0000u - 0x89ab);
    ASSERT_TRUE(tr(r, 0x0000'0200'1234'5678ull, ram, out));
    EXPECT_EQ(out.ipa, 0x7234'5678u);
}

TEST(S1WalkTest, SixteenKiBGranuleUpperHalf)
{
    FakeRam ram;
    Tables t(ram, 14, 47);
    t.map(0xffff'c000'0012'4000ull, 0x4321'c000);
    const s1::Regs r{.sctlr = 1, .tcr = tcr(16, kTg0_4k, 17, kTg1_16k), .ttbr0 = 0, .ttbr1 = t.root};
    s1::Result out{};
    ASSERT_TRUE(tr(r, 0xffff'c000'0012'5ffcull, ram, out));
    EXPECT_EQ(out.ipa, 0x4321'dffcu);
    EXPECT_EQ(out.size, 0x4000u - 0x1ffc);
}

TEST(S1WalkTest, TwoGranulesForTwoHalves)
{
    FakeRam ram;
    Tables hi(ram, 16, 48), lo(ram, 12, 48);
    hi.map(0xffff'0000'0001'0000ull, 0x4400'0000);
    lo.map(0x0000'0000'0001'0000ull, 0x4500'0000);
    const s1::Regs r{.sctlr = 1, .tcr = tcr(16, kTg0_4k, 16, kTg1_64k), .ttbr0 = lo.root, .ttbr1 = hi.root};
    s1::Result out{};
    ASSERT_TRUE(tr(r, 0xffff'0000'0001'8000ull, ram, out));
    EXPECT_EQ(out.ipa, 0x4400'8000u);
    ASSERT_TRUE(tr(r, 0x0000'0000'0001'0800ull, ram, out));
    EXPECT_EQ(out.ipa, 0x4500'0800u);
}

} // namespace
