#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <vector>

#include "vgic/regs.h"
#include "vgic/vgic.h"

using namespace vgic;

namespace {

struct KickLog final : Notifier {
    u32 mask = 0;
    void kick(u32 v) override { mask |= 1u << v; }
};

constexpr u64 kFlat[4] = {0x8000'0000, 0x8000'0001, 0x8000'0002, 0x8000'0003};

u32 vintid(u64 lr) { return static_cast<u32>(lr & 0xffff'ffff); }
u8 state(u64 lr) { return static_cast<u8>(lr >> 62); }
u8 prio(u64 lr) { return static_cast<u8>(lr >> 48); }

// The state a Linux guest leaves behind: group 1 everywhere, everything
// enabled at the default priority 0xa0, SPIs routed to vCPU 0.
class LrTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        vg = std::make_unique<Vgic>();
        vg->init(4, 96, kFlat, &kicks);
        gicd(off(Gicd::Ctlr), kCtlrEnableGrp1);
        for (u32 w = 1; w < 4; w++) {
            gicd(off(Gicd::Igroupr) + 4 * w, 0xffff'ffff);
            gicd(off(Gicd::Isenabler) + 4 * w, 0xffff'ffff);
        }
        for (u32 i = 32; i < 128; i += 4)
            gicd(off(Gicd::Ipriorityr) + i, 0xa0a0'a0a0);
        for (u32 v = 0; v < 4; v++) {
            gicr_sgi(v, off(GicrSgi::Igroupr0), 0xffff'ffff);
            gicr_sgi(v, off(GicrSgi::Isenabler0), 0xffff'ffff);
            for (u32 i = 0; i < 32; i += 4)
                gicr_sgi(v, off(GicrSgi::Ipriorityr) + i, 0xa0a0'a0a0);
            lrf[v] = LrFile{.lr = {}, .num = 4, .hcr = 0};
        }
        kicks.mask = 0;
    }

    u64 mmio(MmioDevice& d, u64 o, u64 v, u8 width, bool write)
    {
        MmioAccess a{.addr = o, .width = width, .write = write, .reg = 0, .sign_extend = false, .sf = true, .data = v};
        d.access(0, o, a);
        return a.data;
    }
    void gicd(u64 o, u64 v, u8 width = 4) { mmio(vg->distributor(), o, v, width, true); }
    u64 gicd_read(u64 o, u8 width = 4) { return mmio(vg->distributor(), o, 0, width, false); }
    void gicr_sgi(u32 v, u64 o, u64 val, u8 width = 4)
    {
        mmio(vg->redistributors(), v * kGicrStride + kGicrSgiFrame + o, val, width, true);
    }
    u64 gicr_sgi_read(u32 v, u64 o) { return mmio(vg->redistributors(), v * kGicrStride + kGicrSgiFrame + o, 0, 4, false); }

    void set_prio(u32 v, u32 intid, u8 p)
    {
        if (intid < 32)
            gicr_sgi(v, off(GicrSgi::Ipriorityr) + intid, p, 1);
        else
            gicd(off(Gicd::Ipriorityr) + intid, p, 1);
    }
    void sgi(u32 target, u32 intid) { vg->send_sgi(target == 0 ? 1 : 0, u64{intid} << 24 | (1u << target)); }

    // LR contents as (vINTID -> state), checking no INTID is listed twice.
    std::map<u32, u8> lrs(u32 v)
    {
        std::map<u32, u8> m;
        for (unsigned k = 0; k < lrf[v].num; k++) {
            if (state(lrf[v].lr[k]) == 0)
                continue;
            EXPECT_EQ(m.count(vintid(lrf[v].lr[k])), 0u) << "INTID twice in LRs";
            m[vintid(lrf[v].lr[k])] = state(lrf[v].lr[k]);
        }
        return m;
    }
    int lr_index(u32 v, u32 intid)
    {
        for (unsigned k = 0; k < lrf[v].num; k++)
            if (state(lrf[v].lr[k]) != 0 && vintid(lrf[v].lr[k]) == intid)
                return static_cast<int>(k);
        return -1;
    }
    // Guest side: acknowledge (P -> A) and deactivate (A -> inactive).
    void ack(u32 v, u32 intid)
    {
        const int k = lr_index(v, intid);
        ASSERT_GE(k, 0);
        ASSERT_EQ(state(lrf[v].lr[k]), kStatePending);
        lrf[v].lr[k] = (lrf[v].lr[k] & ~(u64{3} << 62)) | u64{kStateActive} << 62;
    }
    void deactivate(u32 v, u32 intid)
    {
        const int k = lr_index(v, intid);
        ASSERT_GE(k, 0);
        ASSERT_TRUE(state(lrf[v].lr[k]) & kStateActive);
        lrf[v].lr[k] &= ~(u64{kStateActive} << 62);
    }
    void handle(u32 v, u32 intid)
    {
        ack(v, intid);
        deactivate(v, intid);
    }
    // Runs the guest: takes every pending LR (as a real CPU would, one at a
    // time) and completes it, then exits and re-enters. Returns what it took.
    std::vector<u32> run(u32 v)
    {
        std::vector<u32> took;
        for (auto [intid, st] : lrs(v))
            if (st == kStatePending) {
                handle(v, intid);
                took.push_back(intid);
            }
        exit_and_enter(v);
        return took;
    }
    void exit_and_enter(u32 v)
    {
        vg->fold(v, lrf[v]);
        vg->flush(v, lrf[v]);
    }
    bool uie(u32 v) const { return lrf[v].hcr & kHcrUie; }

    KickLog kicks;
    std::unique_ptr<Vgic> vg;
    LrFile lrf[4];
};

TEST_F(LrTest, InjectionEncodesPriorityGroupStateAndIntid)
{
    set_prio(0, 40, 0x80);
    vg->pulse_spi(40);
    EXPECT_EQ(kicks.mask, 1u);
    vg->flush(0, lrf[0]);
    EXPECT_EQ(lrf[0].lr[0], u64{1} << 62 | u64{1} << 60 | u64{0x80} << 48 | 40);
    EXPECT_EQ(lrf[0].lr[1], 0u);
    EXPECT_EQ(lrf[0].hcr, kHcrEn);

    // Group 0.
    gicd(off(Gicd::Ctlr), kCtlrEnableGrp0 | kCtlrEnableGrp1);
    gicd(off(Gicd::Igroupr) + 4, 0xffff'ffff & ~(1u << 9)); // INTID 41
    vg->pulse_spi(41);
    vg->flush(0, lrf[0]);
    EXPECT_EQ(lrf[0].lr[1], u64{1} << 62 | u64{0xa0} << 48 | 41);
}

TEST_F(LrTest, MoreSgisThanLrsSetsUnderflowAndDeliversTheRestLater)
{
    for (u32 i = 0; i < 6; i++)
        sgi(1, i);
    vg->flush(1, lrf[1]);
    EXPECT_EQ(lrs(1), (std::map<u32, u8>{{0, 1}, {1, 1}, {2, 1}, {3, 1}}));
    EXPECT_TRUE(uie(1));
    EXPECT_TRUE(lrf[1].hcr & kHcrEn);

    // The guest completes two; the underflow exit brings the rest in.
    handle(1, 0);
    handle(1, 1);
    exit_and_enter(1);
    EXPECT_EQ(lrs(1), (std::map<u32, u8>{{2, 1}, {3, 1}, {4, 1}, {5, 1}}));
    EXPECT_FALSE(uie(1));

    std::vector<u32> took = run(1);
    EXPECT_EQ(took, (std::vector<u32>{2, 3, 4, 5}));
    EXPECT_TRUE(lrs(1).empty());
    EXPECT_TRUE(run(1).empty());
    EXPECT_FALSE(vg->has_pending(1, lrf[1]));
}

TEST_F(LrTest, HighestPriorityPlacedFirstTiesToLowerIntid)
{
    const u8 p[6] = {0xa0, 0x80, 0x40, 0x40, 0xc0, 0x20};
    for (u32 i = 0; i < 6; i++) {
        set_prio(0, i, p[i]);
        sgi(0, i);
    }
    vg->flush(0, lrf[0]);
    EXPECT_EQ(lrs(0), (std::map<u32, u8>{{1, 1}, {2, 1}, {3, 1}, {5, 1}}));
    EXPECT_EQ(prio(lrf[0].lr[lr_index(0, 5)]), 0x20);
    EXPECT_TRUE(uie(0));
}

TEST_F(LrTest, HigherPriorityEvictsLowerPendingOnly)
{
    for (u32 i = 0; i < 4; i++)
        sgi(2, i);
    vg->flush(2, lrf[2]);
    ASSERT_EQ(lrs(2).size(), 4u);

    set_prio(2, 8, 0xa0); // same priority: waits
    sgi(2, 8);
    exit_and_enter(2);
    EXPECT_EQ(lrs(2).count(8), 0u);
    EXPECT_TRUE(uie(2));

    set_prio(2, 9, 0x20); // higher: evicts SGI 3 (worst, highest INTID)
    sgi(2, 9);
    exit_and_enter(2);
    EXPECT_EQ(lrs(2), (std::map<u32, u8>{{0, 1}, {1, 1}, {2, 1}, {9, 1}}));
    EXPECT_EQ(gicr_sgi_read(2, off(GicrSgi::Ispendr0)) & 0x30f, 0x30fu); // 3 and 8 still pending

    std::vector<u32> took;
    for (int round = 0; round < 4 && (took.size() < 6); round++)
        for (u32 i : run(2))
            took.push_back(i);
    std::sort(took.begin(), took.end());
    EXPECT_EQ(took, (std::vector<u32>{0, 1, 2, 3, 8, 9}));
}

TEST_F(LrTest, ActiveLrsAreNeverEvicted)
{
    for (u32 i = 0; i < 4; i++)
        sgi(0, i);
    vg->flush(0, lrf[0]);
    for (u32 i = 0; i < 4; i++)
        ack(0, i);
    vg->fold(0, lrf[0]);
    set_prio(0, 9, 0x00);
    sgi(0, 9);
    vg->flush(0, lrf[0]);
    EXPECT_EQ(lrs(0), (std::map<u32, u8>{{0, 2}, {1, 2}, {2, 2}, {3, 2}}));
    EXPECT_TRUE(uie(0));
    deactivate(0, 2);
    exit_and_enter(0);
    EXPECT_EQ(lrs(0).at(9), kStatePending);
    EXPECT_FALSE(uie(0));
}

TEST_F(LrTest, EdgeWhileActiveBecomesPendingAndActiveInTheSameLr)
{
    sgi(3, 3);
    vg->flush(3, lrf[3]);
    const int k = lr_index(3, 3);
    ack(3, 3);
    vg->fold(3, lrf[3]);
    sgi(3, 3);
    EXPECT_EQ(kicks.mask & 8u, 8u);
    vg->flush(3, lrf[3]);
    EXPECT_EQ(lrs(3), (std::map<u32, u8>{{3, 3}}));
    EXPECT_EQ(lr_index(3, 3), k);
    deactivate(3, 3); // P+A -> P
    exit_and_enter(3);
    EXPECT_EQ(lrs(3), (std::map<u32, u8>{{3, 1}}));
    EXPECT_EQ(run(3), (std::vector<u32>{3}));
    EXPECT_TRUE(lrs(3).empty());
}

TEST_F(LrTest, EdgeWhilePendingCoalesces)
{
    sgi(1, 4);
    vg->flush(1, lrf[1]);
    sgi(1, 4);
    exit_and_enter(1);
    EXPECT_EQ(lrs(1), (std::map<u32, u8>{{4, 1}}));
    EXPECT_EQ(run(1), (std::vector<u32>{4}));
    EXPECT_TRUE(run(1).empty());
}

TEST_F(LrTest, LevelSpiRependsWhileLineHighAndNotAfterItDrops)
{
    vg->set_spi_level(50, true);
    vg->flush(0, lrf[0]);
    const u64 lr = lrf[0].lr[lr_index(0, 50)];
    EXPECT_EQ(state(lr), kStatePending);
    EXPECT_TRUE(lr & kLrEoi); // deactivation exits so the line is re-sampled
    EXPECT_FALSE(lr & kLrHw);
    kicks.mask = 0;
    vg->set_spi_level(50, true); // unchanged level: no new kick
    EXPECT_EQ(kicks.mask, 0u);

    EXPECT_EQ(run(0), (std::vector<u32>{50})); // handler did not clear the device
    EXPECT_EQ(lrs(0), (std::map<u32, u8>{{50, 1}}));

    ack(0, 50);
    vg->set_spi_level(50, false); // handler clears the device, then EOIs
    deactivate(0, 50);
    exit_and_enter(0);
    EXPECT_TRUE(lrs(0).empty());
    EXPECT_EQ(lrf[0].lr[0], 0u); // EOI bit gone with the LR
    EXPECT_EQ(gicd_read(off(Gicd::Ispendr) + 4) & (1u << 18), 0u);
}

TEST_F(LrTest, LevelSpiWithdrawnWhenLineDropsBeforeTheGuestTakesIt)
{
    vg->set_spi_level(51, true);
    vg->flush(0, lrf[0]);
    ASSERT_EQ(lrs(0).size(), 1u);
    vg->set_spi_level(51, false);
    exit_and_enter(0);
    EXPECT_TRUE(lrs(0).empty());
}

// The timers' PPIs are level-sensitive and hardware-mapped: the line is the
// timer output the arch samples, the physical interrupt stays active until
// the guest deactivates the virtual one (issue 11 item 2).
TEST_F(LrTest, HardwareTimerPpiFollowsItsLine)
{
    EXPECT_FALSE(vg->set_private_line(1, 27, true, true));
    vg->flush(1, lrf[1]);
    const u64 lr = lrf[1].lr[lr_index(1, 27)];
    EXPECT_TRUE(lr & kLrHw);
    EXPECT_EQ(bits(lr, 41, 32), 27u); // pINTID
    EXPECT_EQ(vintid(lr), 27u);
    EXPECT_EQ(state(lr), kStatePending);

    // Never pending+active with HW=1: while the guest handles it, the line
    // (still high) waits for the deactivation.
    ack(1, 27);
    vg->fold(1, lrf[1]);
    EXPECT_TRUE(vg->set_private_line(1, 27, true, true)) << "active in the guest";
    vg->flush(1, lrf[1]);
    EXPECT_EQ(lrs(1), (std::map<u32, u8>{{27, 2}}));
    EXPECT_FALSE(uie(1));
    // The deactivation deactivated the physical PPI too: the line is low
    // until the source fires again.
    deactivate(1, 27);
    exit_and_enter(1);
    EXPECT_TRUE(lrs(1).empty());
    EXPECT_FALSE(vg->private_line(1, 27));
    EXPECT_EQ(gicr_sgi_read(1, off(GicrSgi::Ispendr0)) & (1u << 27), 0u);

    // Still asserted: it fires again at EL2 and the line rises again.
    vg->set_private_line(1, 27, true, true);
    vg->flush(1, lrf[1]);
    EXPECT_EQ(lrs(1), (std::map<u32, u8>{{27, 1}}));
    // The guest masks the timer before taking it: the line drops and the
    // pending LR is withdrawn, nothing is delivered later.
    EXPECT_FALSE(vg->set_private_line(1, 27, false, true));
    exit_and_enter(1);
    EXPECT_TRUE(lrs(1).empty());
    EXPECT_EQ(gicr_sgi_read(1, off(GicrSgi::Ispendr0)) & (1u << 27), 0u);
}

TEST_F(LrTest, DisabledLevelPpiShowsPendingWhileItsLineIsHigh)
{
    gicr_sgi(1, off(GicrSgi::Icenabler0), 1u << 30);
    vg->set_private_line(1, 30, true, true);
    EXPECT_NE(gicr_sgi_read(1, off(GicrSgi::Ispendr0)) & (1u << 30), 0u) << "pending, though disabled";
    vg->flush(1, lrf[1]);
    EXPECT_TRUE(lrs(1).empty()) << "disabled: not delivered";
    vg->set_private_line(1, 30, false, true);
    EXPECT_EQ(gicr_sgi_read(1, off(GicrSgi::Ispendr0)) & (1u << 30), 0u) << "gone with the condition";
    gicr_sgi(1, off(GicrSgi::Isenabler0), 1u << 30);
    vg->flush(1, lrf[1]);
    EXPECT_TRUE(lrs(1).empty()) << "enabling it later delivers nothing";
}

TEST_F(LrTest, HardwareTimerPpiResetByCpuOn)
{
    vg->set_private_line(1, 27, true, true);
    vg->flush(1, lrf[1]);
    // CPU_ON reset: the caller must deactivate the physical PPI 27.
    EXPECT_EQ(vg->reset_vcpu(1, lrf[1]), 1u << 27);
    for (unsigned k = 0; k < 4; k++)
        EXPECT_EQ(lrf[1].lr[k], 0u);
    EXPECT_EQ(gicr_sgi_read(1, off(GicrSgi::Isenabler0)), 0u);
    vg->flush(1, lrf[1]);
    EXPECT_TRUE(lrs(1).empty());
}

TEST_F(LrTest, SpiRoutedToVcpu2OnlyReachesVcpu2)
{
    gicd(off(Gicd::Irouter) + 8 * 60, 0x2, 8);
    kicks.mask = 0;
    vg->pulse_spi(60);
    EXPECT_EQ(kicks.mask, 1u << 2);
    for (u32 v : {0u, 1u, 3u}) {
        vg->flush(v, lrf[v]);
        EXPECT_TRUE(lrs(v).empty()) << v;
    }
    vg->flush(2, lrf[2]);
    EXPECT_EQ(lrs(2), (std::map<u32, u8>{{60, 1}}));
}

TEST_F(LrTest, DisabledOrGroupDisabledInterruptsAreNotInjected)
{
    gicd(off(Gicd::Icenabler) + 8, 1u << 6); // INTID 70
    vg->pulse_spi(70);
    EXPECT_EQ(kicks.mask, 0u);
    vg->flush(0, lrf[0]);
    EXPECT_TRUE(lrs(0).empty());
    EXPECT_FALSE(vg->has_pending(0, lrf[0]));
    gicd(off(Gicd::Isenabler) + 8, 1u << 6);
    EXPECT_EQ(kicks.mask, 1u);
    EXPECT_TRUE(vg->has_pending(0, lrf[0]));

    gicd(off(Gicd::Ctlr), 0); // group 1 off
    sgi(0, 2);
    vg->flush(0, lrf[0]);
    EXPECT_TRUE(lrs(0).empty());
    EXPECT_FALSE(vg->has_pending(0, lrf[0]));
    gicd(off(Gicd::Ctlr), kCtlrEnableGrp1);
    vg->flush(0, lrf[0]);
    EXPECT_EQ(lrs(0), (std::map<u32, u8>{{2, 1}, {70, 1}}));
}

TEST_F(LrTest, DisablingOrClearingAResidentPendingInterruptWithdrawsIt)
{
    vg->pulse_spi(33);
    sgi(0, 1);
    vg->flush(0, lrf[0]);
    ASSERT_EQ(lrs(0).size(), 2u);
    gicd(off(Gicd::Icenabler) + 4, 1u << 1);              // INTID 33
    gicr_sgi(0, off(GicrSgi::Icpendr0), 1u << 1);          // SGI 1
    exit_and_enter(0);
    EXPECT_TRUE(lrs(0).empty());
    EXPECT_EQ(gicd_read(off(Gicd::Ispendr) + 4), 1u << 1); // disabled, still pending
    EXPECT_EQ(gicr_sgi_read(0, off(GicrSgi::Ispendr0)), 0u);
    gicd(off(Gicd::Isenabler) + 4, 1u << 1);
    EXPECT_EQ(run(0), (std::vector<u32>{}));
    EXPECT_EQ(lrs(0), (std::map<u32, u8>{{33, 1}}));
}

TEST_F(LrTest, AnSpiIsNeverResidentOnTwoVcpus)
{
    vg->pulse_spi(80);
    vg->flush(0, lrf[0]);
    ASSERT_EQ(lrs(0).count(80), 1u);
    kicks.mask = 0;
    gicd(off(Gicd::Irouter) + 8 * 80, 0x1, 8);
    vg->flush(1, lrf[1]);
    EXPECT_TRUE(lrs(1).empty());
    // vCPU 0 hands its untaken copy back and kicks the new target.
    kicks.mask = 0;
    exit_and_enter(0);
    EXPECT_TRUE(lrs(0).empty());
    EXPECT_EQ(kicks.mask, 1u << 1);
    vg->flush(1, lrf[1]);
    EXPECT_EQ(lrs(1), (std::map<u32, u8>{{80, 1}}));

    // Active on vCPU 1, re-routed to 2, new edge: it stays with vCPU 1.
    ack(1, 80);
    vg->fold(1, lrf[1]);
    gicd(off(Gicd::Irouter) + 8 * 80, 0x2, 8);
    kicks.mask = 0;
    vg->pulse_spi(80);
    EXPECT_EQ(kicks.mask, 1u << 1);
    vg->flush(2, lrf[2]);
    EXPECT_TRUE(lrs(2).empty());
    vg->flush(1, lrf[1]);
    EXPECT_EQ(lrs(1), (std::map<u32, u8>{{80, 3}}));
}

TEST_F(LrTest, EdgeMetActiveOnOldVcpuIsPassedOnWhenItCompletes)
{
    vg->pulse_spi(81);
    vg->flush(0, lrf[0]);
    ack(0, 81);
    // While the guest on vCPU 0 still handles it: re-route, new edge. The
    // kick goes to vCPU 0, where the SPI is resident.
    gicd(off(Gicd::Irouter) + 8 * 81, 0x3, 8);
    kicks.mask = 0;
    vg->pulse_spi(81);
    EXPECT_EQ(kicks.mask, 1u);
    // vCPU 0 finishes the old activation and must pass the new edge on.
    kicks.mask = 0;
    deactivate(0, 81);
    vg->fold(0, lrf[0]);
    EXPECT_EQ(kicks.mask, 1u << 3);
    vg->flush(3, lrf[3]);
    EXPECT_EQ(lrs(3), (std::map<u32, u8>{{81, 1}}));
}

TEST_F(LrTest, ResetVcpuReturnsResidentSpiToItsTarget)
{
    gicd(off(Gicd::Irouter) + 8 * 90, 0x3, 8);
    vg->pulse_spi(90);
    vg->flush(3, lrf[3]);
    ASSERT_EQ(lrs(3).size(), 1u);
    gicd(off(Gicd::Irouter) + 8 * 90, 0x1, 8);
    kicks.mask = 0;
    EXPECT_EQ(vg->reset_vcpu(3, lrf[3]), 0u);
    EXPECT_EQ(kicks.mask, 1u << 1);
    EXPECT_FALSE(uie(3));
    vg->flush(1, lrf[1]);
    EXPECT_EQ(lrs(1), (std::map<u32, u8>{{90, 1}}));
}

TEST_F(LrTest, HasPendingFollowsDeliverableState)
{
    EXPECT_FALSE(vg->has_pending(2, lrf[2]));
    sgi(2, 6);
    EXPECT_TRUE(vg->has_pending(2, lrf[2]));
    vg->flush(2, lrf[2]);
    EXPECT_TRUE(vg->has_pending(2, lrf[2]));
    ack(2, 6);
    vg->fold(2, lrf[2]);
    EXPECT_FALSE(vg->has_pending(2, lrf[2])); // active only: nothing to take
    deactivate(2, 6);
    vg->fold(2, lrf[2]);
    EXPECT_FALSE(vg->has_pending(2, lrf[2]));
}

TEST_F(LrTest, ResetRestoresPowerOnStateAndFlushClearsStaleLrs)
{
    sgi(0, 1);
    vg->flush(0, lrf[0]);
    vg->reset();
    EXPECT_EQ(gicd_read(off(Gicd::Ctlr)), 0x50u);
    EXPECT_EQ(gicr_sgi_read(0, off(GicrSgi::Ispendr0)), 0u);
    vg->flush(0, lrf[0]);
    EXPECT_TRUE(lrs(0).empty());
    EXPECT_EQ(lrf[0].hcr, kHcrEn);
}

} // namespace

// ---- Which exits need the distributor lock ----------------------------------
// fold/flush/has_pending run on every exit of every pCPU; only SPI work may
// take the one distributor lock, or four pCPUs serialise on it.

namespace vgic {
struct VgicTestPeer {
    static Spinlock& dist_lock(Vgic& v) { return v.s_.dist_lock; }
};
} // namespace vgic

namespace {

TEST_F(LrTest, PrivateInterruptWorkNeverTakesTheDistributorLock)
{
    gicd(off(Gicd::Ctlr), kCtlrEnableGrp1); // a distributor write: the SPIs need a look once
    exit_and_enter(1);
    Spinlock& dist = VgicTestPeer::dist_lock(*vg);
    dist.lock();
    auto done = std::async(std::launch::async, [&] {
        sgi(1, 3);
        const bool pending = vg->has_pending(1, lrf[1]);
        vg->flush(1, lrf[1]);
        std::vector<u32> took = run(1);
        return pending && took == std::vector<u32>{3};
    });
    const bool finished = done.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
    dist.unlock();
    EXPECT_TRUE(finished) << "an SGI's fold/flush/has_pending waited for the distributor lock";
    EXPECT_TRUE(done.get());
}

TEST_F(LrTest, SpiRaisedWhileOnlyPrivateInterruptsAreResidentIsPlacedAtTheNextEntry)
{
    sgi(0, 1);
    vg->flush(0, lrf[0]);
    ack(0, 1); // stays active across exits: LRs hold only a private interrupt
    exit_and_enter(0);
    vg->set_spi_level(40, true);
    EXPECT_TRUE(vg->has_pending(0, lrf[0]));
    exit_and_enter(0);
    EXPECT_EQ(lrs(0), (std::map<u32, u8>{{1, kStateActive}, {40, kStatePending}}));
}

TEST_F(LrTest, SpiThatDidNotFitIsPlacedOnceTheGuestFreesAnLr)
{
    for (u32 i = 0; i < 4; i++) {
        set_prio(0, i, 0x20);
        sgi(0, i);
    }
    vg->pulse_spi(41);
    vg->flush(0, lrf[0]);
    EXPECT_EQ(lrs(0).count(41), 0u);
    EXPECT_TRUE(uie(0));
    handle(0, 0);
    exit_and_enter(0); // the underflow exit
    EXPECT_EQ(lrs(0).count(41), 1u);
    EXPECT_EQ(run(0), (std::vector<u32>{1, 2, 3, 41}));
}

TEST_F(LrTest, SpiEnabledByADistributorWriteIsPlacedAtTheNextEntry)
{
    gicd(off(Gicd::Icenabler) + 4, 1u << (42 - 32));
    vg->set_spi_level(42, true);
    exit_and_enter(0);
    EXPECT_TRUE(lrs(0).empty());
    exit_and_enter(0); // nothing new: the SPIs are not looked at again
    EXPECT_TRUE(lrs(0).empty());
    gicd(off(Gicd::Isenabler) + 4, 1u << (42 - 32));
    exit_and_enter(0);
    EXPECT_EQ(lrs(0), (std::map<u32, u8>{{42, kStatePending}}));
}

TEST_F(LrTest, EveryEventThatCanWakeABlockedVcpuMovesItsEventCount)
{
    // The scheduler re-checks a blocked vCPU only when events() moved.
    exit_and_enter(2);
    ASSERT_FALSE(vg->has_pending(2, lrf[2]));
    u32 seen = vg->events(2);
    auto moved = [&] {
        const u32 now = vg->events(2);
        const bool m = now != seen;
        seen = now;
        return m;
    };
    sgi(2, 5);
    EXPECT_TRUE(moved()) << "SGI";
    exit_and_enter(2);
    run(2);
    vg->set_private_pending(2, 27);
    EXPECT_TRUE(moved()) << "PPI";
    run(2);
    run(2);
    gicd(off(Gicd::Irouter) + 8 * 44, 2, 8);
    moved();
    vg->pulse_spi(44);
    EXPECT_TRUE(moved()) << "SPI routed here";
    run(2);
    run(2);
    gicd(off(Gicd::Icenabler) + 4, 1u << (44 - 32));
    vg->pulse_spi(44);
    moved();
    EXPECT_TRUE(vg->has_pending(2, lrf[2]) == false);
    gicd(off(Gicd::Isenabler) + 4, 1u << (44 - 32));
    EXPECT_TRUE(moved()) << "pending SPI enabled";
    EXPECT_TRUE(vg->has_pending(2, lrf[2]));
    // Nothing aimed at vCPU 2: the count stays.
    run(2);
    sgi(1, 5);
    vg->pulse_spi(45);
    EXPECT_FALSE(moved());
}

} // namespace
