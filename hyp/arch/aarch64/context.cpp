// Moving a vCPU's hardware-resident state in and out of its pCPU.
#include "context.h"

#include <cpu.h>

#include "config.h"
#include "core/cpu_features.h"
#include "debug.h"
#include "gic.h"
#include "pmu.h"
#include "sysreg.h"
#include "timers.h"
#include "vm/vcpu.h"

void context_save_el1(Vcpu& v)
{
#define X(r) v.arch.el1.r = read_##r();
    VCPU_EL1_REGS(X)
#undef X
    fpsimd_save(&v.arch.fp);
    // Pointer authentication keys, when the guest sees the feature
    // (cpu_features.h).
    if (cpufeat::g_state.d.pauth) {
#define X(r) v.arch.pac.r = read_##r();
        VCPU_PAC_REGS(X)
#undef X
    }
}

void context_load_el1(const Vcpu& v)
{
#define X(r) write_##r(v.arch.el1.r);
    VCPU_EL1_REGS(X)
#undef X
    fpsimd_restore(&v.arch.fp);
    if (cpufeat::g_state.d.pauth) {
#define X(r) write_##r(v.arch.pac.r);
        VCPU_PAC_REGS(X)
#undef X
    }
}

// SVE is switched here, not with the EL1 registers the debugger edits: its
// V-register writes (context_load_el1) must not be undone by a restore of
// the Z registers they are the low halves of.
void context_save(Vcpu& v)
{
    context_save_el1(v);
    if (cpufeat::g_state.d.sve) {
        sve_save(&v.arch.sve);
        v.arch.sve.zcr_el1 = read_zcr_el1();
    }
    debug_context_save(v);
    timers_save(v);
    pmu_save(v);
    v.arch.tg.vmcr = read_ich_vmcr_el2();
    v.arch.tg.ap0r0 = read_ich_ap0r0_el2();
    v.arch.tg.ap1r0 = read_ich_ap1r0_el2();
}

void context_load(const Vcpu& v)
{
    context_load_el1(v);
    if (cpufeat::g_state.d.sve) {
        sve_restore(&v.arch.sve); // after the V registers: it overwrites them
        write_zcr_el1(v.arch.sve.zcr_el1);
    }
    debug_context_load(v);
    write_vmpidr_el2(v.mpidr | bit(31));
    timers_load(v);
    pmu_load(v);
    write_ich_vmcr_el2(v.arch.tg.vmcr);
    write_ich_ap0r0_el2(v.arch.tg.ap0r0);
    write_ich_ap1r0_el2(v.arch.tg.ap1r0);
    isb();
}
