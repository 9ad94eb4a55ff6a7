// Synchronous guest exits, dispatched on ESR_EL2.EC through a table.
#include "trap.h"

#include "core/cpu_features.h"
#include "debug.h"
#include "guest_insn.h"
#include "hw_regs.h"
#include "log.h"
#include "pmu.h"
#include "run.h"
#include "sysreg.h"
#include "sysreg_key.h"
#include "trace/trace.h"
#include "vm/lifecycle.h"
#include "vm/pcpu.h"
#include "vm/sched.h"
#include "vm/vm.h"
#include "vm/vm_tables.h"

namespace {

u64 guest_reg(const Vcpu& v, unsigned r) { return r == 31 ? 0 : v.regs.x[r]; }
void set_guest_reg(Vcpu& v, unsigned r, u64 val)
{
    if (r != 31)
        v.regs.x[r] = val;
}

void skip_instruction(Vcpu& v, u64 esr) { insn::skip(v.regs, esr); }

void log_limited(Vcpu& v, u64& counter, const char* what, u64 a, u64 b)
{
    // A buggy or hostile guest must not be able to flood the console. The
    // line names the VM: with several, a vCPU number alone is ambiguous.
    if (counter < 8)
        hyp_log("VM %u vCPU%u: %s 0x%llx (PC 0x%llx)%s", v.vm->id, v.id, what, static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b), counter == 7 ? " [further reports suppressed]" : "");
    counter++;
}

void handle_unknown(Vcpu& v, u64 esr)
{
    log_limited(v, v.stats.undef, "unexpected trap, injecting UNDEF; ESR", esr, v.regs.elr);
    inject_undef(v);
}

// An AArch32 coprocessor access (from EL0: EL1 is AArch64) that reached
// EL2. One whose condition fails completes as a no-op, as the architecture
// allows it to trap anyway; the hypervisor emulates none of the others.
void handle_cp_aarch32(Vcpu& v, u64 esr)
{
    if (!insn::condition_passed(esr, v.regs.spsr)) {
        skip_instruction(v, esr);
        return;
    }
    handle_unknown(v, esr);
}

// The guest's own BKPT while the debugger owns the debug exceptions
// (MDCR_EL2.TDE): the exception it would have taken without it.
void handle_bkpt32(Vcpu& v, u64 esr) { inject_sync(v, esr); }

void handle_wfx(Vcpu& v, u64 esr)
{
    // An AArch32 WFx whose condition fails is a no-op that may still trap.
    const bool executes = insn::condition_passed(esr, v.regs.spsr);
    skip_instruction(v, esr);
    if (!executes)
        return;
    // ISS.TI: 0 WFI, 1 WFE, 2 WFIT, 3 WFET. The timeout forms may complete
    // at any time, which is what they do here: no wait without a deadline.
    const u64 ti = esr & 3;
    if (ti == 1) { // WFE: trapped only when vCPUs share the pCPU
        sched_yield(this_pcpu());
        return;
    }
    if (ti != 0)
        return;
    v.stats.wfi++;
    // WFI may complete at any time: a stepped one does at once, so stepi
    // over it does not wait for the next interrupt.
    if (!debug_stepping(v))
        sched_block(v);
}

void handle_psci(Vcpu& v)
{
    v.stats.hvc++;
    const psci::CallResult r = v.vm->psci.handle(v.id, v.regs.x[0], v.regs.x[1], v.regs.x[2], v.regs.x[3]);
    trace_event(TraceType::Psci, &v, static_cast<u32>(v.regs.x[0]), r.x0);
    v.regs.x[0] = r.x0;
    switch (r.action) {
    case psci::Action::None: break;
    case psci::Action::Standby: sched_block(v); break;
    case psci::Action::PowerDown: sched_power_off(v); break;
    // The VM alone: its vCPUs are taken down at their pCPUs' next passes,
    // this one right after this exit (lifecycle.h).
    case psci::Action::SystemOff: vm_request(*v.vm, VmRequest::Stop); break;
    case psci::Action::SystemReset: vm_request(*v.vm, VmRequest::Reset); break;
    }
}

// HVC: ELR_EL2 is already past the instruction.
void handle_hvc(Vcpu& v, u64) { handle_psci(v); }

void handle_smc(Vcpu& v, u64 esr)
{
    // SMC traps with ELR at the SMC itself (platform.md section 8).
    skip_instruction(v, esr);
    handle_psci(v);
}

