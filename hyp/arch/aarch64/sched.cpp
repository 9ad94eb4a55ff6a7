#include "sched.h"

#include <cpu.h>

#include "config.h"
#include "context.h"
#include "debug.h"
#include "gic.h"
#include "hw_regs.h"
#include "log.h"
#include "pcpu.h"
#include "sysreg.h"
#include "vm.h"

namespace {

// SCTLR_EL1 at reset: MMU and caches off, RES1 bits set.
constexpr u64 kSctlrEl1Reset = 0x30d0'0800;
constexpr u64 kNever = ~u64{0};

// How long a vCPU woken by another's IPI may run before the sender, which
// it preempted, gets its turn back. Measured in single mode (docs/modes.md):
// 0.25 ms cut IPI round trips short (2.4-4 ms), 2 ms let a vCPU spin on the
// sender's lock longer; 1 ms kept the IPI round trip (0.77 ms) and took
// sequential disk reads from 160 to 230 MB/s.
constexpr u64 kIpiBoostUs = 1000;

constexpr u64 kCntvEnable = bit(0);
constexpr u64 kCntvImask = bit(1);

u64 now() { return read_cntpct_el0(); }

// The counter, read at most once per scheduling pass and only when the pass
// needs it: a pCPU with one vCPU that keeps running needs no time at all.
class LazyNow {
public:
    u64 operator()()
    {
        if (!have_) {
            t_ = now();
            have_ = true;
        }
        return t_;
    }

private:
    u64 t_ = 0;
    bool have_ = false;
};

// Runnable, and not kept stopped by the debugger.
bool can_run(const Vcpu& v) { return v.state == RunState::Runnable && !debug_holds(v); }

u64 slice_ticks() { return read_cntfrq_el0() * g_vm.opts.timeslice_ms / 1000; }

// Physical counter value at which a descheduled vCPU's virtual timer fires,
// or kNever. Only meaningful for a vCPU that is not loaded.
u64 timer_deadline(const Vcpu& v)
{
    const u64 ctl = v.tg.cntv_ctl;
    if (!(ctl & kCntvEnable) || (ctl & kCntvImask) || v.tg.vtimer_phys_active)
        return kNever;
    return v.tg.cntv_cval + g_vm.cntvoff;
}

void account(Pcpu& p, Vcpu* v, LazyNow& clock)
{
    if (p.accounted == v)
        return;
    const u64 t = clock();
    if (p.accounted)
        p.accounted->stats.run_ticks += t - p.acct_start;
    else
        p.idle_ticks += t - p.acct_start;
    p.accounted = v;
    p.acct_start = t;
}

void switch_to(Pcpu& p, Vcpu& next)
{
    if (p.vcpu)
        context_save(*p.vcpu);
    p.vcpu = &next;
    context_load(next);
    next.regs.hyp_sp = p.stack_top;
    next.pcpu = p.id;
    next.stats.scheduled++;
    p.ran_guest = true;
}

// Wake-ups that do not come with an exit of the vCPU itself: CPU_ON, timer
// expiry of descheduled vCPUs, interrupts made pending by others.
void update_states(Pcpu& p, LazyNow& clock)
{
    for (u32 i = 0; i < p.nrun; i++) {
        Vcpu& v = *p.runq[i];
        if (v.state == RunState::Off) {
            u64 entry = 0, ctx = 0;
            if (g_vm.psci.take_pending_on(v.id, entry, ctx))
                vcpu_reset(p, v, entry, ctx);
            continue;
        }
        const u64 deadline = &v != p.vcpu ? timer_deadline(v) : kNever;
        if (deadline != kNever && deadline <= clock()) {
            // The expiry is delivered as the hardware-backed interrupt it
            // would have been: the physical PPI is made active when the vCPU
            // is loaded, and the guest's EOI deactivates it.
            v.tg.vtimer_phys_active = true;
            p.wakes_preempt = true;
            g_vm.vgic.set_private_pending(v.id, kGuestLayout.vtimer_ppi, true);
            p.wakes_preempt = false;
        }
        // Nothing can have become pending for a blocked vCPU without a kick.
        if (v.state == RunState::Blocked) {
            const u32 ev = g_vm.vgic.events(v.id);
            if (ev != v.events_seen) {
                v.events_seen = ev;
                if (g_vm.vgic.has_pending(v.id, v.lrs))
                    v.state = RunState::Runnable;
            }
        }
    }
}

// The next runnable vCPU in round-robin order other than `giving_way`,
// which gets the pCPU back only if nobody else can run. Skipping it matters
// when it ran boosted (out of turn, so rr does not point at it): at its
// slice end, or its yield on hardware that traps WFE, it would otherwise
// come first again and keep the pCPU from the vCPUs waiting their turn,
// among them a preempted lock holder it may be spinning on.
Vcpu* pick_next(Pcpu& p, Vcpu* giving_way)
{
    for (u32 k = 1; k <= p.nrun; k++) {
        const u32 i = (p.rr + k) % p.nrun;
        if (p.runq[i] != giving_way && can_run(*p.runq[i])) {
            p.rr = i;
            return p.runq[i];
        }
    }
    return giving_way && can_run(*giving_way) ? giving_way : nullptr;
}

// CNTHP fires at the end of the slice (when others share the pCPU) or at
// the earliest timer deadline of a descheduled vCPU, whichever is first. It
// is reprogrammed only when that changes: like the counter, CNTHP's
// registers take QEMU's big lock on every access.
void arm_hyp_timer(Pcpu& p, bool running)
{
    u64 deadline = running && p.nrun > 1 ? p.slice_end : kNever;
    for (u32 i = 0; i < p.nrun; i++) {
        const Vcpu& v = *p.runq[i];
        if (&v != p.vcpu && v.state != RunState::Off) {
            const u64 d = timer_deadline(v);
            if (d < deadline)
                deadline = d;
        }
    }
    if (deadline == kNever) {
        sched_hyp_timer_off(p);
        return;
    }
    if (p.hyp_timer_armed && p.hyp_timer_cval == deadline)
        return;
    write_cnthp_cval_el2(deadline);
    if (!p.hyp_timer_armed)
        write_cnthp_ctl_el2(kCntvEnable);
    p.hyp_timer_armed = true;
    p.hyp_timer_cval = deadline;
}

} // namespace

