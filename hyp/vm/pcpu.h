// A physical CPU: the vCPU it has loaded, its run queue and scheduler state,
// and what its hardware holds (PcpuArch). Reached through this_pcpu(); only
// its own pCPU writes it, except the statistics the exit table reads.
#pragma once
#include "config.h"
#include "pcpu_arch.h"
#include "trace/trace_ring.h"
#include "types.h"

struct Vcpu;

struct Pcpu {
    u32 id;
    u64 mpidr;
    u64 stack_top;
    Vcpu* vcpu;          // vCPU whose frame SP_EL2 points at while in the guest
    bool online;         // finished its own GIC set-up: a panic stops it (panic.cpp)
    bool ran_guest;      // ever entered a guest (statistics)
    u64 irqs;            // physical interrupts taken
    u64 kicks_received;  // physical kick SGIs taken
    // Scheduler (hyp/vm/sched.cpp): the vCPUs placed here, of any VM.
    Vcpu* runq[kMaxRunq];
    u32 nrun;
    u32 rr;               // index in runq of the vCPU whose turn it is
    u64 turn_end;         // counter value at which that turn ends
    u64 slice_end;        // ... at which the current run is looked at again
    Vcpu* oot;            // running out of turn, on runq[rr]'s time (a boost or a lend)
    u64 oot_until;        // ... at most until then
    bool oot_eoi;         // ... or until it has answered an IPI (sgis_done moved past oot_mark)
    u32 oot_mark;
    u32 lend;             // runq indices of runnable targets of the current vCPU's IPIs
    bool yield;           // current vCPU asked to give way
    Vcpu* prefer;         // woken from Blocked: run it next (sched_wake)
    bool prefer_now;      // ... for the rest of the turn: woken by a physical interrupt or timer
    bool wakes_preempt;   // set while handling physical interrupts and timer expiries
    Vcpu* accounted;      // vCPU whose run time is being counted
    u64 acct_start;
    u64 idle_ticks;
    u64 boot_ticks;       // counter when it started running vCPUs
    bool hyp_timer_armed; // the scheduler's timer is enabled, at hyp_timer_cval
    u64 hyp_timer_cval;
    TraceRing trace;      // its events (hyp/trace), when tracing is on
    PcpuArch arch;
};

extern Pcpu g_pcpus[kMaxPcpus];

// this_pcpu() and this_pcpu_id() come from pcpu_arch.h's cpu_local().
inline Pcpu& this_pcpu() { return *cpu_local<Pcpu>(); }
inline u32 this_pcpu_id() { return this_pcpu().id; }
