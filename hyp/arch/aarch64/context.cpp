// Moving a vCPU's hardware-resident state in and out of its pCPU.
#include "context.h"

#include <cpu.h>

#include "config.h"
#include "debug.h"
#include "gic.h"
#include "sysreg.h"
#include "timers.h"
#include "vm/vcpu.h"

void context_save_el1(Vcpu& v)
{
#define X(r) v.arch.el1.r = read_##r();
    VCPU_EL1_REGS(X)
#undef X
    fpsimd_save(&v.arch.fp);
}

void context_load_el1(const Vcpu& v)
{
#define X(r) write_##r(v.arch.el1.r);
    VCPU_EL1_REGS(X)
#undef X
    fpsimd_restore(&v.arch.fp);
}

void context_save(Vcpu& v)
{
    context_save_el1(v);
    debug_context_save(v);
    timers_save(v);
    v.arch.tg.vmcr = read_ich_vmcr_el2();
    v.arch.tg.ap0r0 = read_ich_ap0r0_el2();
    v.arch.tg.ap1r0 = read_ich_ap1r0_el2();
}

void context_load(const Vcpu& v)
{
    context_load_el1(v);
    debug_context_load(v);
    write_vmpidr_el2(v.mpidr | bit(31));
    timers_load(v);
    write_ich_vmcr_el2(v.arch.tg.vmcr);
    write_ich_ap0r0_el2(v.arch.tg.ap0r0);
    write_ich_ap1r0_el2(v.arch.tg.ap1r0);
    isb();
}
