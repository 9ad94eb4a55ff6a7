// The per-pCPU run loop: enter a guest, take an exit, handle it, re-enter.
// A pCPU with nothing to run waits in WFI, which costs the host nothing under
// TCG, and is woken by a physical interrupt: a vCPU's timer, the UART, the
// scheduler's timer, or a kick SGI from another pCPU that made something
// pending for one of its vCPUs.
#include "run.h"

#include <cpu.h>

#include "consoles.h"
#include "core/cpu_features.h"
#include "debug.h"
#include "firmware.h"
#include "frame.h"
#include "gic.h"
#include "host_irq.h"
#include "hyp_stop.h"
#include "hw_regs.h"
#include "log.h"
#include "pmu.h"
#include "sysreg.h"
#include "timers.h"
#include "trace/trace.h"
#include "trace_points.h"
#include "trap.h"
#include "vif.h"
#include "vm/pcpu.h"
#include "vm/sched.h"
#include "vm/stats.h"
#include "vm/vm.h"

extern "C" [[noreturn]] void guest_enter(GuestRegs* regs);

namespace {

GuestRegs* prepare_entry(Vcpu& v)
{
    if (trace::on(TraceType::IrqDeliver)) {
        u64 before[kMaxHwListRegs];
        for (unsigned i = 0; i < kMaxHwListRegs; i++)
            before[i] = v.lrs.lr[i];
        v.vm->vgic.flush(v.id, v.lrs);
        trace_lr_delivered(v, before, v.lrs);
    } else {
        v.vm->vgic.flush(v.id, v.lrs);
    }
    vif_load(this_pcpu(), v);
    debug_before_entry(v);
    trace_event(TraceType::GuestEnter, &v);
    return &v.regs;
}

// EL2 state for running guests on this pCPU, the same for every VM; the
// per-VM part (stage 2, CNTVOFF) is loaded when a vCPU of another VM is
// switched in (vcpu_ops.cpp).
void enter_guest_context(Pcpu& p)
{
    // Which CPU features the guest sees, and so what is switched or
    // trapped here, is the policy in core/cpu_features.h
    // (docs/architecture.md, "CPU features the guest sees"). The ID
    // registers are answered from its sanitized view (TID3), REVIDR, AIDR
    // and SMIDR by the trap handler (TID1: SME is hidden).
    const cpufeat::Decisions& d = cpufeat::g_state.d;
    u64 hcr = hcr::VM | hcr::SWIO | hcr::FMO | hcr::IMO | hcr::AMO | hcr::FB | hcr::BSU_IS | hcr::TWI |
              hcr::TSC | hcr::RW | hcr::TID1 | hcr::TID3;
    // Pointer authentication: the guest's keys, switched with the vCPU.
    if (d.pauth)
        hcr |= hcr::API | hcr::APK;
    // RAS is hidden: its error record registers trap and are refused.
    if (d.ras)
        hcr |= hcr::TERR;
    // Sharing a pCPU, a vCPU spinning in WFE on a lock held by a descheduled
    // vCPU should give way; alone on its pCPU there is nobody to give way to.
    if (p.nrun > 1)
        hcr |= hcr::TWE;
    write_hcr_el2(hcr);
    // EL1 reaches the physical counter and its own physical timer
    // (EL1PCTEN, EL1PCEN): both timers run in hardware (timers.h).
    write_cnthctl_el2(bit(0) | bit(1));
    // FP/SIMD and SVE do not trap (TFP, TZ clear): their state is switched
    // eagerly with the vCPU (context.cpp). SME (TSM, RES1 without SME),
    // trace (TTA) and activity monitors (TAM) trap: hidden.
    write_cptr_el2(cptr::kRes1 | cptr::TTA | (d.amu ? cptr::TAM : 0));
    if (d.sve)
        write_zcr_el2(kSveMaxVq - 1);
    // The PMU's counters are the guest's and never count EL2, or every PMU
    // access traps (pmu.h). The debugger's TDE is kept (debug.cpp).
    write_mdcr_el2((read_mdcr_el2() & mdcr::TDE) | pmu_mdcr_el2());
    write_vpidr_el2(read_midr_el1());
    write_ich_vmcr_el2(0);
    vif_init(p);
    isb();
}

// Picks the vCPU to enter; waits for interrupts while nothing can run.
Vcpu& schedule(Pcpu& p)
{
    for (;;) {
        if (Vcpu* v = sched_pick(p))
            return *v;
        trace_event(TraceType::Idle, nullptr);
        cpu_wait_interrupt();
        trace_event(TraceType::IdleEnd, nullptr);
        handle_physical_irqs();
        debug_check_stop(p);
    }
}

[[noreturn]] void park_forever(Pcpu& p)
{
    for (;;) {
        cpu_wait_interrupt();
        handle_physical_irqs();
        debug_check_stop(p); // the stub's pCPU reports stops even without vCPUs
    }
}

} // namespace

