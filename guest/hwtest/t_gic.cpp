// The GICv3 CPU interface as a guest uses it: SGIs through ICC_SGI1R_EL1
// (target list and broadcast), the Group 0 / alias SGI registers, and WFI
// wake-ups (GICv3 spec IHI 0069; Arm ARM D1.16 for WFI).
#include "harness.h"
#include "smp.h"
#include "tests.h"

namespace {

// SGI `intid` from `sender` must reach exactly the vCPUs in `expect`, once.
void sgi_delivery(Test& t, u32 intid, u32 sender, u32 expect, u64 sgi1r)
{
    const u32 before = irq_count(intid);
    if (!t.sync())
        return;
    if (t.id == sender) {
        dsb_ish();
        MSR(ICC_SGI1R_EL1, sgi1r);
        isb();
    }
    const bool target = expect & (1u << t.id);
    if (target)
        t.check(wait_until([&] { return irq_count(intid) != before; }, 1'000'000),
                "SGI %u (ICC_SGI1R_EL1 = 0x%lx from vCPU%u) not received within 1 s", intid, sgi1r, sender);
    if (!t.sync())
        return;
    irq_enable();
    spin_us(5000);
    irq_disable();
    const u32 got = irq_count(intid) - before;
    t.check(got == (target ? 1u : 0u), "SGI %u (ICC_SGI1R_EL1 = 0x%lx from vCPU%u) received %u times, want %u", intid,
            sgi1r, sender, got, target ? 1u : 0u);
}

} // namespace

void test_sgi1r_target_list(Test& t)
{
    sgi_delivery(t, 3, 1, 0b1101, gic::sgi1r_value(3, 0b1101));
    sgi_delivery(t, 4, 2, 0b0100, gic::sgi1r_value(4, 0b0100));  // to itself
}

void test_sgi1r_broadcast(Test& t)
{
    sgi_delivery(t, 5, 2, 0b1011, gic::sgi1r_broadcast(5));  // IRM = 1: everyone but the sender
}

// ICC_SGI0R_EL1 (Group 0 SGIs) and ICC_ASGI1R_EL1 (Group 1 SGIs for the
// other Security state) are part of the CPU interface: writes complete
// (no UNDEF). This guest put every SGI in Group 1 and the GIC has a single
// Security state, so neither write may deliver anything.
void test_sgi0r_asgi1r(Test& t)
{
    constexpr u32 kSgi0 = 6, kAsgi = 7, kTargets = 0b1110;
    const u32 before0 = irq_count(kSgi0), before1 = irq_count(kAsgi);
    if (!t.sync())
        return;
    if (t.id == 0) {
        u64 pc0, pc1;
        asm volatile("adr %0, 1f\n1: msr " ICC_SGI0R_EL1 ", %1" : "=&r"(pc0) : "r"(gic::sgi1r_value(kSgi0, kTargets)));
        asm volatile("adr %0, 1f\n1: msr " ICC_ASGI1R_EL1 ", %1" : "=&r"(pc1) : "r"(gic::sgi1r_value(kAsgi, kTargets)));
        isb();
        Fault f;
        while (take_fault(f))
            t.check(false, "MSR %s raised EC 0x%lx (ESR_EL1 0x%lx); want no exception",
                    f.elr == pc0 ? "ICC_SGI0R_EL1" : f.elr == pc1 ? "ICC_ASGI1R_EL1" : "(elsewhere)", esr::ec(f.esr),
                    f.esr);
    }
    if (!t.sync())
        return;
    irq_enable();
    spin_us(20'000);
    irq_disable();
    t.check(irq_count(kSgi0) == before0 && irq_count(kAsgi) == before1,
            "SGI %u / %u taken %u / %u times after writes to ICC_SGI0R_EL1 / ICC_ASGI1R_EL1, want none", kSgi0, kAsgi,
            irq_count(kSgi0) - before0, irq_count(kAsgi) - before1);
    t.check(!gic::pending(t.id, kSgi0) && !gic::pending(t.id, kAsgi), "SGI %u or %u left pending (GICR_ISPENDR0 0x%x)",
            kSgi0, kAsgi, mmio_read32(gic::sgi_reg(t.id, GicrSgi::Ispendr0)));
}

// WFI completes when an interrupt is pending, even one PSTATE.I masks.
void test_wfi_masked_pending(Test& t)
{
    constexpr u32 kSgi = 8;
    irq_disable();
    const u32 before = irq_count(kSgi);
    gic::send_sgi(kSgi, 1u << t.id);
    spin_us(1000);
    const u64 fallback = cntvct() + us_to_ticks(500'000);
    wake_timer_arm(fallback);
    const u64 start = cntpct();
    wfi();
    const u64 took = ticks_to_us(cntpct() - start);
    wake_timer_disarm();
    irq_enable();
    isb();
    irq_disable();
    t.check(took < 250'000, "WFI with SGI %u pending (PSTATE.I = 1) returned after %lu us (fallback wake-up at 500 ms)",
            kSgi, took);
    t.check(irq_count(kSgi) == before + 1, "SGI %u taken %u times once unmasked, want once", kSgi,
            irq_count(kSgi) - before);
}

// Rounds of: vCPU 0 in WFI (PSTATE.I masked) until vCPUs 1-3 have each
// set a flag and sent it the same SGI, at staggered times (several senders
// of one SGI coalesce into one pending interrupt; that must not lose the
// wake-up). Every WFI must end by an SGI, never by the 2 s fallback timer
// (a wake-up after 1 s counts as lost): a lost wake-up is a hang a guest
// cannot recover from.
void test_wfi_wakeup_by_sgi(Test& t)
{
    constexpr u32 kRounds = 40, kSgi = 9, kSenders = 3;
    static u32 arrived;
    static u64 sent_at[MAX_CPUS];
    u64 worst = 0;
    u32 lost = 0;
    if (t.id == 0)
        store_relaxed(arrived, 0u);
    for (u32 r = 0; r < kRounds; r++) {
        if (!t.sync())
            return;
        const u32 want = kSenders * (r + 1);
        if (t.id != 0) {
            spin_us(100 + (r * 37 + t.id * 131) % 900);  // vCPU 0 is in its WFI by now, or about to be
            store_relaxed(sent_at[t.id], cntpct());
            fetch_add(arrived, 1u);
            gic::send_sgi(kSgi, 1u << 0);
            continue;
        }
        irq_disable();
        const u64 fallback = cntvct() + us_to_ticks(2'000'000);
        wake_timer_arm(fallback);
        while (load_acquire(arrived) != want && cntvct() < fallback)
            wfi();
        const u64 woke = cntpct();
        wake_timer_disarm();
        irq_enable();
        isb();
        irq_disable();
        if (load_acquire(arrived) != want) {
            lost++;
            continue;
        }
        u64 last = 0;
        for (u32 i = 1; i <= kSenders; i++)
            last = sent_at[i] > last ? sent_at[i] : last;
        const u64 us = woke > last ? ticks_to_us(woke - last) : 0;
        worst = us > worst ? us : worst;
        lost += us > 1'000'000;
    }
    if (t.id == 0) {
        metric("wfi_sgi_wakeup_worst_us", "%lu us", worst);
        t.check(lost == 0, "%u of %u WFIs were not ended by the SGIs (woken by the 2 s fallback instead); worst %lu us",
                lost, kRounds, worst);
    }
}
