// The AArch64 half of the VM layer (hyp/vm/arch.h): the counter and the
// scheduler's timer (CNTHP), moving a vCPU's state in and out of its pCPU,
// vCPU reset, descheduled timers and the kick SGI.
#include <cpu.h>

#include "config.h"
#include "context.h"
#include "firmware.h"
#include "gic.h"
#include "hw_regs.h"
#include "stage2.h"
#include "sysreg.h"
#include "timers.h"
#include "vm/arch.h"
#include "vm/pcpu.h"
#include "vm/vm.h"

namespace {
// SCTLR_EL1 at reset: MMU and caches off, RES1 bits set.
constexpr u64 kSctlrEl1Reset = 0x30d0'0800;
constexpr u64 kTimerEnable = bit(0);

// The VM's translation regime and virtual time on this pCPU.
void load_vm(Pcpu& p, const Vm& vm)
{
    stage2_load(vm.s2);
    write_cntvoff_el2(vm.cntvoff);
    p.arch.vm = &vm;
}
} // namespace

namespace arch {

u64 now() { return read_cntpct_el0(); }
u64 ticks_per_second() { return read_cntfrq_el0(); }

void hyp_timer_set(u64 cval, bool enable)
{
    write_cnthp_cval_el2(cval);
    if (enable)
        write_cnthp_ctl_el2(kTimerEnable);
}

void hyp_timer_stop() { write_cnthp_ctl_el2(0); }

void vcpu_switch(Pcpu& p, Vcpu* prev, Vcpu& next)
{
    if (prev)
        context_save(*prev);
    // CNTVOFF before the timer registers: context_load's timer state is
    // relative to this VM's virtual time.
    if (p.arch.vm != next.vm)
        load_vm(p, *next.vm);
    context_load(next);
    next.regs.hyp_sp = p.stack_top;
}

void vcpu_reset(Pcpu& p, Vcpu& v, u64 entry, u64 x0)
{
    for (u64& r : v.regs.x)
        r = 0;
    v.regs.x[0] = x0;
    v.regs.elr = entry;
    v.regs.spsr = spsr::EL1h | spsr::kDaifMasked;
    v.arch.el1 = El1Context{};
    v.arch.el1.sctlr_el1 = kSctlrEl1Reset;
    v.arch.fp = FpContext{};
    // The CPU features' state (loaded only when the guest has them):
    // zero keys, zero vectors at the smallest VL, a stopped PMU with its
    // overflow interrupt's activation cleared.
    v.arch.pac = PacContext{};
    v.arch.sve = SveContext{};
    v.arch.pmu = PmuContext{};
    // The physical activation of a timer PPI it may have had in flight goes
    // with tg: context_load() clears it if v is loaded. (Its vGIC lines were
    // reset with the private interrupts.)
    v.arch.tg = TimerGicContext{};
    if (p.vcpu == &v)
        context_load(v);
}

u64 vcpu_timer_deadline(const Vcpu& v) { return timers_deadline(v); }
void vcpu_timer_expired(Vcpu& v, u64 now) { timers_expired(v, now); }
void vcpu_sample_lines(Vcpu& v) { timers_sample(v); }

void kick_pcpu(u32 pcpu) { gic::send_sgi(gic::kKickSgi, g_pcpus[pcpu].mpidr); }

void vm_reset_caches(const Vm& vm)
{
    stage2_flush_tlbs(vm.s2);
    // The kernel was written through the data cache.
    sync_icache(vm.ipa_to_pa(vm.ram_ipa + kGuestLayout.kernel_offset), vm.kernel_size);
}

void machine_off() { firmware::system_off(); }
void machine_reset() { firmware::system_reset(); }

} // namespace arch
