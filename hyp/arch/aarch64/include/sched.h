// The per-pCPU vCPU scheduler. Both modes run the same code: in multi-pCPU
// mode each pCPU's run queue holds one vCPU, so it never switches and only
// waits when its vCPU waits; in single-pCPU mode pCPU 0 holds all four and
// time-slices them with the EL2 timer (CNTHP).
#pragma once
#include "types.h"

struct Pcpu;
struct Vcpu;

void sched_init(Pcpu& p);
// Picks the vCPU to enter next, switching contexts if it changes. Waits in
// WFI while nothing here is runnable. Never returns without a vCPU.
Vcpu& schedule(Pcpu& p);

void sched_block(Vcpu& v);      // WFI / CPU_SUSPEND with nothing pending
void sched_power_off(Vcpu& v);  // PSCI CPU_OFF
void sched_yield(Pcpu& p);      // let another runnable vCPU on this pCPU go first
void sched_wake(Pcpu& p, Vcpu& v);  // an interrupt became pending for v, placed on p
void vcpu_reset(Pcpu& p, Vcpu& v, u64 entry, u64 x0);

// CNTHP fired or is no longer wanted: disarm it (run.cpp's interrupt
// handler; the next schedule() re-arms it as needed).
void sched_hyp_timer_off(Pcpu& p);

u64 sched_share_permille(const Vcpu& v);  // share of its pCPU's time since start
