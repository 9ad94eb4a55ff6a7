// Moving a vCPU's hardware-resident state in and out of its pCPU.
#include "context.h"

#include <cpu.h>

#include "config.h"
#include "debug.h"
#include "gic.h"
#include "sysreg.h"
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
    // Stop the outgoing vCPU's timer: while descheduled its deadline is
    // watched by the scheduler through CNTHP instead.
    v.arch.tg.cntv_ctl = read_cntv_ctl_el0();
    v.arch.tg.cntv_cval = read_cntv_cval_el0();
    write_cntv_ctl_el0(0);
    // The physical timer interrupt may be active on behalf of this vCPU (a
    // hardware list register in flight); that activation travels with it.
    v.arch.tg.vtimer_phys_active = gic::private_active(kGuestLayout.vtimer_ppi);
    if (v.arch.tg.vtimer_phys_active)
        gic::clear_active_private(kGuestLayout.vtimer_ppi);
    v.arch.tg.vmcr = read_ich_vmcr_el2();
    v.arch.tg.ap0r0 = read_ich_ap0r0_el2();
    v.arch.tg.ap1r0 = read_ich_ap1r0_el2();
}

void context_load(const Vcpu& v)
{
    context_load_el1(v);
    debug_context_load(v);
    write_vmpidr_el2(v.mpidr | bit(31));
    // Activation first, so a timer condition that is already true does not
    // raise a second physical interrupt for an expiry the guest already has.
    if (v.arch.tg.vtimer_phys_active)
        gic::set_active_private(kGuestLayout.vtimer_ppi);
    else
        gic::clear_active_private(kGuestLayout.vtimer_ppi);
    write_cntv_cval_el0(v.arch.tg.cntv_cval);
    write_cntv_ctl_el0(v.arch.tg.cntv_ctl);
    write_ich_vmcr_el2(v.arch.tg.vmcr);
    write_ich_ap0r0_el2(v.arch.tg.ap0r0);
    write_ich_ap1r0_el2(v.arch.tg.ap1r0);
    isb();
}