// ISS of a trapped MSR/MRS (Arm ARM D17.2.37, EC 0x18).
struct SysregAccess {
    u32 key;   // op0:op1:CRn:CRm:op2
    unsigned rt;
    bool read;
};

SysregAccess decode_sysreg(u64 esr)
{
    const u64 iss = esr::iss(esr);
    return SysregAccess{
        .key = sysreg_key(static_cast<u32>(bits(iss, 21, 20)), static_cast<u32>(bits(iss, 16, 14)),
                          static_cast<u32>(bits(iss, 13, 10)), static_cast<u32>(bits(iss, 4, 1)),
                          static_cast<u32>(bits(iss, 19, 17))),
        .rt = static_cast<unsigned>(bits(iss, 9, 5)),
        .read = (iss & 1) != 0,
    };
}

constexpr u32 kIccSgi1r = sysreg_key(3, 0, 12, 11, 5);
// HCR_EL2.TID1: the identification registers beyond the ID space.
constexpr u32 kRevidr = sysreg_key(3, 0, 0, 0, 6);
constexpr u32 kAidr = sysreg_key(3, 1, 0, 0, 7);
constexpr u32 kSmidr = sysreg_key(3, 1, 0, 0, 6);
constexpr u32 kIccAsgi1r = sysreg_key(3, 0, 12, 11, 6);
constexpr u32 kIccSgi0r = sysreg_key(3, 0, 12, 11, 7);

void handle_sysreg(Vcpu& v, u64 esr)
{
    v.stats.sysreg++;
    const SysregAccess s = decode_sysreg(esr);
    switch (s.key) {
    case kIccSgi1r:
        if (s.read)
            break;
        // A target sharing this pCPU is woken through the vGIC's kick
        // (sched_wake) or lent the pCPU (sched_ipi), remote ones get a
        // physical SGI.
        {
            const u64 sgi1r = guest_reg(v, s.rt);
            // Recorded before the SGI is pending: its target may take it on
            // another pCPU (IrqDeliver) before send_sgi returns here.
            if (trace::on(TraceType::SgiSend))
                trace::emit(TraceType::SgiSend, &v, static_cast<u32>(bits(sgi1r, 27, 24)),
                            v.vm->vgic.sgi_targets(v.id, sgi1r), 0);
            const u32 targets = v.vm->vgic.send_sgi(v.id, sgi1r);
            sched_ipi(this_pcpu(), v, targets);
        }
        skip_instruction(v, esr);
        return;
    case kIccAsgi1r:
    case kIccSgi0r:
        // Group 0 SGIs, and Group 1 SGIs for the other Security state, do
        // not exist for a Non-secure guest of a GIC with one Security state
        // (GICD_CTLR.DS = 1): the write is ignored, as the architecture
        // allows. Both registers are write-only.
        if (s.read)
            break;
        skip_instruction(v, esr);
        return;
    case kRevidr:
    case kAidr:
        // Read-only and the same on every pCPU: the hardware's value.
        if (!s.read)
            break;
        set_guest_reg(v, s.rt, s.key == kRevidr ? read_revidr_el1() : read_aidr_el1());
        skip_instruction(v, esr);
        return;
    case kSmidr:
        break; // SME is hidden: UNDEF, as on a CPU without it
    default:
        // The ID registers (HCR_EL2.TID3): the sanitized view, reserved
        // encodings of the space reading as zero. They are read-only; a
        // write is UNDEFINED (and does not trap; refused all the same).
        if (cpufeat::in_id_space(s.key)) {
            if (!s.read)
                break;
            set_guest_reg(v, s.rt, cpufeat::guest_value(s.key));
            skip_instruction(v, esr);
            return;
        }
        // The PMU, when its accesses trap (pmu.h).
        {
            u64 val = s.read ? 0 : guest_reg(v, s.rt);
            if (pmu_sysreg(s.key, s.read, val)) {
                if (s.read)
                    set_guest_reg(v, s.rt, val);
                skip_instruction(v, esr);
                return;
            }
        }
        // Debug registers trap only while the gdb stub owns the hardware
        // (MDCR_EL2.TDE): the guest's own copy answers.
        if (sysreg_key_op0(s.key) == 2) {
            u64 val = s.read ? 0 : guest_reg(v, s.rt);
            if (debug_sysreg(v, s.key, s.read, val)) {
                if (s.read)
                    set_guest_reg(v, s.rt, val);
                skip_instruction(v, esr);
                return;
            }
        }
        break;
    }
    handle_unknown(v, esr);
}

