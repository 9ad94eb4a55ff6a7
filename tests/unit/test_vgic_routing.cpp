#include <gtest/gtest.h>

#include "vgic/irq.h"
#include "vgic/routing.h"
#include "vgic/vgic.h"

using namespace vgic;

namespace {

constexpr u64 sgi1r(u32 intid, u32 targets, u32 aff1 = 0, u32 aff2 = 0, u32 aff3 = 0, u32 rs = 0, bool irm = false)
{
    return u64{targets} | u64{aff1} << 16 | u64{intid} << 24 | u64{aff2} << 32 | u64{irm} << 40 | u64{rs} << 44 |
           u64{aff3} << 48;
}

constexpr u64 kFlat[4] = {0x8000'0000, 0x8000'0001, 0x8000'0002, 0x8000'0003};

TEST(Sgi1r, DecodesEveryField)
{
    const Sgi1r r = decode_sgi1r(sgi1r(13, 0xbeef, 0x12, 0x34, 0x56, 0x7, true));
    EXPECT_EQ(r.intid, 13u);
    EXPECT_EQ(r.target_list, 0xbeefu);
    EXPECT_EQ(r.aff1, 0x12u);
    EXPECT_EQ(r.aff2, 0x34u);
    EXPECT_EQ(r.aff3, 0x56u);
    EXPECT_EQ(r.rs, 7u);
    EXPECT_TRUE(r.irm);
}

TEST(Sgi1r, TargetListSelectsAff0)
{
    EXPECT_EQ(sgi1r_targets(sgi1r(1, 0b1010), 0, kFlat, 4), 0b1010u);
    EXPECT_EQ(sgi1r_targets(sgi1r(1, 0b0001), 2, kFlat, 4), 0b0001u);
    EXPECT_EQ(sgi1r_targets(sgi1r(1, 0xfff0), 0, kFlat, 4), 0u); // Aff0 4..15 do not exist
    EXPECT_EQ(sgi1r_targets(sgi1r(1, 0b1111), 0, kFlat, 2), 0b11u);
}

TEST(Sgi1r, RangeSelectorOffsetsAff0BySixteen)
{
    const u64 m[4] = {16, 17, 0, 33};
    EXPECT_EQ(sgi1r_targets(sgi1r(0, 0b11, 0, 0, 0, 1), 0, m, 4), 0b0011u);
    EXPECT_EQ(sgi1r_targets(sgi1r(0, 0b11, 0, 0, 0, 0), 0, m, 4), 0b0100u);
    EXPECT_EQ(sgi1r_targets(sgi1r(0, 0b10, 0, 0, 0, 2), 0, m, 4), 0b1000u);
}

TEST(Sgi1r, HigherAffinityLevelsMustMatch)
{
    const u64 m[4] = {0x0000'0000, 0x0000'0100, 0x0002'0100, 0x3'0002'0100};
    EXPECT_EQ(sgi1r_targets(sgi1r(0, 1), 0, m, 4), 0b0001u);
    EXPECT_EQ(sgi1r_targets(sgi1r(0, 1, 1), 0, m, 4), 0b0010u);
    EXPECT_EQ(sgi1r_targets(sgi1r(0, 1, 1, 2), 0, m, 4), 0b0100u);
    EXPECT_EQ(sgi1r_targets(sgi1r(0, 1, 1, 2, 3), 0, m, 4), 0b1000u);
    EXPECT_EQ(sgi1r_targets(sgi1r(0, 1, 5), 0, m, 4), 0u);
    EXPECT_EQ(sgi1r_targets(sgi1r(0, 1, 1, 9), 0, m, 4), 0u);
    EXPECT_EQ(sgi1r_targets(sgi1r(0, 1, 1, 2, 9), 0, m, 4), 0u);
}

TEST(Sgi1r, IrmBroadcastsToAllButTheSender)
{
    EXPECT_EQ(sgi1r_targets(sgi1r(3, 0, 0x55, 0, 0, 0, true), 1, kFlat, 4), 0b1101u);
    EXPECT_EQ(sgi1r_targets(sgi1r(3, 0, 0, 0, 0, 0, true), 3, kFlat, 4), 0b0111u);
    EXPECT_EQ(sgi1r_targets(sgi1r(3, 0, 0, 0, 0, 0, true), 0, kFlat, 1), 0u);
}

TEST(Irouter, AffinityMatchOrNoTarget)
{
    const u64 m[4] = {0x8000'0000, 0x8000'0001, 0x8001'0000, 0x2'8000'0000};
    EXPECT_EQ(irouter_target(0x0, m, 4), 0);
    EXPECT_EQ(irouter_target(0x1, m, 4), 1);
    EXPECT_EQ(irouter_target(0x1'0000, m, 4), 2);
    EXPECT_EQ(irouter_target(0x2'0000'0000, m, 4), 3);
    EXPECT_EQ(irouter_target(0x7, m, 4), kNoVcpu);
    EXPECT_EQ(irouter_target(0x1, m, 1), kNoVcpu);
    EXPECT_EQ(irouter_target(bit(31) | 0x7, m, 4), 0); // 1-of-N: vCPU 0
}

struct KickLog final : Notifier {
    u32 mask = 0;
    void kick(u32 v) override { mask |= 1u << v; }
};

TEST(SendSgi, SetsPendingOnTargetsAndCounts)
{
    Vgic vg;
    KickLog k;
    vg.init(4, 32, kFlat, &k);
    EXPECT_EQ(vg.send_sgi(0, sgi1r(7, 0b1110)), 0b1110u);
    EXPECT_EQ(vg.send_sgi(2, sgi1r(1, 0, 0, 0, 0, 0, true)), 0b1011u);
    EXPECT_EQ(vg.sgi_sent(0), 3u);
    EXPECT_EQ(vg.sgi_sent(2), 3u);
    EXPECT_EQ(vg.sgi_received(1), 2u);
    EXPECT_EQ(vg.sgi_received(2), 1u);
    EXPECT_EQ(vg.sgi_received(0), 1u);
    EXPECT_EQ(k.mask, 0u); // SGIs not enabled: nothing to deliver yet
    for (u32 v = 1; v < 4; v++) {
        MmioAccess a{.addr = 0, .width = 4, .write = false, .reg = 0, .sign_extend = false, .sf = false, .data = 0};
        vg.redistributors().access(0, v * 0x20000 + 0x10000 + 0x200, a);
        EXPECT_EQ(a.data & 0xffff, v == 2 ? 1u << 7 : (1u << 7 | 1u << 1)) << v;
    }
}

} // namespace
