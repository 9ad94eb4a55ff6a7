// See timers.h.
#include "timers.h"

#include <sysreg.h>

#include "config.h"
#include "gic.h"
#include "vm/pcpu.h"
#include "vm/vm.h"

namespace {

constexpr u64 kEnable = bit(0);
constexpr u64 kImask = bit(1);
constexpr u64 kIstatus = bit(2);
constexpr Timer kTimers[] = {Timer::Virt, Timer::Phys};

u32 ppi(Timer t) { return t == Timer::Virt ? kGuestLayout.vtimer_ppi : kGuestLayout.ptimer_ppi; }
unsigned idx(Timer t) { return static_cast<unsigned>(t); }
TimerState& saved(Vcpu& v, Timer t) { return v.arch.tg.timer[idx(t)]; }
const TimerState& saved(const Vcpu& v, Timer t) { return v.arch.tg.timer[idx(t)]; }

// The timer's compare value counts in the virtual counter (physical minus
// CNTVOFF) or in the physical counter.
u64 offset(const Vcpu& v, Timer t) { return t == Timer::Virt ? v.vm->cntvoff : 0; }

// The interrupt output of a timer in the hardware (ISTATUS is live there).
bool asserted(u64 ctl) { return (ctl & (kEnable | kIstatus | kImask)) == (kEnable | kIstatus); }
// The same for a saved timer at counter value `now`.
bool asserted_at(const Vcpu& v, Timer t, u64 now)
{
    const TimerState& s = saved(v, t);
    return (s.ctl & kEnable) && !(s.ctl & kImask) && now >= s.cval + offset(v, t);
}

u64 read_ctl(Timer t) { return t == Timer::Virt ? read_cntv_ctl_el0() : read_cntp_ctl_el0(); }
u64 read_cval(Timer t) { return t == Timer::Virt ? read_cntv_cval_el0() : read_cntp_cval_el0(); }
void write_ctl(Timer t, u64 v)
{
    if (t == Timer::Virt)
        write_cntv_ctl_el0(v);
    else
        write_cntp_ctl_el0(v);
}
void write_cval(Timer t, u64 v)
{
    if (t == Timer::Virt)
        write_cntv_cval_el0(v);
    else
        write_cntp_cval_el0(v);
}

bool line(const Vcpu& v, Timer t) { return v.vm->vgic.private_line(v.id, ppi(t)); }
// Returns whether the guest has the interrupt active.
bool set_line(Vcpu& v, Timer t, bool level) { return v.vm->vgic.set_private_line(v.id, ppi(t), level, true); }

// The loaded vCPU's timer `t` no longer asserts its output: lower the line.
// The physical PPI is active on the guest's behalf (it was left active when
// taken, or made active when the vCPU was loaded with the line high); unless
// the guest is handling the interrupt, whose EOI will deactivate it through
// the hardware list register, deactivate it here so it can fire again.
void lower_loaded(Vcpu& v, Timer t)
{
    if (!set_line(v, t, false))
        gic::deactivate(ppi(t));
}

bool loaded_here(const Vcpu& v) { return this_pcpu().vcpu == &v; }

} // namespace

bool timers_irq(Vcpu* v, u32 intid)
{
    for (Timer t : kTimers) {
        if (intid != ppi(t))
            continue;
        if (!v)
            return false;
        set_line(*v, t, true);
        return true;
    }
    return false;
}

void timers_exit(Vcpu& v)
{
    for (Timer t : kTimers)
        if (line(v, t) && !asserted(read_ctl(t)))
            lower_loaded(v, t);
}

void timers_sample(Vcpu& v)
{
    if (v.pcpu != this_pcpu_id())
        return;
    if (loaded_here(v)) {
        // A rising output raises the physical PPI, which is taken as soon
        // as the guest runs again; only a fall needs noticing.
        timers_exit(v);
        return;
    }
    const u64 now = read_cntpct_el0();
    for (Timer t : kTimers) {
        const bool a = asserted_at(v, t, now);
        if (a && !line(v, t)) {
            saved(v, t).phys_active = true;
            set_line(v, t, true);
        } else if (!a && line(v, t) && !set_line(v, t, false)) {
            saved(v, t).phys_active = false;
        }
    }
}

void timers_save(Vcpu& v)
{
    for (Timer t : kTimers) {
        TimerState& s = saved(v, t);
        s.ctl = read_ctl(t);
        s.cval = read_cval(t);
        // Stopped while descheduled: its deadline is watched by the
        // scheduler instead.
        write_ctl(t, 0);
        // The physical activation travels with the vCPU (a hardware list
        // register of its may be in flight).
        s.phys_active = gic::private_active(ppi(t));
        if (s.phys_active)
            gic::clear_active_private(ppi(t));
        // Leave the line equal to the output as it was at the switch.
        const bool a = asserted(s.ctl);
        if (a && !line(v, t)) {
            s.phys_active = true; // pending at the GIC, not taken yet: ours now
            set_line(v, t, true);
        } else if (!a && line(v, t) && !set_line(v, t, false)) {
            s.phys_active = false;
        }
    }
}

void timers_load(const Vcpu& v)
{
    for (Timer t : kTimers) {
        const TimerState& s = saved(v, t);
        // Activation first, so a condition that is already true does not
        // raise a second physical interrupt for an expiry the guest has.
        if (s.phys_active)
            gic::set_active_private(ppi(t));
        else
            gic::clear_active_private(ppi(t));
        write_cval(t, s.cval);
        write_ctl(t, s.ctl);
    }
}

u64 timers_deadline(const Vcpu& v)
{
    u64 best = ~u64{0};
    for (Timer t : kTimers) {
        const TimerState& s = saved(v, t);
        if (!(s.ctl & kEnable) || (s.ctl & kImask) || line(v, t))
            continue;
        const u64 d = s.cval + offset(v, t);
        if (d < best)
            best = d;
    }
    return best;
}

void timers_expired(Vcpu& v, u64 now)
{
    // Delivered as the hardware-backed interrupt it would have been: the
    // physical PPI is made active when the vCPU is loaded, and the guest's
    // EOI deactivates it.
    for (Timer t : kTimers) {
        if (line(v, t) || !asserted_at(v, t, now))
            continue;
        saved(v, t).phys_active = true;
        set_line(v, t, true);
    }
}
