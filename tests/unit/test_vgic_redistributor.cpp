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

class GicrTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        vg = std::make_unique<Vgic>();
        vg->init(4, 96, kMpidr, &kicks);
    }

    u64 access(u32 accessor, u64 offset, u8 width, bool write, u64 data)
    {
        MmioAccess a{.addr = 0x080a'0000 + offset, .width = width, .write = write, .reg = 0,
                     .sign_extend = false, .sf = true, .data = data};
        EXPECT_EQ(vg->redistributors().access(accessor, offset, a), MmioResult::Handled);
        return a.data;
    }
    // RD_base and SGI_base registers of vCPU `frame`, accessed by vCPU 0.
    u64 rd_rd(u32 frame, Gicr r, u8 width = 4) { return access(0, frame * kGicrStride + off(r), width, false, ~0ull); }
    void wr_rd(u32 frame, Gicr r, u64 v, u8 width = 4) { access(0, frame * kGicrStride + off(r), width, true, v); }
    u64 rd_sgi(u32 frame, u64 o, u8 width = 4, u32 accessor = 0)
    {
        return access(accessor, frame * kGicrStride + kGicrSgiFrame + o, width, false, ~0ull);
    }
    void wr_sgi(u32 frame, u64 o, u64 v, u8 width = 4, u32 accessor = 0)
    {
        access(accessor, frame * kGicrStride + kGicrSgiFrame + o, width, true, v);
    }

    // vCPU 3 has every affinity level set to tell the fields apart.
    static constexpr u64 kMpidr[4] = {0x8000'0000, 0x8000'0001, 0x8000'0100, 0x5'8003'0201};
    KickLog kicks;
    std::unique_ptr<Vgic> vg;
};

TEST_F(GicrTest, WindowCoversOneFramePairPerVcpu) { EXPECT_EQ(vg->redistributors_size(), 4 * 0x20000u); }

