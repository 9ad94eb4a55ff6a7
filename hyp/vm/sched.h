// The per-pCPU vCPU scheduler, the same code for every placement: a pCPU
// whose run queue holds one vCPU never switches and only waits when its vCPU
// waits; a pCPU holding several (of one VM or of several) time-slices them
// with the scheduler's timer. Policy only: the arch layer (hyp/vm/arch.h)
// does the context switch and programs the timer, so this file is
// unit-tested on the host with a fake clock.
#pragma once
#include "types.h"

struct Pcpu;
struct Vcpu;

// Fills p's run queue with every vCPU placed on it, of every VM.
void sched_init(Pcpu& p);
// The vCPU to enter next, switching contexts if it changes; nullptr when
// nothing here can run (the scheduler's timer is then armed for the
// earliest deadline of a descheduled vCPU, and the caller waits for an
// interrupt and asks again).
Vcpu* sched_pick(Pcpu& p);

void sched_block(Vcpu& v);          // WFI / CPU_SUSPEND with nothing pending
void sched_power_off(Vcpu& v);      // PSCI CPU_OFF
void sched_yield(Pcpu& p);          // let another runnable vCPU on this pCPU go first
void sched_wake(Pcpu& p, Vcpu& v);  // an interrupt became pending for v, placed on p
// The running `sender` wrote an SGI to `targets` (vCPU ids of its VM): those
// placed here that are runnable but not running are lent the pCPU until
// they have handled it (see sched.cpp, out-of-turn runs).
void sched_ipi(Pcpu& p, const Vcpu& sender, u32 targets);
// Power-on reset of v at `entry` (x0 = `x0`), runnable.
void vcpu_start(Pcpu& p, Vcpu& v, u64 entry, u64 x0);

// v has something new to take (an interrupt, CPU_ON): seen by its pCPU's
// next scheduling pass; a physical kick when that pCPU is another one.
void vcpu_kick(Vcpu& v);

// The scheduler's timer fired or is no longer wanted (the arch's interrupt
// handler; the next sched_pick() re-arms it as needed).
void sched_hyp_timer_off(Pcpu& p);

u64 sched_share_permille(const Vcpu& v);  // share of its pCPU's time since start
