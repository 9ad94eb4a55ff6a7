#include "vm/sched.h"

#include "trace/trace.h"
#include "vm/arch.h"
#include "vm/lifecycle.h"
#include "vm/pcpu.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

namespace {

using arch::kNever;

// How long a vCPU woken by another's IPI may run before the sender, which
// it preempted, gets its turn back. Measured in single mode (docs/modes.md):
// 0.25 ms cut IPI round trips short (2.4-4 ms), 2 ms let a vCPU spin on the
// sender's lock longer; 1 ms kept the IPI round trip (0.77 ms) and took
// sequential disk reads from 160 to 230 MB/s.
constexpr u64 kIpiBoostUs = 1000;

// The counter, read at most once per scheduling pass and only when the pass
// needs it: a pCPU with one vCPU that keeps running needs no time at all
// (under QEMU every counter read takes the emulator's big lock).
class LazyNow {
public:
    u64 operator()()
    {
        if (!have_) {
            t_ = arch::now();
            have_ = true;
        }
        return t_;
    }

private:
    u64 t_ = 0;
    bool have_ = false;
};

// Runnable, and not kept stopped by the debugger.
bool can_run(const Vcpu& v) { return v.state == RunState::Runnable && !v.held; }

u64 slice_ticks() { return arch::ticks_per_second() * g_options.timeslice_ms / 1000; }

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

void switch_to(Pcpu& p, Vcpu& next, TraceSwitch why)
{
    if (p.vcpu)
        trace_event(TraceType::SwitchOut, p.vcpu, static_cast<u32>(why));
    trace_event(TraceType::SwitchIn, &next, static_cast<u32>(why));
    arch::vcpu_switch(p, p.vcpu, next);
    p.vcpu = &next;
    next.stats.scheduled++;
    p.ran_guest = true;
}

// Wake-ups that do not come with an exit of the vCPU itself: CPU_ON, timer
// expiry of descheduled vCPUs, interrupts made pending by others.
void update_states(Pcpu& p, LazyNow& clock)
{
    for (u32 i = 0; i < p.nrun; i++) {
        Vcpu& v = *p.runq[i];
        // Held by the debugger: frozen, its timers and wake-ups are looked
        // at when it is released.
        if (v.held || !vm_vcpu_may_run(p, v))
            continue;
        if (v.state == RunState::Off) {
            u64 entry = 0, ctx = 0;
            if (v.vm->psci.take_pending_on(v.id, entry, ctx))
                vcpu_start(p, v, entry, ctx);
            continue;
        }
        const u64 deadline = &v != p.vcpu ? arch::vcpu_timer_deadline(v) : kNever;
        if (deadline != kNever && deadline <= clock()) {
            p.wakes_preempt = true;
            arch::vcpu_timer_expired(v, clock());
            p.wakes_preempt = false;
        }
        // Nothing can have become pending for a blocked vCPU without a kick.
        // Woken from another pCPU (its VM's IPI, an interrupt routed to
        // it), it may run out of turn like one woken here (sched_wake), for
        // at most kIpiBoostUs: a neighbour's turn is not held up longer.
        if (v.state == RunState::Blocked) {
            const u32 ev = v.vm->vgic.events(v.id);
            if (ev != v.events_seen) {
                v.events_seen = ev;
                if (v.vm->vgic.has_pending(v.id, v.lrs)) {
                    v.state = RunState::Runnable;
                    trace_event(TraceType::Wake, &v, kTraceNoIntid);
                    if (&v != p.vcpu && !p.prefer)
                        p.prefer = &v;
                }
            }
        }
    }
}

// The next runnable vCPU in round-robin order after `giving_way`, which
// gets the pCPU back only if nobody else can run.
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

u64 boost_cap_ticks() { return arch::ticks_per_second() * kIpiBoostUs / 1000000; }

// ---- out-of-turn runs ---------------------------------------------------------
//
// Time-sharing goes by turns: runq[rr] has the pCPU until turn_end. A vCPU
// woken by an interrupt, or the target of the running vCPU's IPI, may run
// *out of turn* (Pcpu::oot) on that turn's time, and when it is done the
// pCPU goes back to the vCPU whose turn it is, with what is left of its
// slice: a sender that waits for the answer to its IPI gets it within the
// boost, and nobody can use boosts to take more than its turns.

void end_oot(Pcpu& p)
{
    if (p.oot && p.oot_eoi)
        p.oot->vm->vgic.set_sgi_exit(p.oot->id, false);
    p.oot = nullptr;
}

void start_oot(Pcpu& p, Vcpu& v, u64 until, bool until_answered)
{
    p.oot = &v;
    p.oot_until = until;
    p.oot_eoi = until_answered;
    if (until_answered) {
        p.oot_mark = v.vm->vgic.sgis_done(v.id);
        v.vm->vgic.set_sgi_exit(v.id, true);
    }
}

bool oot_done(const Pcpu& p, const Vcpu* cur, bool yield, u64 now)
{
    const Vcpu& v = *p.oot;
    return cur != &v || !can_run(v) || yield || now >= p.oot_until ||
           (p.oot_eoi && v.vm->vgic.sgis_done(v.id) != p.oot_mark);
}

// A runnable target of the current vCPU's IPIs other than `in_turn`, taken
// off the lend set; targets that stopped being runnable are dropped.
Vcpu* take_lend_target(Pcpu& p, const Vcpu* in_turn)
{
    for (u32 i = 0; i < p.nrun && p.lend; i++) {
        if (!(p.lend & bit(i)))
            continue;
        p.lend &= ~static_cast<u32>(bit(i));
        Vcpu* t = p.runq[i];
        if (t != in_turn && t->state == RunState::Runnable && can_run(*t))
            return t;
    }
    return nullptr;
}

// Several vCPUs share this pCPU: whose turn, and who runs on it now (and
// why, for the trace).
Vcpu* pick_shared(Pcpu& p, Vcpu* cur, bool yield, Vcpu* woken, bool woken_by_irq, LazyNow& clock,
                  TraceSwitch& why)
{
    const u64 now = clock();
    why = TraceSwitch::Turn;
    if (p.oot && oot_done(p, cur, yield, now)) {
        end_oot(p);
        why = TraceSwitch::Back;
    }
    Vcpu* in_turn = p.runq[p.rr];
    if (now >= p.turn_end || !can_run(*in_turn) || (yield && cur == in_turn)) {
        why = cur && !can_run(*cur) ? TraceSwitch::Block : yield ? TraceSwitch::Yield : TraceSwitch::Turn;
        end_oot(p); // it ran on the turn that just ended
        in_turn = pick_next(p, in_turn);
        if (!in_turn)
            return nullptr;
        p.turn_end = now + slice_ticks();
        p.lend &= ~static_cast<u32>(bit(p.rr)); // its turn answers its IPIs
    }
    if (!p.oot) {
        // A vCPU an interrupt woke runs at once: for the rest of the turn if
        // a physical interrupt or its timer woke it, at most kIpiBoostUs if
        // the running vCPU's IPI did (guests send IPIs holding spinlocks, and
        // the woken vCPU may spin on one while its holder waits off-CPU:
        // WFE does not trap under TCG, so nothing else would end that spin).
        // The target of the running vCPU's IPI that is runnable, but not
        // running, gets the pCPU until it has handled the IPI (its SGI
        // deactivation exits), at most kIpiBoostUs: both may be
        // busy-waiting, and only the SGI write was visible.
        if (woken && woken != in_turn && can_run(*woken)) {
            start_oot(p, *woken, woken_by_irq ? kNever : now + boost_cap_ticks(), false);
            why = TraceSwitch::Boost;
        } else if (Vcpu* t = take_lend_target(p, in_turn)) {
            start_oot(p, *t, now + boost_cap_ticks(), true);
            why = TraceSwitch::Lend;
        }
    }
    Vcpu* next = p.oot ? p.oot : in_turn;
    p.slice_end = p.oot && p.oot_until < p.turn_end ? p.oot_until : p.turn_end;
    return next;
}

// The scheduler's timer fires at the end of the slice (when others share the
// pCPU) or at the earliest timer deadline of a descheduled vCPU, whichever
// is first. It is reprogrammed only when that changes: under QEMU, like the
// counter, its registers take the emulator's big lock.
void arm_hyp_timer(Pcpu& p, bool running)
{
    u64 deadline = running && p.nrun > 1 ? p.slice_end : kNever;
    for (u32 i = 0; i < p.nrun; i++) {
        const Vcpu& v = *p.runq[i];
        if (&v != p.vcpu && v.state != RunState::Off && !v.held) {
            const u64 d = arch::vcpu_timer_deadline(v);
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
    arch::hyp_timer_set(deadline, !p.hyp_timer_armed);
    p.hyp_timer_armed = true;
    p.hyp_timer_cval = deadline;
}

} // namespace

void sched_hyp_timer_off(Pcpu& p)
{
    if (!p.hyp_timer_armed)
        return;
    arch::hyp_timer_stop();
    p.hyp_timer_armed = false;
}

void sched_init(Pcpu& p)
{
    p.nrun = 0;
    for (u32 m = 0; m < g_nvms; m++)
        for (u32 i = 0; i < g_vms[m].nvcpus; i++)
            if (g_vms[m].vcpus[i].pcpu == p.id && p.nrun < kMaxRunq)
                p.runq[p.nrun++] = &g_vms[m].vcpus[i];
    p.rr = p.nrun ? p.nrun - 1 : 0;
    p.boot_ticks = p.acct_start = arch::now();
    arch::hyp_timer_stop();
    p.hyp_timer_armed = false;
}

void vcpu_start(Pcpu& p, Vcpu& v, u64 entry, u64 x0)
{
    // The physical activation of a HW interrupt it had in flight (the timer
    // PPIs) is dropped by the arch reset, which owns that state.
    v.vm->vgic.reset_vcpu(v.id, v.lrs);
    arch::vcpu_reset(p, v, entry, x0);
    v.state = RunState::Runnable;
}

void sched_block(Vcpu& v)
{
    // Read before the check: a kick racing with it moves the count again.
    v.events_seen = v.vm->vgic.events(v.id);
    if (!v.vm->vgic.has_pending(v.id, v.lrs)) {
        v.state = RunState::Blocked;
        v.stats.wfi_blocked++;
        trace_event(TraceType::Block, &v);
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

void vcpu_kick(Vcpu& v)
{
    Pcpu& p = this_pcpu();
    if (v.pcpu == p.id) {
        // Seen by this pCPU's next pass; if another vCPU has the pCPU, the
        // scheduler switches to the woken one.
        sched_wake(p, v);
        return;
    }
    if (p.vcpu)
        p.vcpu->stats.kicks_sent++;
    trace_event(TraceType::KickSend, p.vcpu, v.pcpu);
    arch::kick_pcpu(v.pcpu);
}

Vcpu* sched_pick(Pcpu& p)
{
    LazyNow clock;
    update_states(p, clock);
    Vcpu* const cur = p.vcpu;
    const bool cur_runnable = cur && can_run(*cur);
    const bool yield = p.yield;
    Vcpu* const woken = p.prefer;
    const bool woken_by_irq = p.prefer_now;
    p.yield = false;
    p.prefer = nullptr;
    p.prefer_now = false;
    // Alone on its pCPU a vCPU runs whenever it can: no turns, no clock.
    TraceSwitch why = cur ? TraceSwitch::Block : TraceSwitch::First;
    Vcpu* next = p.nrun > 1 ? pick_shared(p, cur, yield, woken, woken_by_irq, clock, why)
                            : cur_runnable ? cur : pick_next(p, nullptr);
    if (!next) {
        // Nothing runnable here: the caller sleeps until an interrupt (a
        // kick, the loaded vCPU's timer, the scheduler's timer for a
        // descheduled one, the UART).
        account(p, nullptr, clock);
        arm_hyp_timer(p, false);
        return nullptr;
    }
    if (next != cur) {
        if (cur_runnable)
            cur->stats.preempted++;
        switch_to(p, *next, cur ? why : TraceSwitch::First);
    }
    arm_hyp_timer(p, true);
    account(p, next, clock);
    return next;
}

void sched_ipi(Pcpu& p, const Vcpu& sender, u32 targets)
{
    if (p.nrun < 2 || p.vcpu != &sender)
        return;
    for (u32 i = 0; i < p.nrun; i++) {
        const Vcpu& t = *p.runq[i];
        if (t.vm == sender.vm && (targets & bit(t.id)) && &t != &sender && t.state == RunState::Runnable)
            p.lend |= static_cast<u32>(bit(i));
    }
}

u64 sched_share_permille(const Vcpu& v)
{
    const Pcpu& p = g_pcpus[v.pcpu];
    u64 ticks = v.stats.run_ticks;
    const u64 t = arch::now();
    if (p.accounted == &v)
        ticks += t - p.acct_start;
    const u64 total = t - p.boot_ticks;
    return total ? ticks * 1000 / total : 0;
}
