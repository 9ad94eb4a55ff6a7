// The parts of a vCPU that live in hardware while it runs and must be saved
// when another vCPU takes its pCPU (single-pCPU mode). In multi-pCPU mode a
// vCPU never leaves its pCPU, so none of this is switched.
#pragma once
#include "types.h"

// X-macro list of the EL1 system registers a vCPU owns. The debug registers
// (MDSCR_EL1, breakpoints, watchpoints, OS lock) are switched by debug.cpp,
// which knows whether they hold the guest's values or the debugger's.
#define VCPU_EL1_REGS(X)                                                                 \
    X(sctlr_el1) X(cpacr_el1) X(ttbr0_el1) X(ttbr1_el1) X(tcr_el1) X(mair_el1)           \
    X(amair_el1) X(vbar_el1) X(contextidr_el1) X(esr_el1) X(far_el1) X(afsr0_el1)        \
    X(afsr1_el1) X(par_el1) X(cntkctl_el1) X(sp_el0) X(sp_el1) X(elr_el1)                \
    X(spsr_el1) X(tpidr_el0) X(tpidrro_el0) X(tpidr_el1) X(csselr_el1)

struct El1Context {
#define X(r) u64 r{};
    VCPU_EL1_REGS(X)
#undef X
};

struct FpContext {
    u64 q[64]{};  // q0..q31, 128 bits each
    u64 fpsr{};
    u64 fpcr{};
};
static_assert(__builtin_offsetof(FpContext, fpsr) == 512, "fpsimd.S layout");
static_assert(__builtin_offsetof(FpContext, fpcr) == 520, "fpsimd.S layout");

// One EL1 timer of a descheduled vCPU (timers.h).
struct TimerState {
    u64 ctl{};          // CNTx_CTL_EL0 as the guest left it
    u64 cval{};         // CNTx_CVAL_EL0
    bool phys_active{}; // its physical PPI is active on the vCPU's behalf (HW LR in flight)
};

// The timers and the virtual CPU interface state beyond the LRs.
struct TimerGicContext {
    TimerState timer[2]{};  // indexed by Timer (timers.h): virtual, physical
    u64 vmcr{};
    u64 ap0r0{};
    u64 ap1r0{};
};

extern "C" void fpsimd_save(FpContext* c);
extern "C" void fpsimd_restore(const FpContext* c);

struct Vcpu;
void context_save(Vcpu& v);        // hardware -> v (v is loaded on this pCPU)
void context_load(const Vcpu& v);  // v -> hardware
// Only the EL1 registers and FP/SIMD, which is what a debugger reads and
// writes: the stopped, loaded vCPU's copy in memory (debug.cpp).
void context_save_el1(Vcpu& v);
void context_load_el1(const Vcpu& v);
