// Bringing vCPUs up and down, and waiting without burning the pCPU: a
// waiter sleeps in WFI (PSTATE.I masked, so no wake-up is lost between its
// check and the WFI) and is woken by the kick SGI of whoever changed the
// condition. Its virtual timer also wakes it every kWakePeriodUs, so a
// wake-up the hypervisor loses costs that long rather than the whole
// timeout (test_wfi_wakeup_by_sgi is the test that such a loss fails).
#pragma once
#include "atomic.h"
#include "cpu.h"
#include "gic.h"
#include "sysreg.h"

u64 us_to_ticks(u64 us);
u64 ticks_to_us(u64 ticks);
// Busy loop on the counter, no exits: the vCPU stays runnable.
void spin_us(u64 us);

void kick(u32 targets);  // the harness SGI; no-op for an empty set

void wake_timer_arm(u64 cntv_deadline);
void wake_timer_disarm();

constexpr u64 kWakePeriodUs = 20'000;

template <typename Pred> bool wait_until(Pred pred, u64 timeout_us, u64 wake_period_us = kWakePeriodUs)
{
    const u64 deadline = cntvct() + us_to_ticks(timeout_us);
    const u64 period = us_to_ticks(wake_period_us);
    const u64 daif = daif_save();
    bool ok = false;
    for (;;) {
        irq_disable();
        if (pred()) {
            ok = true;
            break;
        }
        const u64 now = cntvct();
        if (now >= deadline)
            break;
        wake_timer_arm(deadline - now < period ? deadline : now + period);
        wfi();
        irq_enable();  // take what woke us (kick, timer) before looking again
        isb();
    }
    wake_timer_disarm();
    daif_restore(daif);
    return ok;
}

// For conditions nobody kicks for (another vCPU's PSCI state): look again
// every 20 us without sleeping.
template <typename Pred> bool poll_until(Pred pred, u64 timeout_us)
{
    const u64 deadline = cntpct() + us_to_ticks(timeout_us);
    for (;;) {
        if (pred())
            return true;
        if (cntpct() >= deadline)
            return false;
        spin_us(20);
    }
}

// CPU_ON context: role in the top half, role argument below.
constexpr u64 kRoleWorker = 0;
constexpr u64 kRoleRaceTarget = 1;
constexpr u64 kRoleHostile = 2;       // hostile.cpp: vCPU 1's start in a round
constexpr u64 kRoleHostileShort = 3;  // hostile.cpp: its restarts in the CPU_ON race
constexpr u64 make_context(u64 role, u32 arg) { return role << 32 | arg; }

extern u32 g_online;  // vCPUs running the worker loop (bit n = vCPU n); vCPU 0 always

// CPU_ON `cpu` as a worker; waits until it reports in. Returns the PSCI result,
// or 1 if it was started but never reported.
i32 start_worker(u32 cpu);
// A worker powers itself off with CPU_OFF; waits for AFFINITY_INFO = OFF.
bool retire_worker(u32 cpu);
// What the race target does (t_psci.cpp).
[[noreturn]] void psci_race_target(u32 arg);
