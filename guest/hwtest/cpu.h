// Per-vCPU state: identity, interrupt counters, the log of synchronous
// exceptions the tests expect (or must not see), and the harness mailbox.
#pragma once
#include "layout.h"
#include "sysreg.h"
#include "base.h"

struct Frame {
    u64 x[31];
    u64 pc;   // ELR_EL1 at entry; the handler may move it
    u64 spsr;
    u64 pad;
};
static_assert(__builtin_offsetof(Frame, x[30]) == FRAME_X30, "start.S layout");
static_assert(__builtin_offsetof(Frame, pc) == FRAME_PC, "start.S layout");
static_assert(__builtin_offsetof(Frame, spsr) == FRAME_SPSR, "start.S layout");
static_assert(sizeof(Frame) == FRAME_SIZE, "start.S layout");

// A synchronous exception taken at EL1 and resumed from.
struct Fault {
    u64 esr;
    u64 far;
    u64 elr;
};

struct TestCase;

constexpr u32 kMaxIntid = 32;  // SGIs and PPIs: all this guest enables
constexpr u32 kMaxFaults = 8;

struct alignas(64) Cpu {
    u32 id;
    // Interrupts taken (acknowledged through ICC_IAR1_EL1), by INTID.
    u32 irqs[kMaxIntid];
    u64 irq_time[kMaxIntid];       // CNTPCT when last taken
    u64 timer_ctl_at_irq[2];       // CNTV_CTL, CNTP_CTL when their PPI was taken
    u32 spurious;
    u32 other_irqs;                // INTIDs >= kMaxIntid (none expected)
    // Synchronous exceptions since the last fault_reset().
    Fault faults[kMaxFaults];
    u32 nfaults;
    u32 faults_taken;              // consumed by take_fault()
    u32 exc_depth;
    // Harness mailbox (smp.cpp): the vCPU runs `job` when job_gen changes
    // and answers by setting done_gen to it.
    const TestCase* job;
    u64 job_gen;
    u64 done_gen;
    u64 online_ctx;                // context of the latest CPU_ON that reached secondary_main
    u64 online_count;
};

extern Cpu g_cpu[MAX_CPUS];

inline Cpu& this_cpu() { return *reinterpret_cast<Cpu*>(MRS("tpidr_el1")); }
inline u32 cpu_id() { return static_cast<u32>(MRS("mpidr_el1") & 0xff); }
inline u64 cpu_mpidr(u32 id) { return id; }  // Aff0 = index, Aff1-3 = 0

void cpu_init(u32 id);

// Synchronous exception log. The handler resumes after the faulting
// instruction, or, for an instruction abort, at the caller's return
// address (x30): branch to a faulting address with BLR.
void fault_reset();
bool take_fault(Fault& f);
u32 faults_pending();

// Interrupt counters (the handler acknowledges, counts, EOIs).
inline u32 irq_count(u32 intid) { return __atomic_load_n(&this_cpu().irqs[intid], __ATOMIC_ACQUIRE); }