void sched_hyp_timer_off(Pcpu& p)
{
    if (!p.hyp_timer_armed)
        return;
    write_cnthp_ctl_el2(0);
    p.hyp_timer_armed = false;
}

void sched_init(Pcpu& p)
{
    p.nrun = 0;
    for (u32 i = 0; i < g_vm.nvcpus; i++)
        if (vcpu_home_pcpu(i) == p.id)
            p.runq[p.nrun++] = &g_vm.vcpus[i];
    p.rr = p.nrun ? p.nrun - 1 : 0;
    p.boot_ticks = p.acct_start = now();
    write_cnthp_ctl_el2(0);
    p.hyp_timer_armed = false;
}

void vcpu_reset(Pcpu& p, Vcpu& v, u64 entry, u64 x0)
{
    for (u64& r : v.regs.x)
        r = 0;
    v.regs.x[0] = x0;
    v.regs.elr = entry;
    v.regs.spsr = spsr::EL1h | spsr::kDaifMasked;
    v.el1 = El1Context{};
    v.el1.sctlr_el1 = kSctlrEl1Reset;
    v.fp = FpContext{};
    v.tg = TimerGicContext{};
    // The physical activation of a HW interrupt it had in flight (PPI 27) is
    // dropped through tg above: context_load() clears it if v is loaded.
    g_vm.vgic.reset_vcpu(v.id, v.lrs);
    if (p.vcpu == &v)
        context_load(v);
    v.state = RunState::Runnable;
}

void sched_block(Vcpu& v)
{
    // Read before the check: a kick racing with it moves the count again.
    v.events_seen = g_vm.vgic.events(v.id);
    if (!g_vm.vgic.has_pending(v.id, v.lrs)) {
        v.state = RunState::Blocked;
        v.stats.wfi_blocked++;
    }
}

void sched_power_off(Vcpu& v) { v.state = RunState::Off; }

void sched_yield(Pcpu& p)
{
    if (p.nrun > 1)
        p.yield = true;
}

// Only a vCPU that was blocked jumps the queue: it had given up its time
// waiting for this interrupt. A busy one (say, just its timer tick) waits for
// its round-robin turn, or busy vCPUs would steal each other's slices.
void sched_wake(Pcpu& p, Vcpu& v)
{
    if (&v != p.vcpu && p.nrun > 1 && v.state == RunState::Blocked) {
        p.prefer = &v;
        p.prefer_now = p.prefer_now || p.wakes_preempt;
    }
}

Vcpu& schedule(Pcpu& p)
{
    for (;;) {
        LazyNow clock;
        update_states(p, clock);
        Vcpu* cur = p.vcpu;
        const bool cur_runnable = cur && can_run(*cur);
        const bool give_way = p.nrun > 1 && (p.yield || clock() >= p.slice_end);
        p.yield = false;
        // An interrupt that wakes a blocked vCPU (an IPI, its timer, the
        // disk) lets it run at once for the rest of the current slice: the
        // sender of an IPI usually waits for the answer. Round-robin order
        // (rr) and the slice end stay as they were. But when the running
        // vCPU's own IPI did the waking, the boost lasts at most
        // kIpiBoostUs: guests send IPIs holding spinlocks, and the woken
        // vCPU may spin on one while its holder is preempted. WFE does not
        // trap under TCG (HCR_EL2.TWE has no effect), so nothing else would
        // end that spin before the slice. A wake by a physical interrupt or
        // a timer expiry came at a point as arbitrary as a slice end.
        Vcpu* boost = p.prefer;
        const bool boost_capped = boost && !p.prefer_now && cur_runnable;
        p.prefer = nullptr;
        p.prefer_now = false;
        const bool boosted = boost && boost != cur && can_run(*boost);
        Vcpu* next = boosted ? boost : cur_runnable && !give_way ? cur : pick_next(p, cur);
        if (next) {
            if (next != cur) {
                if (cur_runnable)
                    cur->stats.preempted++;
                switch_to(p, *next);
            }
            if ((next != cur && !boosted) || give_way)
                p.slice_end = clock() + slice_ticks();
            if (boosted && boost_capped) {
                const u64 cap = clock() + read_cntfrq_el0() * kIpiBoostUs / 1000000;
                if (cap < p.slice_end)
                    p.slice_end = cap;
            }
            arm_hyp_timer(p, true);
            account(p, next, clock);
            return *next;
        }
        // Nothing runnable here: sleep until an interrupt (a kick, the
        // loaded vCPU's timer, CNTHP for a descheduled one, the UART).
        account(p, nullptr, clock);
        arm_hyp_timer(p, false);
        cpu_wait_interrupt();
        handle_physical_irqs();
        debug_check_stop(p);
    }
}

u64 sched_share_permille(const Vcpu& v)
{
    const Pcpu& p = g_pcpus[v.pcpu];
    u64 ticks = v.stats.run_ticks;
    if (p.accounted == &v)
        ticks += now() - p.acct_start;
    const u64 total = now() - p.boot_ticks;
    return total ? ticks * 1000 / total : 0;
}
