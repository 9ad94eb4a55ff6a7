#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "psci/function_ids.h"
#include "psci/psci.h"

using psci::Action;
using psci::FnId;
using psci::PowerState;
using psci::Psci;
using psci::Ret;

namespace {

constexpr u64 kRamBase = 0x4000'0000;
constexpr u64 kRamSize = 0x4000'0000;
constexpr u64 kEntry = kRamBase + 0x8'0000;

// Two clusters of two: Aff1 selects the cluster, Aff0 the core.
constexpr u64 kMpidr[4] = {0x000, 0x001, 0x100, 0x101};

class FakeHost final : public psci::Host {
public:
    bool valid_entry(u64 ipa) override { return ipa >= kRamBase && ipa < kRamBase + kRamSize; }
    void wake(u32 vcpu) override
    {
        wakes[vcpu].fetch_add(1);
        last_woken.store(vcpu);
    }
    std::atomic<int> wakes[4]{};
    std::atomic<u32> last_woken{99};
};

constexpr u64 ret(Ret r) { return static_cast<u64>(static_cast<i64>(static_cast<i32>(r))); }
constexpr u64 id(FnId f) { return static_cast<u64>(f); }

class PsciTest : public ::testing::Test {
protected:
    void SetUp() override { p.init(4, kMpidr, &host); }

    psci::CallResult call(u32 caller, FnId f, u64 x1 = 0, u64 x2 = 0, u64 x3 = 0)
    {
        return p.handle(caller, id(f), x1, x2, x3);
    }
    u64 cpu_on(u64 target, u64 entry = kEntry, u64 ctx = 0) { return call(0, FnId::CpuOn64, target, entry, ctx).x0; }

