// Remote pCPUs (host threads) raise interrupts while other threads play the
// vCPUs: exit (fold), WFI when idle, entry (flush), guest takes what its LRs
// offer. Every interrupt raised while not already pending must be taken
// exactly once, so senders wait for delivery before raising the next one.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "vgic/regs.h"
#include "vgic/vgic.h"

using namespace vgic;

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTimeout = std::chrono::seconds(30);
constexpr u64 kFlat[4] = {0x8000'0000, 0x8000'0001, 0x8000'0002, 0x8000'0003};
constexpr u32 kIntids = 128;

struct KickCounter final : Notifier {
    std::atomic<u64> count[4]{};
    void kick(u32 v) override { count[v].fetch_add(1); }
};

struct World {
    World()
    {
        vg = std::make_unique<Vgic>();
        vg->init(4, 96, kFlat, &kicks);
        w(vg->distributor(), off(Gicd::Ctlr), kCtlrEnableGrp1);
        for (u32 i = 1; i < 4; i++) {
            w(vg->distributor(), off(Gicd::Igroupr) + 4 * i, 0xffff'ffff);
            w(vg->distributor(), off(Gicd::Isenabler) + 4 * i, 0xffff'ffff);
            w(vg->distributor(), off(Gicd::Icfgr) + 8 + 4 * (i - 1), 0xaaaa'aaaa);
        }
        for (u32 v = 0; v < 4; v++) {
            w(vg->redistributors(), v * kGicrStride + kGicrSgiFrame + off(GicrSgi::Igroupr0), 0xffff'ffff);
            w(vg->redistributors(), v * kGicrStride + kGicrSgiFrame + off(GicrSgi::Isenabler0), 0xffff'ffff);
        }
    }
    static u64 access(MmioDevice& d, u64 o, u64 v, u8 width, bool write)
    {
        MmioAccess a{.addr = o, .width = width, .write = write, .reg = 0, .sign_extend = false, .sf = true, .data = v};
        d.access(0, o, a);
        return a.data;
    }
    static void w(MmioDevice& d, u64 o, u64 v, u8 width = 4) { access(d, o, v, width, true); }

    bool expired() const { return Clock::now() > deadline; }

    KickCounter kicks;
    std::unique_ptr<Vgic> vg;
    std::atomic<u64> taken[4][kIntids]{}; // acknowledged by the guest, per vCPU
    std::atomic<u64> raised[kIntids]{};   // per INTID, summed over targets for SGIs
    std::atomic<int> in_service[4][kIntids]{};
    std::atomic<int> spi_in_service[kIntids]{};
    std::atomic<bool> stop{false};
    std::atomic<bool> failed{false};
    Clock::time_point deadline = Clock::now() + kTimeout;

    u64 taken_anywhere(u32 intid) const
    {
        u64 n = 0;
        for (u32 v = 0; v < 4; v++)
            n += taken[v][intid].load();
        return n;
    }
    void fail() { failed.store(true); }
};

// One vCPU's run loop. The guest acknowledges every pending LR; it leaves
// some active across an exit (so new edges meet an active interrupt) and
// deactivates them on the next round.
void vcpu_thread(World& w, u32 v)
{
    LrFile lrf{.lr = {}, .num = 4, .hcr = 0};
    u32 rng = 12345 + v;
    w.vg->flush(v, lrf);
    while (!w.stop.load()) {
        if (w.expired()) {
            w.fail();
            return;
        }
        for (unsigned k = 0; k < lrf.num; k++) {
            u64& lr = lrf.lr[k];
            const u32 intid = static_cast<u32>(lr & 0xffff'ffff);
            const u8 st = static_cast<u8>(lr >> 62);
            if (st & kStateActive) {
                // Deactivate what was left active last round.
                if (intid >= 32)
                    w.spi_in_service[intid].fetch_sub(1);
                else
                    w.in_service[v][intid].fetch_sub(1);
                lr &= ~(u64{kStateActive} << 62);
            } else if (st == kStatePending) {
                // Acknowledge.
                if (intid >= 32) {
                    if (w.spi_in_service[intid].fetch_add(1) != 0)
                        w.fail(); // the same SPI taken on two vCPUs at once
                } else if (w.in_service[v][intid].fetch_add(1) != 0) {
                    w.fail();
                }
                w.taken[v][intid].fetch_add(1);
                if (w.taken_anywhere(intid) > w.raised[intid].load())
                    w.fail(); // delivered more often than raised
                lr = (lr & ~(u64{3} << 62)) | u64{kStateActive} << 62;
                rng = rng * 1103515245 + 12345;
                if ((rng >> 16) % 3 != 0) {
                    if (intid >= 32)
                        w.spi_in_service[intid].fetch_sub(1);
                    else
                        w.in_service[v][intid].fetch_sub(1);
                    lr &= ~(u64{kStateActive} << 62);
                }
            }
        }
        // Exit. Snapshot the kick count first: an event after it either
        // shows in has_pending or bumps the count.
        const u64 k0 = w.kicks.count[v].load();
        w.vg->fold(v, lrf);
        bool idle = true;
        for (unsigned k = 0; k < lrf.num; k++)
            if (lrf.lr[k] >> 62)
                idle = false;
        if (idle && !w.vg->has_pending(v, lrf)) {
            while (w.kicks.count[v].load() == k0 && !w.stop.load() && !w.expired())
                std::this_thread::yield();
        }
        w.vg->flush(v, lrf);
    }
}

bool wait_until(World& w, auto cond)
{
    while (!cond()) {
        if (w.expired() || w.failed.load()) {
            w.fail();
            return false;
        }
        std::this_thread::yield();
    }
    return true;
}

TEST(VgicConcurrency, SgisFromThreeSendersToOneVcpuAreNeitherLostNorDuplicated)
{
    World w;
    constexpr u64 kRounds = 3000;
    std::thread guest(vcpu_thread, std::ref(w), 0u);
    std::vector<std::thread> senders;
    for (u32 s = 1; s < 4; s++)
        senders.emplace_back([&w, s] {
            for (u64 i = 0; i < kRounds; i++) {
                w.raised[s].fetch_add(1);
                EXPECT_EQ(w.vg->send_sgi(s, u64{s} << 24 | 1), 1u);
                if (!wait_until(w, [&] { return w.taken[0][s].load() == i + 1; }))
                    return;
            }
        });
    // Register traffic on the same locks.
    std::thread reader([&w] {
        while (!w.stop.load()) {
            World::access(w.vg->redistributors(), kGicrSgiFrame + off(GicrSgi::Ispendr0), 0, 4, false);
            World::access(w.vg->distributor(), off(Gicd::Ispendr) + 4, 0, 4, false);
        }
    });
    for (auto& t : senders)
        t.join();
    w.stop.store(true);
    guest.join();
    reader.join();
    EXPECT_FALSE(w.failed.load());
    for (u32 s = 1; s < 4; s++) {
        EXPECT_EQ(w.taken[0][s].load(), kRounds) << s;
        EXPECT_EQ(w.vg->sgi_sent(s), kRounds);
    }
    EXPECT_EQ(w.vg->sgi_received(0), 3 * kRounds);
}

TEST(VgicConcurrency, FourVcpusWithCrossSgisAndReroutedSpis)
{
    World w;
    constexpr u64 kRounds = 1500;
    std::vector<std::thread> vcpus;
    for (u32 v = 0; v < 4; v++)
        vcpus.emplace_back(vcpu_thread, std::ref(w), v);

    std::vector<std::thread> remote;
    // Sender s alternates between two targets with its own SGI.
    for (u32 s = 0; s < 4; s++)
        remote.emplace_back([&w, s] {
            const u32 intid = 8 + s;
            for (u64 i = 0; i < kRounds; i++) {
                const u32 t = (s + 1 + static_cast<u32>(i % 2)) % 4;
                const u64 before = w.taken[t][intid].load();
                w.raised[intid].fetch_add(1);
                w.vg->send_sgi(s, u64{intid} << 24 | (1u << t));
                if (!wait_until(w, [&] { return w.taken[t][intid].load() == before + 1; }))
                    return;
            }
        });
    // Edge SPIs 40..41: re-routed before each pulse (40) or continuously (41).
    remote.emplace_back([&w] {
        for (u64 i = 0; i < kRounds; i++) {
            World::w(w.vg->distributor(), off(Gicd::Irouter) + 8 * 40, i % 4, 8);
            w.raised[40].fetch_add(1);
            w.vg->pulse_spi(40);
            if (!wait_until(w, [&] { return w.taken_anywhere(40) == i + 1; }))
                return;
        }
    });
    remote.emplace_back([&w] {
        for (u64 i = 0; i < kRounds; i++) {
            w.raised[41].fetch_add(1);
            w.vg->pulse_spi(41);
            if (!wait_until(w, [&] { return w.taken_anywhere(41) == i + 1; }))
                return;
        }
    });
    std::atomic<bool> reroute_stop{false};
    std::thread rerouter([&w, &reroute_stop] {
        for (u64 i = 0; !reroute_stop.load(); i++) {
            World::w(w.vg->distributor(), off(Gicd::Irouter) + 8 * 41, (i * 7) % 4, 8);
            std::this_thread::yield();
        }
    });

    for (auto& t : remote)
        t.join();
    reroute_stop.store(true);
    rerouter.join();
    w.stop.store(true);
    for (u32 v = 0; v < 4; v++)
        w.kicks.count[v].fetch_add(1);
    for (auto& t : vcpus)
        t.join();

    EXPECT_FALSE(w.failed.load());
    for (u32 s = 0; s < 4; s++) {
        const u32 intid = 8 + s;
        u64 sum = 0;
        for (u32 v = 0; v < 4; v++)
            sum += w.taken[v][intid].load();
        EXPECT_EQ(sum, kRounds) << "SGI " << intid;
    }
    EXPECT_EQ(w.taken_anywhere(40), kRounds);
    EXPECT_EQ(w.taken_anywhere(41), kRounds);
    for (u32 v = 0; v < 4; v++)
        EXPECT_EQ(w.taken[v][40].load(), kRounds / 4) << v; // followed each re-route
}

TEST(VgicConcurrency, BurstsCoalesceButTheLastEdgeIsAlwaysDelivered)
{
    World w;
    constexpr u64 kBurst = 5000;
    std::thread guest(vcpu_thread, std::ref(w), 2u);
    std::vector<std::thread> senders;
    for (u32 s : {0u, 1u, 3u})
        senders.emplace_back([&w, s] {
            for (u64 i = 0; i < kBurst; i++) {
                w.raised[s].fetch_add(1);
                w.vg->send_sgi(s, u64{s} << 24 | (1u << 2));
            }
        });
    for (auto& t : senders)
        t.join();
    // One more edge each: it must arrive even if it coalesces with a
    // pending leftover of the burst.
    for (u32 s : {0u, 1u, 3u}) {
        const u64 mark = w.taken[2][s].load();
        w.raised[s].fetch_add(1);
        w.vg->send_sgi(s, u64{s} << 24 | (1u << 2));
        EXPECT_TRUE(wait_until(w, [&] { return w.taken[2][s].load() > mark; }));
    }
    EXPECT_TRUE(wait_until(w, [&] {
        return World::access(w.vg->redistributors(), 2 * kGicrStride + kGicrSgiFrame + off(GicrSgi::Ispendr0), 0, 4,
                             false) == 0;
    }));
    w.stop.store(true);
    w.kicks.count[2].fetch_add(1);
    guest.join();
    EXPECT_FALSE(w.failed.load());
    for (u32 s : {0u, 1u, 3u}) {
        EXPECT_GE(w.taken[2][s].load(), 2u);
        EXPECT_LE(w.taken[2][s].load(), w.raised[s].load());
    }
    EXPECT_EQ(w.vg->sgi_received(2), 3 * (kBurst + 1));
}

} // namespace