u64 fault_ipa()
{
    return ((read_hpfar_el2() >> 4) << 12) | (read_far_el2() & 0xfff);
}

// The guest's stage-1 walk read a descriptor from an IPA nothing backs: the
// level of that descriptor, found by walking the guest's tables the way the
// hardware just did. -1 if the walk no longer fails (the guest changed its
// tables meanwhile): then the abort is reported on the access itself.
int failed_walk_level(const Vcpu& v, u64 va)
{
    const s1::Regs r{.sctlr = read_sctlr_el1(), .tcr = read_tcr_el1(), .ttbr0 = read_ttbr0_el1(),
                     .ttbr1 = read_ttbr1_el1()};
    VmTables tables(*v.vm);
    s1::Result res;
    int level = -1;
    s1::translate(r, va, tables, &res, &level);
    return level;
}

void abort_to_guest(Vcpu& v, u64 esr, bool instruction, const char* what, u64 ipa)
{
    log_limited(v, v.stats.mmio_unhandled, what, ipa, v.regs.elr);
    const u64 far = read_far_el2();
    inject_external_abort(v, ExternalAbort{
                                 .instruction = instruction,
                                 .write = !instruction && (esr & esr::kWnr),
                                 .cache_maint = !instruction && (esr & esr::kCm),
                                 .walk_level = (esr & esr::kS1ptw) ? failed_walk_level(v, far) : -1,
                                 .far = far,
                             });
}

void handle_dabt(Vcpu& v, u64 esr)
{
    const u64 ipa = fault_ipa();
    if (esr & esr::kS1ptw) {
        abort_to_guest(v, esr, false, "stage-1 table walk through unbacked IPA, injecting abort; IPA", ipa);
        return;
    }
    MmioAccess a{};
    if (!mmio_decode(esr, ipa, a)) {
        abort_to_guest(v, esr, false, "access without usable syndrome, injecting abort; IPA", ipa);
        return;
    }
    if (a.write)
        a.data = guest_reg(v, a.reg) & mask(a.width * 8u);
    int idx = -1;
    if (v.vm->bus.dispatch(v.id, a, &idx) != MmioResult::Handled) {
        abort_to_guest(v, esr, false, a.write ? "write to unbacked IPA" : "read from unbacked IPA", ipa);
        return;
    }
    if (!a.write)
        set_guest_reg(v, a.reg, mmio_load_result(a));
    v.stats.mmio[idx]++;
    trace_event(TraceType::Mmio, &v, static_cast<u32>(idx), ipa - v.vm->bus.range(static_cast<unsigned>(idx)).base,
                u64{a.width} | u64{a.write} << 8);
    skip_instruction(v, esr);
}

void handle_iabt(Vcpu& v, u64 esr) { abort_to_guest(v, esr, true, "instruction fetch from unbacked IPA", fault_ipa()); }

using Handler = void (*)(Vcpu&, u64);

constexpr auto kHandlers = [] {
    struct Table {
        Handler h[64];
    } t{};
    for (auto& h : t.h)
        h = handle_unknown;
    t.h[static_cast<u8>(esr::Ec::Wfx)] = handle_wfx;
    constexpr esr::Ec kCp[] = {esr::Ec::Cp15Mcr, esr::Ec::Cp15Mcrr, esr::Ec::Cp14Mcr, esr::Ec::Cp14Ldc,
                               esr::Ec::Cp14Mrrc};
    for (esr::Ec ec : kCp)
        t.h[static_cast<u8>(ec)] = handle_cp_aarch32;
    t.h[static_cast<u8>(esr::Ec::Bkpt32)] = handle_bkpt32;
    t.h[static_cast<u8>(esr::Ec::Hvc64)] = handle_hvc;
    t.h[static_cast<u8>(esr::Ec::Smc64)] = handle_smc;
    t.h[static_cast<u8>(esr::Ec::Sysreg)] = handle_sysreg;
    t.h[static_cast<u8>(esr::Ec::IabtLow)] = handle_iabt;
    t.h[static_cast<u8>(esr::Ec::DabtLow)] = handle_dabt;
    t.h[static_cast<u8>(esr::Ec::BreakpointLow)] = handle_hw_breakpoint;
    t.h[static_cast<u8>(esr::Ec::SoftStepLow)] = handle_software_step;
    t.h[static_cast<u8>(esr::Ec::Brk64)] = handle_brk;
    return t;
}();

} // namespace

void handle_sync_exit(Vcpu& v, u64 esr)
{
    kHandlers.h[esr::ec(esr) & 63](v, esr);
}