    FakeHost host;
    Psci p;
};

TEST_F(PsciTest, VersionIs1_1)
{
    const auto r = call(0, FnId::Version);
    EXPECT_EQ(r.x0, 0x0001'0001u);
    EXPECT_EQ(r.action, Action::None);
}

TEST_F(PsciTest, FunctionIdIsW0)
{
    EXPECT_EQ(p.handle(0, 0xFFFF'FFFF'8400'0000ull, 0, 0, 0).x0, 0x0001'0001u);
}

TEST_F(PsciTest, FeaturesOfImplementedFunctionsAreZero)
{
    for (FnId f : {FnId::Version, FnId::CpuSuspend32, FnId::CpuSuspend64, FnId::CpuOff, FnId::CpuOn32,
                   FnId::CpuOn64, FnId::AffinityInfo32, FnId::AffinityInfo64, FnId::MigrateInfoType,
                   FnId::SystemOff, FnId::SystemReset, FnId::Features})
        EXPECT_EQ(call(0, FnId::Features, id(f)).x0, 0u) << std::hex << id(f);
}

TEST_F(PsciTest, FeaturesOfOtherFunctionsAreNotSupported)
{
    for (u64 f : {id(FnId::Migrate32), id(FnId::Migrate64), id(FnId::MigrateInfoUpCpu32),
                  id(FnId::MigrateInfoUpCpu64), u64{0x8000'0000} /* SMCCC_VERSION */,
                  u64{0xC400'0000} /* no SMC64 PSCI_VERSION */, u64{0x8400'000E}, u64{0x8400'001F}, u64{0}})
        EXPECT_EQ(call(0, FnId::Features, f).x0, ret(Ret::NotSupported)) << std::hex << f;
}

TEST_F(PsciTest, UnknownFunctionsReturnAllOnes)
{
    for (u64 f : {u64{0x8000'0000}, u64{0x8400'0005}, u64{0xC400'0005}, u64{0x8400'0007}, u64{0xC400'0007},
                  u64{0x8400'000B}, u64{0x8400'001F}, u64{0xC600'0000}, u64{0x8200'0000}}) {
        const auto r = p.handle(1, f, 0, 0, 0);
        EXPECT_EQ(r.x0, 0xFFFF'FFFF'FFFF'FFFFull) << std::hex << f;
        EXPECT_EQ(r.action, Action::None);
    }
}

TEST_F(PsciTest, MigrateInfoTypeSaysNoMigrationNeeded)
{
    EXPECT_EQ(call(0, FnId::MigrateInfoType).x0, 2u);
}

TEST_F(PsciTest, ResetStateIsBootCpuOnly)
{
    EXPECT_EQ(p.state(0), PowerState::On);
    for (u32 i = 1; i < 4; i++)
        EXPECT_EQ(p.state(i), PowerState::Off);
}

TEST_F(PsciTest, CpuOnThenTargetTakesItsArguments)
{
    EXPECT_EQ(cpu_on(0x101, kEntry + 0x40, 0xC0FFEE), ret(Ret::Success));
    EXPECT_EQ(p.state(3), PowerState::OnPending);
    EXPECT_EQ(host.wakes[3].load(), 1);
    EXPECT_EQ(host.last_woken.load(), 3u);

    u64 entry = 0, ctx = 0;
    EXPECT_FALSE(p.take_pending_on(2, entry, ctx));
    ASSERT_TRUE(p.take_pending_on(3, entry, ctx));
    EXPECT_EQ(entry, kEntry + 0x40);
    EXPECT_EQ(ctx, 0xC0FFEEu);
    EXPECT_EQ(p.state(3), PowerState::On);
    EXPECT_FALSE(p.take_pending_on(3, entry, ctx));
}

TEST_F(PsciTest, CpuOnErrors)
{
    EXPECT_EQ(cpu_on(0x002), ret(Ret::InvalidParameters));
    EXPECT_EQ(cpu_on(0x1'0000'0001), ret(Ret::InvalidParameters));  // Aff3 differs
    EXPECT_EQ(cpu_on(0x001, kRamBase - 4), ret(Ret::InvalidAddress));
    EXPECT_EQ(cpu_on(0x000), ret(Ret::AlreadyOn));
    EXPECT_EQ(cpu_on(0x001), ret(Ret::Success));
    // Already claimed, not running yet: ALREADY_ON, as KVM answers (PSCI
    // also allows ON_PENDING, but guests test for ALREADY_ON).
    EXPECT_EQ(cpu_on(0x001), ret(Ret::AlreadyOn));
    u64 e, c;
    ASSERT_TRUE(p.take_pending_on(1, e, c));
    EXPECT_EQ(cpu_on(0x001), ret(Ret::AlreadyOn));
    EXPECT_EQ(host.wakes[1].load(), 1);
    EXPECT_EQ(host.wakes[0].load(), 0);
}

TEST_F(PsciTest, CpuOnIgnoresNonAffinityMpidrBits)
{
    // RES1 bit 31, U bit 30, MT bit 24 and bits above Aff3 name no CPU.
    EXPECT_EQ(cpu_on(0xFFFF'FF00'C100'0100ull), ret(Ret::Success));
    EXPECT_EQ(p.state(2), PowerState::OnPending);
}

TEST_F(PsciTest, Smc32CpuOnTruncatesArguments)
{
    // The upper halves would make the target unknown and the entry invalid.
    const auto r = call(0, FnId::CpuOn32, 0xFFFF'FFFF'0000'0001ull, 0x1'0000'0000ull | kEntry,
                        0xAAAA'AAAA'1234'5678ull);
    EXPECT_EQ(r.x0, ret(Ret::Success));
    u64 e = 0, c = 0;
    ASSERT_TRUE(p.take_pending_on(1, e, c));
    EXPECT_EQ(e, kEntry);
    EXPECT_EQ(c, 0x1234'5678u);

    // The same registers through SMC64 are taken at face value.
    EXPECT_EQ(call(0, FnId::CpuOn64, 0xFFFF'FFFF'0000'0100ull, kEntry).x0, ret(Ret::InvalidParameters));
    EXPECT_EQ(call(0, FnId::CpuOn64, 0x100, 0x1'0000'0000ull | kEntry).x0, ret(Ret::InvalidAddress));
}

TEST_F(PsciTest, CpuOffThenOnAgain)
{
    ASSERT_EQ(cpu_on(0x001, kEntry, 1), ret(Ret::Success));
    u64 e, c;
    ASSERT_TRUE(p.take_pending_on(1, e, c));

    const auto r = call(1, FnId::CpuOff);
    EXPECT_EQ(r.action, Action::PowerDown);
    EXPECT_EQ(p.state(1), PowerState::Off);

    ASSERT_EQ(cpu_on(0x001, kEntry + 0x1000, 2), ret(Ret::Success));
    ASSERT_TRUE(p.take_pending_on(1, e, c));
    EXPECT_EQ(e, kEntry + 0x1000);
    EXPECT_EQ(c, 2u);
    EXPECT_EQ(host.wakes[1].load(), 2);
}

TEST_F(PsciTest, AffinityInfoLevel0)
{
    ASSERT_EQ(cpu_on(0x100), ret(Ret::Success));
    EXPECT_EQ(call(0, FnId::AffinityInfo64, 0x000, 0).x0, u64(PowerState::On));
    EXPECT_EQ(call(0, FnId::AffinityInfo64, 0x001, 0).x0, u64(PowerState::Off));
    EXPECT_EQ(call(0, FnId::AffinityInfo64, 0x100, 0).x0, u64(PowerState::OnPending));
    EXPECT_EQ(call(0, FnId::AffinityInfo32, 0xFFFF'FFFF'0000'0101ull, 0).x0, u64(PowerState::Off));
    EXPECT_EQ(call(0, FnId::AffinityInfo64, 0x102, 0).x0, ret(Ret::InvalidParameters));
}

TEST_F(PsciTest, AffinityInfoAggregatesAtLevel1)
{
    // Cluster 0 holds the running boot CPU; cluster 1 starts all Off.
    EXPECT_EQ(call(0, FnId::AffinityInfo64, 0x001, 1).x0, u64(PowerState::On));
    EXPECT_EQ(call(0, FnId::AffinityInfo64, 0x1FF, 1).x0, u64(PowerState::Off));
    ASSERT_EQ(cpu_on(0x101), ret(Ret::Success));
    EXPECT_EQ(call(0, FnId::AffinityInfo64, 0x100, 1).x0, u64(PowerState::OnPending));
    ASSERT_EQ(cpu_on(0x100), ret(Ret::Success));
    u64 e, c;
    ASSERT_TRUE(p.take_pending_on(2, e, c));
    EXPECT_EQ(call(0, FnId::AffinityInfo64, 0x100, 1).x0, u64(PowerState::On));
    EXPECT_EQ(call(0, FnId::AffinityInfo64, 0x200, 1).x0, ret(Ret::InvalidParameters));
}

TEST_F(PsciTest, AffinityInfoHigherLevelsAndBadLevel)
{
    EXPECT_EQ(call(0, FnId::AffinityInfo64, 0x101, 2).x0, u64(PowerState::On));
    EXPECT_EQ(call(0, FnId::AffinityInfo64, 0xFFFF, 3).x0, u64(PowerState::On));
    EXPECT_EQ(call(0, FnId::AffinityInfo64, 0x1'0000'0000ull, 3).x0, ret(Ret::InvalidParameters));
    EXPECT_EQ(call(0, FnId::AffinityInfo64, 0x000, 4).x0, ret(Ret::InvalidParameters));
    // SMC32: a level with junk in the upper half is still level 0.
    EXPECT_EQ(call(0, FnId::AffinityInfo32, 0x000, 0x1'0000'0000ull).x0, u64(PowerState::On));
}

TEST_F(PsciTest, CpuSuspendIsStandby)
{
    const auto standby = call(0, FnId::CpuSuspend64, 0x0000'0000, 0, 0);
    EXPECT_EQ(standby.x0, 0u);
    EXPECT_EQ(standby.action, Action::Standby);

    // Power-down requests are served as standby; the context is kept.
    const auto down = call(0, FnId::CpuSuspend32, 0x0001'0000, kEntry, 7);
    EXPECT_EQ(down.x0, 0u);
    EXPECT_EQ(down.action, Action::Standby);
    EXPECT_EQ(p.state(0), PowerState::On);

    const auto bad = call(0, FnId::CpuSuspend64, 0x0001'0000, 0x10, 0);
    EXPECT_EQ(bad.x0, ret(Ret::InvalidAddress));
    EXPECT_EQ(bad.action, Action::None);
}

TEST_F(PsciTest, SystemOffAndReset)
{
    EXPECT_EQ(call(2, FnId::SystemOff).action, Action::SystemOff);
    EXPECT_EQ(call(0, FnId::SystemReset).action, Action::SystemReset);
}

TEST_F(PsciTest, ResetReturnsToBootState)
{
    ASSERT_EQ(cpu_on(0x001), ret(Ret::Success));
    ASSERT_EQ(cpu_on(0x100), ret(Ret::Success));
    u64 e, c;
    ASSERT_TRUE(p.take_pending_on(1, e, c));
    call(0, FnId::CpuOff);
    p.reset();
    EXPECT_EQ(p.state(0), PowerState::On);
    EXPECT_EQ(p.state(1), PowerState::Off);
    EXPECT_EQ(p.state(2), PowerState::Off);
    EXPECT_FALSE(p.take_pending_on(2, e, c));
}

TEST_F(PsciTest, IsPsciCall)
{
    EXPECT_TRUE(p.is_psci_call(0x8400'0000));
    EXPECT_TRUE(p.is_psci_call(0x8400'001F));
    EXPECT_TRUE(p.is_psci_call(0xC400'0003));
    EXPECT_TRUE(p.is_psci_call(0xC400'001F));
    EXPECT_TRUE(p.is_psci_call(0xFFFF'FFFF'8400'0001ull));
    EXPECT_FALSE(p.is_psci_call(0x8400'0020));
    EXPECT_FALSE(p.is_psci_call(0xC400'0020));
    EXPECT_FALSE(p.is_psci_call(0x8000'0000));
    EXPECT_FALSE(p.is_psci_call(0x83FF'FFFF));
    EXPECT_FALSE(p.is_psci_call(0x0400'0000));
}

TEST_F(PsciTest, CountsCallsPerFunction)
{
    call(0, FnId::Version);
    call(0, FnId::CpuOn32, 0x001, kEntry);
    call(0, FnId::CpuOn64, 0x001, kEntry);
    call(0, FnId::Migrate32);
    p.handle(0, 0x8000'0000, 0, 0, 0);
    EXPECT_EQ(p.call_count(id(FnId::Version)), 1u);
    EXPECT_EQ(p.call_count(id(FnId::CpuOn32)), 2u);
    EXPECT_EQ(p.call_count(id(FnId::CpuOn64)), 2u);
    EXPECT_EQ(p.call_count(id(FnId::Migrate64)), 1u);
    EXPECT_EQ(p.call_count(id(FnId::CpuOff)), 0u);
    EXPECT_EQ(p.call_count(0x8000'0000), 0u);
    EXPECT_EQ(p.foreign_count(), 1u);
}

// Several pCPUs issue CPU_ON at the same Off vCPU while that vCPU's own pCPU
// polls take_pending_on(): exactly one caller may win, every other one gets
// ALREADY_ON (what KVM answers; issue 11 item 3), and the target must start
// with the winner's arguments, never a mix.
TEST_F(PsciTest, RacingCpuOnHasOneWinner)
{
    constexpr int kRacers = 4;
    constexpr int kRounds = 300;
    constexpr u32 kTarget = 3;

    for (int round = 0; round < kRounds; round++) {
        std::atomic<int> go{0};
        std::atomic<bool> taken{false};
        std::atomic<bool> done{false};
        u64 results[kRacers];
        u64 got_entry = 0, got_ctx = 0;

        std::thread target([&] {
            go.fetch_add(1);
            while (go.load() < kRacers + 1)
                std::this_thread::yield();
            u64 e, c;
            for (;;) {
                // Read `done` first: once it is set, a failed take is final.
                const bool last = done.load();
                if (p.take_pending_on(kTarget, e, c)) {
                    got_entry = e;
                    got_ctx = c;
                    taken.store(true);
                    return;
                }
                if (last)
                    return;
                std::this_thread::yield();
            }
        });
        std::vector<std::thread> racers;
        for (int i = 0; i < kRacers; i++)
            racers.emplace_back([&, i] {
                go.fetch_add(1);
                while (go.load() < kRacers + 1)
                std::this_thread::yield();
                const u64 entry = kEntry + u64(i) * 0x1000;
                // Caller is any running vCPU; which one does not matter.
                results[i] = p.handle(0, id(FnId::CpuOn64), kMpidr[kTarget], entry, 0x100 + u64(i)).x0;
            });
        for (auto& t : racers)
            t.join();
        done.store(true);
        target.join();

        int winners = 0, winner = -1;
        for (int i = 0; i < kRacers; i++) {
            if (results[i] == ret(Ret::Success)) {
                winners++;
                winner = i;
            } else {
                EXPECT_EQ(results[i], ret(Ret::AlreadyOn))
                    << "round " << round << " racer " << i << " got " << i64(results[i]);
            }
        }
        ASSERT_EQ(winners, 1) << "round " << round;
        ASSERT_TRUE(taken.load());
        EXPECT_EQ(got_entry, kEntry + u64(winner) * 0x1000);
        EXPECT_EQ(got_ctx, 0x100 + u64(winner));
        EXPECT_EQ(p.state(kTarget), PowerState::On);

        ASSERT_EQ(p.handle(kTarget, id(FnId::CpuOff), 0, 0, 0).action, Action::PowerDown);
    }
    EXPECT_EQ(host.wakes[kTarget].load(), kRounds);
}

} // namespace
