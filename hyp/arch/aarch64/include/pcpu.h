// Per-physical-CPU data, reached through TPIDR_EL2.
#pragma once
#include "config.h"
#include "sysreg.h"
#include "types.h"

struct Vcpu;

struct Pcpu {
    u32 id;
    u64 mpidr;
    u64 stack_top;
    Vcpu* vcpu;          // vCPU whose frame SP_EL2 points at while in the guest
    bool online;         // finished its own GIC and MMU set-up
    bool ran_guest;      // ever entered a guest (statistics: which pCPUs ran guest code)
    u64 irqs;            // physical interrupts taken
    u64 kicks_received;  // physical kick SGIs taken
    // Scheduler: the vCPUs placed on this pCPU, round-robin.
    Vcpu* runq[kMaxVcpus];
    u32 nrun;
    u32 rr;               // index in runq of the vCPU picked last
    u64 slice_end;        // counter value at which the current slice ends
    bool yield;           // current vCPU asked to give way (WFE)
    Vcpu* prefer;         // woken from Blocked: run it next (sched_wake)
    bool prefer_now;      // ... for a whole slice: woken by a physical interrupt or timer
    bool wakes_preempt;   // set while handling physical interrupts and timer expiries
    Vcpu* accounted;      // vCPU whose run time is being counted
    u64 acct_start;
    u64 idle_ticks;
    u64 boot_ticks;       // counter when it started running vCPUs
    bool hyp_timer_armed; // CNTHP enabled, at hyp_timer_cval (sched.cpp)
    u64 hyp_timer_cval;
    // What this pCPU's virtual CPU interface holds, as last written or read
    // (vif.h): ICH_LR<n>_EL2 and ICH_HCR_EL2.
    u64 vif_lr[kMaxHwListRegs];
    u64 vif_hcr;
};

extern Pcpu g_pcpus[kMaxPcpus];

inline Pcpu& this_pcpu() { return *reinterpret_cast<Pcpu*>(read_tpidr_el2()); }
inline u32 this_pcpu_id() { return this_pcpu().id; }
