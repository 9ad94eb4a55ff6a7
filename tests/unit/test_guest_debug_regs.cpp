// The guest's debug registers, emulated while the debugger owns the
// hardware ones.
#include <gtest/gtest.h>

#include "debug/guest_debug_regs.h"
#include "sysreg_key.h"

namespace {

constexpr DebugRegCount kA57{.brps = 6, .wrps = 4};

class GuestDebugRegsTest : public ::testing::Test {
protected:
    DebugRegResult rd(u32 key, u64& v) { return emulate_debug_reg(s, kA57, key, true, v); }
    DebugRegResult wr(u32 key, u64 v) { return emulate_debug_reg(s, kA57, key, false, v); }
    u64 read(u32 key)
    {
        u64 v = 0xdead;
        EXPECT_EQ(rd(key, v), DebugRegResult::Done);
        return v;
    }
    GuestDebugRegs s{};
};

TEST_F(GuestDebugRegsTest, MdscrReadsBackWhatWasWritten)
{
    const u32 k = sysreg_key(2, 0, 0, 2, 2);
    EXPECT_EQ(wr(k, 0x8001), DebugRegResult::Done);
    EXPECT_EQ(read(k), 0x8001u);
    EXPECT_EQ(s.mdscr, 0x8001u);
}

TEST_F(GuestDebugRegsTest, BreakpointAndWatchpointPairs)
{
    for (u32 n = 0; n < 6; n++) {
        EXPECT_EQ(wr(sysreg_key(2, 0, 0, n, 4), 0xffff'0000'0000'0000ull + n), DebugRegResult::Done);
        EXPECT_EQ(wr(sysreg_key(2, 0, 0, n, 5), 0x1e7 + n), DebugRegResult::Done);
    }
    for (u32 n = 0; n < 4; n++) {
        EXPECT_EQ(wr(sysreg_key(2, 0, 0, n, 6), 0x1000 * n), DebugRegResult::Done);
        EXPECT_EQ(wr(sysreg_key(2, 0, 0, n, 7), 0x1ff7 + n), DebugRegResult::Done);
    }
    EXPECT_EQ(read(sysreg_key(2, 0, 0, 5, 4)), 0xffff'0000'0000'0005ull);
    EXPECT_EQ(read(sysreg_key(2, 0, 0, 3, 5)), 0x1eau);
    EXPECT_EQ(read(sysreg_key(2, 0, 0, 2, 6)), 0x2000u);
    EXPECT_EQ(read(sysreg_key(2, 0, 0, 3, 7)), 0x1ffau);
    EXPECT_EQ(s.bcr[3], 0x1eau);
    // Pairs the CPU does not have are undefined.
    u64 v;
    EXPECT_EQ(rd(sysreg_key(2, 0, 0, 6, 4), v), DebugRegResult::Undef);
    EXPECT_EQ(wr(sysreg_key(2, 0, 0, 4, 7), 1), DebugRegResult::Undef);
    EXPECT_EQ(wr(sysreg_key(2, 0, 0, 15, 5), 1), DebugRegResult::Undef);
}

TEST_F(GuestDebugRegsTest, OsLock)
{
    const u32 oslar = sysreg_key(2, 0, 1, 0, 4), oslsr = sysreg_key(2, 0, 1, 1, 4);
    s.oslk = true;
    EXPECT_EQ(read(oslsr), 0xau);
    EXPECT_EQ(wr(oslar, 0), DebugRegResult::Done);
    EXPECT_FALSE(s.oslk);
    EXPECT_EQ(read(oslsr), 0x8u);
    u64 v;
    EXPECT_EQ(rd(oslar, v), DebugRegResult::Undef);  // write-only
    EXPECT_EQ(wr(oslsr, 0), DebugRegResult::Undef);  // read-only
}

TEST_F(GuestDebugRegsTest, ClaimTags)
{
    const u32 set = sysreg_key(2, 0, 7, 8, 6), clr = sysreg_key(2, 0, 7, 9, 6);
    EXPECT_EQ(read(set), 0xffu);
    EXPECT_EQ(wr(set, 0x1f05), DebugRegResult::Done);
    EXPECT_EQ(read(clr), 0x05u);
    EXPECT_EQ(wr(clr, 0x04), DebugRegResult::Done);
    EXPECT_EQ(read(clr), 0x01u);
}

TEST_F(GuestDebugRegsTest, ExternalDebuggerRegistersLookIdle)
{
    EXPECT_EQ(read(sysreg_key(2, 3, 0, 1, 0)), 0u);  // MDCCSR_EL0
    EXPECT_EQ(read(sysreg_key(2, 3, 0, 5, 0)), 0u);  // DBGDTRRX_EL0
    EXPECT_EQ(wr(sysreg_key(2, 3, 0, 5, 0), 7), DebugRegResult::Done);
    EXPECT_EQ(read(sysreg_key(2, 0, 0, 0, 2)), 0u);  // OSDTRRX_EL1
    EXPECT_EQ(read(sysreg_key(2, 0, 1, 0, 0)), 0u);  // MDRAR_EL1
    u64 v;
    EXPECT_EQ(wr(sysreg_key(2, 0, 1, 0, 0), 0), DebugRegResult::Undef);
    EXPECT_EQ(read(sysreg_key(2, 0, 7, 14, 6)), 0x0fu); // DBGAUTHSTATUS_EL1
    EXPECT_EQ(rd(sysreg_key(2, 0, 3, 3, 3), v), DebugRegResult::Undef); // not a debug register
}

TEST_F(GuestDebugRegsTest, PowerAndInterruptControls)
{
    const u32 osdlr = sysreg_key(2, 0, 1, 3, 4), prcr = sysreg_key(2, 0, 1, 4, 4), ccint = sysreg_key(2, 0, 0, 2, 0);
    EXPECT_EQ(wr(osdlr, 1), DebugRegResult::Done);
    EXPECT_EQ(wr(prcr, 1), DebugRegResult::Done);
    EXPECT_EQ(wr(ccint, 0x6000'0000), DebugRegResult::Done);
    EXPECT_EQ(read(osdlr), 1u);
    EXPECT_EQ(read(prcr), 1u);
    EXPECT_EQ(read(ccint), 0x6000'0000u);
}

} // namespace