TEST_F(GicrTest, TyperPerFrame)
{
    const u64 expect_aff[4] = {0x0000'0000, 0x0000'0001, 0x0000'0100, 0x0503'0201};
    for (u32 v = 0; v < 4; v++) {
        const u64 t = rd_rd(v, Gicr::Typer, 8);
        EXPECT_EQ(t >> 32, expect_aff[v]) << v;
        EXPECT_EQ(bits(t, 23, 8), v);
        EXPECT_EQ(bits(t, 4, 4), v == 3 ? 1u : 0u); // Last
        EXPECT_EQ(bits(t, 0, 0), 0u);               // PLPIS
        EXPECT_EQ(bits(t, 1, 1), 0u);               // VLPIS
        EXPECT_EQ(bits(t, 3, 3), 0u);               // DirectLPI
        // 32-bit halves.
        EXPECT_EQ(access(2, v * kGicrStride + off(Gicr::Typer), 4, false, 0), t & 0xffff'ffff);
        EXPECT_EQ(access(2, v * kGicrStride + off(Gicr::Typer) + 4, 4, false, 0), t >> 32);
    }
    wr_rd(1, Gicr::Typer, 0, 8); // read-only
    EXPECT_EQ(bits(rd_rd(1, Gicr::Typer, 8), 23, 8), 1u);
}

TEST_F(GicrTest, IdentificationAndLpiRegisters)
{
    EXPECT_EQ(rd_rd(2, Gicr::Pidr2), 0x3bu);
    EXPECT_EQ(rd_rd(2, Gicr::Iidr), 0x0100'043bu);
    for (Gicr r : {Gicr::Ctlr, Gicr::Statusr}) {
        wr_rd(0, r, 0xffff'ffff);
        EXPECT_EQ(rd_rd(0, r), 0u);
    }
    for (Gicr r : {Gicr::Propbaser, Gicr::Pendbaser}) {
        wr_rd(0, r, ~0ull, 8);
        EXPECT_EQ(rd_rd(0, r, 8), 0u);
    }
}

TEST_F(GicrTest, WakerSleepAndChildrenAsleepTrackEachOther)
{
    EXPECT_EQ(rd_rd(1, Gicr::Waker), 0x6u);
    wr_rd(1, Gicr::Waker, 0);
    EXPECT_EQ(rd_rd(1, Gicr::Waker), 0u);
    EXPECT_EQ(rd_rd(2, Gicr::Waker), 0x6u); // per redistributor
    wr_rd(1, Gicr::Waker, 0x2);
    EXPECT_EQ(rd_rd(1, Gicr::Waker), 0x6u);
    wr_rd(1, Gicr::Waker, 0x4); // ChildrenAsleep is read-only
    EXPECT_EQ(rd_rd(1, Gicr::Waker), 0u);
}

TEST_F(GicrTest, FrameNotAccessorSelectsTheVcpu)
{
    wr_sgi(2, off(GicrSgi::Isenabler0), 0x0000'ff00, 4, /*accessor=*/0);
    EXPECT_EQ(rd_sgi(2, off(GicrSgi::Isenabler0), 4, /*accessor=*/3), 0xff00u);
    EXPECT_EQ(rd_sgi(0, off(GicrSgi::Isenabler0)), 0u);
    vg->set_private_pending(2, 20);
    EXPECT_EQ(rd_sgi(2, off(GicrSgi::Ispendr0), 4, 1), 1u << 20);
    EXPECT_EQ(rd_sgi(0, off(GicrSgi::Ispendr0)), 0u);
}

TEST_F(GicrTest, SgiFrameEnableAndPending)
{
    wr_sgi(1, off(GicrSgi::Isenabler0), 0x8000'0003);
    wr_sgi(1, off(GicrSgi::Icenabler0), 0x0000'0001);
    EXPECT_EQ(rd_sgi(1, off(GicrSgi::Isenabler0)), 0x8000'0002u);
    EXPECT_EQ(rd_sgi(1, off(GicrSgi::Icenabler0)), 0x8000'0002u);
    wr_sgi(1, off(GicrSgi::Ispendr0), 0x0001'0010);
    EXPECT_EQ(rd_sgi(1, off(GicrSgi::Icpendr0)), 0x0001'0010u);
    wr_sgi(1, off(GicrSgi::Icpendr0), 0x0000'0010);
    EXPECT_EQ(rd_sgi(1, off(GicrSgi::Ispendr0)), 0x0001'0000u);
    wr_sgi(1, off(GicrSgi::Isactiver0), 0x0000'0300);
    wr_sgi(1, off(GicrSgi::Icactiver0), 0x0000'0100);
    EXPECT_EQ(rd_sgi(1, off(GicrSgi::Isactiver0)), 0x0000'0200u);
    wr_sgi(1, off(GicrSgi::Igroupr0), 0xffff'ffff);
    EXPECT_EQ(rd_sgi(1, off(GicrSgi::Igroupr0)), 0xffff'ffffu);
}

TEST_F(GicrTest, ConfigSgisFixedEdgePpisWritable)
{
    EXPECT_EQ(rd_sgi(0, off(GicrSgi::Icfgr0)), 0xaaaa'aaaau);
    wr_sgi(0, off(GicrSgi::Icfgr0), 0);
    EXPECT_EQ(rd_sgi(0, off(GicrSgi::Icfgr0)), 0xaaaa'aaaau);
    EXPECT_EQ(rd_sgi(0, off(GicrSgi::Icfgr1)), 0u); // PPIs reset level
    wr_sgi(0, off(GicrSgi::Icfgr1), 0x0080'0002);
    EXPECT_EQ(rd_sgi(0, off(GicrSgi::Icfgr1)), 0x0080'0002u);
    EXPECT_EQ(rd_sgi(1, off(GicrSgi::Icfgr1)), 0u);
}

TEST_F(GicrTest, PriorityByteAndWord)
{
    wr_sgi(3, off(GicrSgi::Ipriorityr) + 24, 0xa0a0'a0a0);
    wr_sgi(3, off(GicrSgi::Ipriorityr) + 27, 0x20, 1);
    EXPECT_EQ(rd_sgi(3, off(GicrSgi::Ipriorityr) + 24), 0x20a0'a0a0u);
    EXPECT_EQ(rd_sgi(3, off(GicrSgi::Ipriorityr) + 25, 1), 0xa0u);
    wr_sgi(3, off(GicrSgi::Ipriorityr) + 32, 0xffff'ffff); // past IPRIORITYR7
    EXPECT_EQ(rd_sgi(3, off(GicrSgi::Ipriorityr) + 32), 0u);
}

TEST_F(GicrTest, RazWiAndWrongWidths)
{
    for (u64 o : {off(GicrSgi::Igrpmodr0), off(GicrSgi::Nsacr), off(GicrSgi::Isenabler0) + 4, u64{0}, u64{0xfffc}}) {
        wr_sgi(0, o, 0xffff'ffff);
        EXPECT_EQ(rd_sgi(0, o), 0u) << std::hex << o;
    }
    wr_sgi(0, off(GicrSgi::Isenabler0), 0xff, 1);
    wr_sgi(0, off(GicrSgi::Isenabler0), 0xffff'ffff, 8);
    EXPECT_EQ(rd_sgi(0, off(GicrSgi::Isenabler0)), 0u);
    EXPECT_EQ(rd_sgi(0, off(GicrSgi::Isenabler0), 2), 0u);
    EXPECT_EQ(rd_rd(0, Gicr::Waker, 8), 0u);
    EXPECT_EQ(access(0, off(Gicr::Typer) + 2, 4, false, 0), 0u); // misaligned
    // Beyond the last frame.
    EXPECT_EQ(access(0, 4 * kGicrStride + off(Gicr::Typer), 8, false, 0), 0u);
    EXPECT_EQ(access(0, 4 * kGicrStride + kGicrSgiFrame, 4, false, 0), 0u);
}

TEST_F(GicrTest, EnablingAPendingPrivateInterruptKicksItsVcpu)
{
    MmioAccess a{.addr = 0, .width = 4, .write = true, .reg = 0, .sign_extend = false, .sf = false,
                 .data = kCtlrEnableGrp1};
    vg->distributor().access(0, off(Gicd::Ctlr), a);
    wr_sgi(2, off(GicrSgi::Igroupr0), 0xffff'ffff);
    kicks.mask = 0;
    vg->set_private_pending(2, 5);
    EXPECT_EQ(kicks.mask, 0u); // not enabled yet
    wr_sgi(2, off(GicrSgi::Isenabler0), 1u << 5, 4, /*accessor=*/1);
    EXPECT_EQ(kicks.mask, 1u << 2);
}

} // namespace
