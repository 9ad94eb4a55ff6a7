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

// Pointer authentication keys (FEAT_PAuth), switched when the guest sees
// the feature (core/cpu_features.h).
#define VCPU_PAC_REGS(X)                                                                 \
    X(apiakeylo_el1) X(apiakeyhi_el1) X(apibkeylo_el1) X(apibkeyhi_el1) X(apdakeylo_el1) \
    X(apdakeyhi_el1) X(apdbkeylo_el1) X(apdbkeyhi_el1) X(apgakeylo_el1) X(apgakeyhi_el1)

struct PacContext {
#define X(r) u64 r{};
    VCPU_PAC_REGS(X)
#undef X
};

// The largest SVE vector length a guest gets (ZCR_EL2.LEN caps it): 512
// bits, or less if the CPU has less. The state is saved at EL2's vector
// length, which is the same cap, so the layout below holds for any CPU.
constexpr u32 kSveMaxVq = 4;                 // in 128-bit quadwords
constexpr u32 kSveMaxVlBytes = kSveMaxVq * 16;
struct SveContext {
    u8 z[32 * kSveMaxVlBytes];               // Z0..Z31 at VL each
    u8 p[16 * kSveMaxVlBytes / 8];           // P0..P15 at VL/8 each
    u8 ffr[kSveMaxVlBytes / 8];
    u64 zcr_el1{};
};
static_assert(__builtin_offsetof(SveContext, p) == 2048, "sve.S layout");
static_assert(__builtin_offsetof(SveContext, ffr) == 2176, "sve.S layout");

// PMUv3 state of a vCPU (pmu.h). Event counters beyond PMCR_EL0.N are
// neither saved nor restored.
constexpr u32 kPmuMaxCounters = 31;
struct PmuContext {
    u64 pmcr{}, cntenset{}, intenset{}, ovsset{}, selr{}, userenr{}, ccfiltr{}, ccntr{};
    u64 evcntr[kPmuMaxCounters]{};
    u64 evtyper[kPmuMaxCounters]{};
    bool phys_active{}; // the overflow PPI is active on the vCPU's behalf (HW LR in flight)
};

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
// Z, P and FFR at EL2's vector length (sve.S); ZCR_EL1 is switched in C++.
extern "C" void sve_save(SveContext* c);
extern "C" void sve_restore(const SveContext* c);

struct Vcpu;
void context_save(Vcpu& v);        // hardware -> v (v is loaded on this pCPU)
void context_load(const Vcpu& v);  // v -> hardware
// Only the EL1 registers and FP/SIMD, which is what a debugger reads and
// writes: the stopped, loaded vCPU's copy in memory (debug.cpp).
void context_save_el1(Vcpu& v);
void context_load_el1(const Vcpu& v);
