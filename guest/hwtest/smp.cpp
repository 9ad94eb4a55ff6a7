#include "smp.h"

#include "console.h"
#include "features.h"
#include "harness.h"
#include "modes.h"
#include "psci.h"

extern "C" char secondary_entry[];

constinit u32 g_online = 1;

u64 us_to_ticks(u64 us) { return us * cntfrq() / 1000000; }
u64 ticks_to_us(u64 ticks) { return ticks * 1000000 / cntfrq(); }

void spin_us(u64 us)
{
    const u64 end = cntpct() + us_to_ticks(us);
    while (cntpct() < end) {
    }
}

void kick(u32 targets)
{
    if (targets)
        gic::send_sgi(hw::kKickSgi, targets);
}

void wake_timer_arm(u64 deadline)
{
    MSR("cntv_cval_el0", deadline);
    MSR("cntv_ctl_el0", 1);  // ENABLE, IMASK clear
    isb();
}

void wake_timer_disarm()
{
    MSR("cntv_ctl_el0", 0);
    isb();
}

namespace {

[[noreturn]] void worker_loop(Cpu& c)
{
    store_release(c.done_gen, load_acquire(c.job_gen));
    for (;;) {
        // No timeout: an idle worker sleeps until the next job's kick (its
        // timer wakes it less often than a waiter in a test: it would steal
        // time slices from the vCPUs under test).
        while (!wait_until([&] { return load_acquire(c.job_gen) != c.done_gen; }, 60'000'000, 200'000)) {
        }
        const u64 gen = load_acquire(c.job_gen);
        harness_execute(*c.job);
        store_release(c.done_gen, gen);
        kick(1u << 0);
    }
}

} // namespace

extern "C" [[noreturn]] void secondary_main(u64 ctx)
{
    const u32 id = cpu_id();
    cpu_init(id);
    features_enable_on_this_cpu();
    gic::cpu_init(id);
    Cpu& c = this_cpu();
    store_release(c.online_ctx, ctx);
    fetch_add(c.online_count, u64{1});
    kick(1u << 0);
    switch (ctx >> 32) {
    case kRoleWorker:
        worker_loop(c);
    case kRoleRaceTarget:
        psci_race_target(static_cast<u32>(ctx));
    case kRoleHostile:
    case kRoleHostileShort:
        hostile_secondary(id, static_cast<u32>(ctx));
    default:
        fatal("vCPU%u: started with unknown role, context 0x%lx", id, ctx);
    }
}

i32 start_worker(u32 cpu)
{
    Cpu& c = g_cpu[cpu];
    const u64 before = load_acquire(c.online_count);
    const i32 r = psci::cpu_on(cpu_mpidr(cpu), addr_of(secondary_entry), make_context(kRoleWorker, cpu));
    if (r != psci::kSuccess)
        return r;
    if (!wait_until([&] { return load_acquire(c.online_count) != before; }, 2'000'000))
        return 1;
    fetch_or(g_online, 1u << cpu);
    return r;
}

bool retire_worker(u32 cpu)
{
    static constexpr TestCase kOff{"cpu_off", [](Test&) { psci::cpu_off(); }, 0};
    Cpu& c = g_cpu[cpu];
    __atomic_fetch_and(&g_online, ~(1u << cpu), __ATOMIC_ACQ_REL);
    c.job = &kOff;
    store_release(c.job_gen, c.job_gen + 1);
    kick(1u << cpu);
    return poll_until([&] { return psci::affinity_info(cpu_mpidr(cpu)) == psci::kAffOff; }, 2'000'000);
}
