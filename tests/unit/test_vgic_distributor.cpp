#include <gtest/gtest.h>

#include <memory>

#include "vgic/regs.h"
#include "vgic/vgic.h"

using namespace vgic;

namespace {

struct KickLog final : Notifier {
    u32 mask = 0;
    void kick(u32 v) override { mask |= 1u << v; }
};

class GicdTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        vg = std::make_unique<Vgic>();
        vg->init(4, 96, kMpidr, &kicks);
    }

    u64 access(u64 offset, u8 width, bool write, u64 data)
    {
        MmioAccess a{.addr = 0x0800'0000 + offset, .width = width, .write = write, .reg = 0,
                     .sign_extend = false, .sf = true, .data = data};
        EXPECT_EQ(vg->distributor().access(0, offset, a), MmioResult::Handled);
        return a.data;
    }
    u64 rd(u64 offset, u8 width = 4) { return access(offset, width, false, 0xdead'beef'dead'beefull); }
    void wr(u64 offset, u64 value, u8 width = 4) { access(offset, width, true, value); }

    static constexpr u64 kMpidr[4] = {0x8000'0000, 0x8000'0001, 0x8000'0002, 0x8000'0003};
    KickLog kicks;
    std::unique_ptr<Vgic> vg;
};

TEST_F(GicdTest, CtlrResetsToAreAndDsAndOnlyGroupEnablesAreWritable)
{
    EXPECT_EQ(rd(off(Gicd::Ctlr)), 0x50u);
    wr(off(Gicd::Ctlr), 0xffff'ffff);
    EXPECT_EQ(rd(off(Gicd::Ctlr)), 0x53u); // RWP reads 0, ARE/DS stay one
    wr(off(Gicd::Ctlr), 0);
    EXPECT_EQ(rd(off(Gicd::Ctlr)), 0x50u);
}

TEST_F(GicdTest, TyperDescribesSpisAndIdBits)
{
    const u64 t = rd(off(Gicd::Typer));
    EXPECT_EQ(bits(t, 4, 0), 3u);   // (32 + 96) / 32 - 1
    EXPECT_EQ(bits(t, 23, 19), 9u); // 10 INTID bits
    EXPECT_EQ(bits(t, 17, 17), 0u); // LPIS
    EXPECT_EQ(bits(t, 16, 16), 0u); // MBIS
    EXPECT_EQ(bits(t, 25, 25), 1u); // No1N
    EXPECT_EQ(bits(t, 10, 10), 0u); // SecurityExtn: DS=1

    Vgic small;
    small.init(1, 32, kMpidr, nullptr);
    MmioAccess a{.addr = 0, .width = 4, .write = false, .reg = 0, .sign_extend = false, .sf = false, .data = 0};
    small.distributor().access(0, off(Gicd::Typer), a);
    EXPECT_EQ(bits(a.data, 4, 0), 1u);
}

TEST_F(GicdTest, IdentificationRegisters)
{
    EXPECT_EQ(rd(off(Gicd::Iidr)), 0x0100'043bu);
    EXPECT_EQ(rd(off(Gicd::Pidr2)), 0x3bu);
    EXPECT_EQ(bits(rd(off(Gicd::Pidr2)), 7, 4), 3u);
    EXPECT_EQ(rd(off(Gicd::Typer2)), 0u);
    EXPECT_EQ(rd(off(Gicd::Statusr)), 0u);
}

TEST_F(GicdTest, EnableSetAndClear)
{
    wr(off(Gicd::Isenabler) + 4, 0x0000'0006); // INTIDs 33, 34
    EXPECT_EQ(rd(off(Gicd::Isenabler) + 4), 0x6u);
    EXPECT_EQ(rd(off(Gicd::Icenabler) + 4), 0x6u);
    wr(off(Gicd::Isenabler) + 4, 0x0000'0001); // writing zeros changes nothing
    EXPECT_EQ(rd(off(Gicd::Isenabler) + 4), 0x7u);
    wr(off(Gicd::Icenabler) + 4, 0x0000'0002);
    EXPECT_EQ(rd(off(Gicd::Isenabler) + 4), 0x5u);
}

TEST_F(GicdTest, PendingSetClearAndLevelLine)
{
    wr(off(Gicd::Ispendr) + 8, 0x8000'0001); // INTIDs 64 and 95
    EXPECT_EQ(rd(off(Gicd::Ispendr) + 8), 0x8000'0001u);
    EXPECT_EQ(rd(off(Gicd::Icpendr) + 8), 0x8000'0001u);
    wr(off(Gicd::Icpendr) + 8, 0x0000'0001);
    EXPECT_EQ(rd(off(Gicd::Ispendr) + 8), 0x8000'0000u);

    vg->set_spi_level(40, true);
    EXPECT_EQ(rd(off(Gicd::Ispendr) + 4), 1u << 8);
    wr(off(Gicd::Icpendr) + 4, 1u << 8); // a level line that is still high keeps it pending
    EXPECT_EQ(rd(off(Gicd::Ispendr) + 4), 1u << 8);
    vg->set_spi_level(40, false);
    EXPECT_EQ(rd(off(Gicd::Ispendr) + 4), 0u);

    vg->pulse_spi(41);
    EXPECT_EQ(rd(off(Gicd::Ispendr) + 4), 1u << 9);
}

TEST_F(GicdTest, ActiveSetAndClear)
{
    wr(off(Gicd::Isactiver) + 4, 0xf0);
    EXPECT_EQ(rd(off(Gicd::Isactiver) + 4), 0xf0u);
    wr(off(Gicd::Icactiver) + 4, 0x30);
    EXPECT_EQ(rd(off(Gicd::Icactiver) + 4), 0xc0u);
}

TEST_F(GicdTest, GroupIsReadWrite)
{
    wr(off(Gicd::Igroupr) + 4, 0xffff'ffff);
    wr(off(Gicd::Igroupr) + 12, 0x1234'5678);
    EXPECT_EQ(rd(off(Gicd::Igroupr) + 4), 0xffff'ffffu);
    EXPECT_EQ(rd(off(Gicd::Igroupr) + 12), 0x1234'5678u);
    wr(off(Gicd::Igroupr) + 4, 0);
    EXPECT_EQ(rd(off(Gicd::Igroupr) + 4), 0u);
}

TEST_F(GicdTest, PriorityByteAndWordAccess)
{
    wr(off(Gicd::Ipriorityr) + 32, 0x1020'3040); // INTIDs 32..35
    EXPECT_EQ(rd(off(Gicd::Ipriorityr) + 32), 0x1020'3040u);
    EXPECT_EQ(rd(off(Gicd::Ipriorityr) + 33, 1), 0x30u);
    wr(off(Gicd::Ipriorityr) + 34, 0xa8, 1);
    EXPECT_EQ(rd(off(Gicd::Ipriorityr) + 32), 0x10a8'3040u);
    // Only the 5 priority bits the virtual CPU interface implements stick.
    wr(off(Gicd::Ipriorityr) + 127, 0xff, 1);
    EXPECT_EQ(rd(off(Gicd::Ipriorityr) + 127, 1), 0xf8u);
    // Halfword is not a valid width.
    wr(off(Gicd::Ipriorityr) + 32, 0xffff, 2);
    EXPECT_EQ(rd(off(Gicd::Ipriorityr) + 32, 2), 0u);
    EXPECT_EQ(rd(off(Gicd::Ipriorityr) + 32), 0x10a8'3040u);
}

TEST_F(GicdTest, ConfigEdgeBitsOnly)
{
    EXPECT_EQ(rd(off(Gicd::Icfgr) + 8), 0u); // SPIs reset level
    wr(off(Gicd::Icfgr) + 8, 0xaaaa'aaaa);
    EXPECT_EQ(rd(off(Gicd::Icfgr) + 8), 0xaaaa'aaaau);
    wr(off(Gicd::Icfgr) + 8, 0x5555'5558); // odd bits are reserved
    EXPECT_EQ(rd(off(Gicd::Icfgr) + 8), 0x8u);
}

TEST_F(GicdTest, IrouterSixtyFourBitAndHalves)
{
    const u64 r40 = off(Gicd::Irouter) + 8 * 40;
    EXPECT_EQ(rd(r40, 8), 0u);
    wr(r40, 0xffff'ffff'ffff'ffffull, 8);
    EXPECT_EQ(rd(r40, 8), 0x0000'00ff'80ff'ffffull); // writable: Aff3, IRM, Aff2..Aff0
    wr(r40, 0x0000'0102, 4);
    EXPECT_EQ(rd(r40, 8), 0x0000'00ff'0000'0102ull);
    wr(r40 + 4, 0x0000'0007, 4);
    EXPECT_EQ(rd(r40, 8), 0x0000'0007'0000'0102ull);
    EXPECT_EQ(rd(r40, 4), 0x0000'0102u);
    EXPECT_EQ(rd(r40 + 4, 4), 0x7u);
    // Wrong widths.
    wr(r40, 0xff, 1);
    EXPECT_EQ(rd(r40, 2), 0u);
    EXPECT_EQ(rd(r40, 8), 0x0000'0007'0000'0102ull);
}

TEST_F(GicdTest, SgiAndPpiWordsAreRazWi)
{
    wr(off(Gicd::Isenabler), 0xffff'ffff);
    wr(off(Gicd::Ispendr), 0xffff'ffff);
    wr(off(Gicd::Igroupr), 0xffff'ffff);
    wr(off(Gicd::Isactiver), 0xffff'ffff);
    wr(off(Gicd::Ipriorityr), 0xffff'ffff);
    wr(off(Gicd::Ipriorityr) + 27, 0x80, 1);
    wr(off(Gicd::Icfgr) + 4, 0xffff'ffff);
    wr(off(Gicd::Irouter) + 8 * 27, 0x1, 8);
    EXPECT_EQ(rd(off(Gicd::Isenabler)), 0u);
    EXPECT_EQ(rd(off(Gicd::Ispendr)), 0u);
    EXPECT_EQ(rd(off(Gicd::Igroupr)), 0u);
    EXPECT_EQ(rd(off(Gicd::Isactiver)), 0u);
    EXPECT_EQ(rd(off(Gicd::Ipriorityr)), 0u);
    EXPECT_EQ(rd(off(Gicd::Ipriorityr) + 27, 1), 0u);
    EXPECT_EQ(rd(off(Gicd::Icfgr)), 0u);
    EXPECT_EQ(rd(off(Gicd::Icfgr) + 4), 0u);
    EXPECT_EQ(rd(off(Gicd::Irouter) + 8 * 27, 8), 0u);

    // The private state in the redistributors is untouched.
    MmioAccess a{.addr = 0, .width = 4, .write = false, .reg = 0, .sign_extend = false, .sf = false, .data = 0};
    vg->redistributors().access(0, kGicrSgiFrame + off(GicrSgi::Isenabler0), a);
    EXPECT_EQ(a.data, 0u);
}

TEST_F(GicdTest, ReservedAndOutOfRangeOffsetsAreRazWi)
{
    for (u64 o : {0x20ull, 0x40ull, 0x5000ull, 0xfffcull, 0xffe0ull, 0xc000ull, 0x8000ull}) {
        wr(o, 0xffff'ffff);
        EXPECT_EQ(rd(o), 0u) << std::hex << o;
    }
    // Beyond the 96 implemented SPIs (INTID 128 and up).
    wr(off(Gicd::Isenabler) + 16, 0xffff'ffff);
    EXPECT_EQ(rd(off(Gicd::Isenabler) + 16), 0u);
    wr(off(Gicd::Ipriorityr) + 200, 0xffff'ffff);
    EXPECT_EQ(rd(off(Gicd::Ipriorityr) + 200), 0u);
    wr(off(Gicd::Ipriorityr) + 1019, 0xff, 1);
    EXPECT_EQ(rd(off(Gicd::Ipriorityr) + 1019, 1), 0u);
    wr(off(Gicd::Icfgr) + 4 * 8, 0xffff'ffff);
    EXPECT_EQ(rd(off(Gicd::Icfgr) + 4 * 8), 0u);
    wr(off(Gicd::Irouter) + 8 * 200, 0x1, 8);
    EXPECT_EQ(rd(off(Gicd::Irouter) + 8 * 200, 8), 0u);
    EXPECT_EQ(rd(off(Gicd::Irouter) + 8 * 1023, 8), 0u);
    // Past the frame entirely.
    EXPECT_EQ(rd(0x10000), 0u);
}

TEST_F(GicdTest, LegacyAndSecureOnlyRegistersAreRazWi)
{
    for (u64 o : {off(Gicd::Itargetsr) + 32, off(Gicd::Igrpmodr) + 4, off(Gicd::Nsacr) + 8, off(Gicd::Sgir)}) {
        wr(o, 0xffff'ffff);
        EXPECT_EQ(rd(o), 0u) << std::hex << o;
    }
    wr(off(Gicd::Itargetsr) + 40, 0xff, 1);
    EXPECT_EQ(rd(off(Gicd::Itargetsr) + 40, 1), 0u);
    EXPECT_EQ(kicks.mask, 0u); // GICD_SGIR does not send SGIs with ARE=1
}

TEST_F(GicdTest, WrongWidthOrAlignmentReadsZeroAndIgnoresWrites)
{
    EXPECT_EQ(rd(off(Gicd::Ctlr), 2), 0u);
    EXPECT_EQ(rd(off(Gicd::Ctlr), 8), 0u);
    EXPECT_EQ(rd(off(Gicd::Ctlr), 1), 0u);
    wr(off(Gicd::Isenabler) + 4, 0xff, 1);
    wr(off(Gicd::Isenabler) + 4, 0xffff, 2);
    wr(off(Gicd::Isenabler) + 4, 0xffff'ffffull, 8);
    EXPECT_EQ(rd(off(Gicd::Isenabler) + 4), 0u);
    EXPECT_EQ(rd(off(Gicd::Typer) + 2, 4), 0u); // misaligned
    wr(off(Gicd::Isenabler) + 6, 0xffff'ffff);
    EXPECT_EQ(rd(off(Gicd::Isenabler) + 4), 0u);
}

TEST_F(GicdTest, MakingAnSpiDeliverableKicksItsTarget)
{
    wr(off(Gicd::Irouter) + 8 * 45, 0x2, 8); // vCPU 2
    wr(off(Gicd::Igroupr) + 4, 0xffff'ffff);
    vg->pulse_spi(45);
    EXPECT_EQ(kicks.mask, 0u); // disabled
    wr(off(Gicd::Isenabler) + 4, 1u << 13);
    EXPECT_EQ(kicks.mask, 0u); // group 1 still off in GICD_CTLR
    wr(off(Gicd::Ctlr), kCtlrEnableGrp1);
    EXPECT_EQ(kicks.mask, 0xfu); // enabling a group kicks everyone
    kicks.mask = 0;
    wr(off(Gicd::Irouter) + 8 * 45, 0x3, 8);
    EXPECT_EQ(kicks.mask, 1u << 3); // re-routing kicks the new target
    kicks.mask = 0;
    wr(off(Gicd::Irouter) + 8 * 45, 0x9, 8); // no such vCPU: nobody
    EXPECT_EQ(kicks.mask, 0u);
    wr(off(Gicd::Irouter) + 8 * 45, kIrouterIrm, 8); // 1-of-N goes to vCPU 0
    EXPECT_EQ(kicks.mask, 1u);
}

} // namespace