u32 handle_physical_irqs()
{
    if (hyp_stopping()) // another pCPU panicked and kicked this one
        hyp_stop_park();
    Pcpu& p = this_pcpu();
    p.wakes_preempt = true;
    u32 first = gic::kSpurious;
    for (;;) {
        const u32 id = gic::ack();
        if (id >= gic::kSpurious) {
            p.wakes_preempt = false;
            return first;
        }
        if (first == gic::kSpurious)
            first = id;
        gic::eoi(id);
        p.irqs++;
        if (id == gic::kKickSgi) {
            if (p.nrun) // not the boot-time release of a parked pCPU
                p.kicks_received++;
            trace_event(TraceType::KickRecv, p.vcpu);
            gic::deactivate(id);
        } else if (timers_irq(p.vcpu, id)) {
            // A timer of the loaded vCPU. Left active: the guest's EOI
            // deactivates it through the hardware list register, so it
            // cannot fire again before that.
        } else if (pmu_irq(p.vcpu, id)) {
            // The loaded vCPU's PMU overflow: left active for its EOI.
        } else if (id == kHypTimerPpi) {
            // The scheduler's deadline passed; it re-arms before any entry.
            sched_hyp_timer_off(p);
            gic::deactivate(id);
        } else if (id == g_host_uart_intid) {
            drain_physical_uart();
            gic::deactivate(id);
        } else if (host_irq_dispatch(id)) {
            gic::deactivate(id);
        } else {
            gic::deactivate(id);
            if (id != kGuestLayout.maintenance_ppi && id != kGuestLayout.vtimer_ppi &&
                id != kGuestLayout.ptimer_ppi)
                hyp_log("unexpected physical interrupt %u", id);
        }
    }
}

extern "C" GuestRegs* handle_guest_exit(u64 kind, GuestRegs* regs)
{
    Pcpu& p = this_pcpu();
    Vcpu& v = *p.vcpu;
    HYP_ASSERT(regs == &v.regs);
    v.stats.exits++;
    if (trace::on(TraceType::IrqAck) || trace::on(TraceType::IrqDone)) {
        u64 at_entry[kMaxHwListRegs];
        for (unsigned i = 0; i < kMaxHwListRegs; i++)
            at_entry[i] = p.arch.vif_lr[i];
        vif_save(p, v);
        trace_lr_changes(v, at_entry, v.lrs);
    } else {
        vif_save(p, v);
    }
    v.vm->vgic.fold(v.id, v.lrs);
    timers_exit(v);
    pmu_exit(v);
    vif_quiesce(p, v);
    switch (kind) {
    case EXIT_SYNC: {
        const u64 esr = read_esr_el2();
        trace_exit(v, kind, esr);
        handle_sync_exit(v, esr);
        break;
    }
    case EXIT_IRQ: {
        v.stats.irq++;
        const u32 first = handle_physical_irqs();
        trace_event(TraceType::ExitIrq, &v, first);
        break;
    }
    default:
        trace_exit(v, kind, read_esr_el2());
        // An SError or FIQ caused by the guest is reported and the guest
        // goes on; the hypervisor does not stop for it.
        hyp_log("VM %u vCPU%u: %s from guest at PC 0x%llx, ESR 0x%llx", v.vm->id, v.id,
                kind == EXIT_FIQ ? "FIQ" : "SError",
                static_cast<unsigned long long>(v.regs.elr), static_cast<unsigned long long>(read_esr_el2()));
        break;
    }
    debug_check_stop(p);
    return prepare_entry(schedule(p));
}

void run_vcpus()
{
    Pcpu& p = this_pcpu();
    sched_init(p);
    if (p.nrun == 0)
        park_forever(p); // no vCPU placed here (e.g. pCPUs 1-3 in single mode)
    enter_guest_context(p);
    for (u32 i = 0; i < p.nrun; i++) {
        Vcpu& v = *p.runq[i];
        v.lrs.num = gic::num_list_regs();
        // Each VM's boot vCPU starts at its kernel with x0 = its device
        // tree; the others wait, powered off, for the guest's PSCI CPU_ON.
        if (v.vm->psci.state(v.id) == psci::PowerState::On)
            vcpu_start(p, v, v.vm->ram_ipa + kGuestLayout.kernel_offset, v.vm->ram_ipa + kGuestLayout.dtb_offset);
        else
            v.state = RunState::Off;
    }
    guest_enter(prepare_entry(schedule(p)));
}
