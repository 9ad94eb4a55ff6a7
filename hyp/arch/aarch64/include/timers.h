// The generic timer as a vCPU sees it: its EL1 virtual timer (CNTV_*, PPI
// 27, relative to the VM's CNTVOFF) and EL1 physical timer (CNTP_*, PPI 30,
// relative to the physical counter, which the guest reads directly). Both
// run in the hardware while their vCPU is loaded, unintercepted
// (CNTHCTL_EL2.EL1PCTEN|EL1PCEN); their interrupts reach the guest through
// hardware-mapped list registers; while the vCPU is descheduled their
// registers live in VcpuArch and the scheduler watches their deadlines.
//
// The interrupts are level-sensitive, as the timer outputs are: the vGIC's
// pending state for a timer PPI follows ENABLE && ISTATUS && !IMASK. The
// physical PPI raises the line when the condition arises while the vCPU
// runs; the line is lowered again when the guest's deactivation deactivates
// the physical interrupt (it fires again if still asserted) or when the
// condition is gone, which is sampled at the vCPU's exits while a line is
// high and before the guest reads the pending state (GICR_ISPENDR0).
#pragma once
#include "types.h"

struct Vcpu;

enum class Timer : u8 { Virt = 0, Phys = 1 };

// Physical PPI `intid` fired on this pCPU. True if it is a timer of the
// loaded vCPU `v` (then it stays active: the guest's EOI deactivates it).
bool timers_irq(Vcpu* v, u32 intid);
// After an exit of the loaded `v`: lower the lines of timers whose
// condition is gone. Cheap when no timer line is high.
void timers_exit(Vcpu& v);
// Bring `v`'s timer lines up to date (the guest reads its pending state).
// Only for a vCPU this pCPU owns; others keep their last sampled state.
void timers_sample(Vcpu& v);

// Context switch (context.cpp).
void timers_save(Vcpu& v);
void timers_load(const Vcpu& v);
// Descheduled `v`: counter value of its earliest timer deadline, or ~0;
// and what to do when it passed.
u64 timers_deadline(const Vcpu& v);
void timers_expired(Vcpu& v, u64 now);
