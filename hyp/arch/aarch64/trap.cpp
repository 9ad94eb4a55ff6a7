// Synchronous guest exits, dispatched on ESR_EL2.EC through a table.
#include "trap.h"

#include "debug.h"
#include "hw_regs.h"
#include "log.h"
#include "run.h"
#include "sysreg.h"
#include "sysreg_key.h"
#include "vm/pcpu.h"
#include "vm/sched.h"
#include "vm/vm.h"

namespace {

u64 guest_reg(const Vcpu& v, unsigned r) { return r == 31 ? 0 : v.regs.x[r]; }
void set_guest_reg(Vcpu& v, unsigned r, u64 val)
{
    if (r != 31)
        v.regs.x[r] = val;
}
// The emulated instruction is done: if it was being single-stepped, the
// step is complete (PSTATE.SS = 0) and the step exception comes before the
// next one, as it would have after the real instruction.
void skip_instruction(Vcpu& v)
{
    v.regs.elr += 4;
    v.regs.spsr &= ~spsr::SS;
}

// Where the guest's own vector table takes an exception from its current
// state: EL1 with SP_EL1 (0x200), EL1 with SP_EL0 (0x000), EL0 AArch64 (0x400).
u64 guest_vector_offset(u64 spsr)
{
    switch (spsr & spsr::kModeMask) {
    case spsr::EL1h: return 0x200;
    case spsr::EL1t: return 0x000;
    default: return 0x400;
    }
}

void inject(Vcpu& v, u64 esr_el1, u64 far)
{
    write_esr_el1(esr_el1);
    write_far_el1(far);
    write_elr_el1(v.regs.elr);
    write_spsr_el1(v.regs.spsr);
    v.regs.elr = read_vbar_el1() + guest_vector_offset(v.regs.spsr);
    v.regs.spsr = spsr::EL1h | spsr::kDaifMasked;
}

bool from_el0(const Vcpu& v) { return (v.regs.spsr & spsr::kModeMask) == spsr::EL0t; }

void log_limited(Vcpu& v, u64& counter, const char* what, u64 a, u64 b)
{
    // A buggy or hostile guest must not be able to flood the console.
    if (counter < 8)
        hyp_log("vCPU%u: %s 0x%llx (PC 0x%llx)%s", v.id, what, static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b), counter == 7 ? " [further reports suppressed]" : "");
    counter++;
}

void handle_unknown(Vcpu& v, u64 esr)
{
    log_limited(v, v.stats.undef, "unexpected trap, injecting UNDEF; ESR", esr, v.regs.elr);
    inject_undef(v);
}

void handle_wfx(Vcpu& v, u64 esr)
{
    skip_instruction(v);
    if (esr & 1) { // WFE: trapped only when vCPUs share the pCPU
        sched_yield(this_pcpu());
        return;
    }
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
    v.regs.x[0] = r.x0;
    switch (r.action) {
    case psci::Action::None: break;
    case psci::Action::Standby: sched_block(v); break;
    case psci::Action::PowerDown: sched_power_off(v); break;
    case psci::Action::SystemOff: system_off(false);
    case psci::Action::SystemReset: system_off(true);
    }
}

void handle_hvc(Vcpu& v, u64) { handle_psci(v); }

void handle_smc(Vcpu& v, u64)
{
    // SMC traps with ELR at the SMC itself (platform.md section 8).
    skip_instruction(v);
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
constexpr u32 kIccAsgi1r = sysreg_key(3, 1, 12, 11, 6);
constexpr u32 kIccSgi0r = sysreg_key(3, 2, 12, 11, 7);
constexpr u32 kCntpTval = sysreg_key(3, 3, 14, 2, 0);
constexpr u32 kCntpCtl = sysreg_key(3, 3, 14, 2, 1);
constexpr u32 kCntpCval = sysreg_key(3, 3, 14, 2, 2);

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
        sched_ipi(this_pcpu(), v, v.vm->vgic.send_sgi(v.id, guest_reg(v, s.rt)));
        skip_instruction(v);
        return;
    case kIccAsgi1r:
    case kIccSgi0r:
        // Group 0 SGIs do not exist for a non-secure guest of a DS=1 GIC:
        // the write is ignored, as the architecture allows.
        if (s.read)
            break;
        skip_instruction(v);
        return;
    case kCntpTval:
    case kCntpCtl:
    case kCntpCval:
        // The EL1 physical timer belongs to the hypervisor's pCPU; the guest
        // uses the virtual timer. Reads as zero, writes ignored.
        if (s.read)
            set_guest_reg(v, s.rt, 0);
        skip_instruction(v);
        return;
    default:
        // Debug registers trap only while the gdb stub owns the hardware
        // (MDCR_EL2.TDE): the guest's own copy answers.
        if (sysreg_key_op0(s.key) == 2) {
            u64 val = s.read ? 0 : guest_reg(v, s.rt);
            if (debug_sysreg(v, s.key, s.read, val)) {
                if (s.read)
                    set_guest_reg(v, s.rt, val);
                skip_instruction(v);
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

void handle_dabt(Vcpu& v, u64 esr)
{
    const u64 ipa = fault_ipa();
    MmioAccess a{};
    constexpr u64 kS1ptw = bit(7);
    if ((esr & kS1ptw) || !mmio_decode(esr, ipa, a)) {
        log_limited(v, v.stats.mmio_unhandled, "access without usable syndrome, injecting abort; IPA", ipa,
                    v.regs.elr);
        inject_external_abort(v, false, read_far_el2());
        return;
    }
    if (a.write)
        a.data = guest_reg(v, a.reg) & mask(a.width * 8u);
    int idx = -1;
    if (v.vm->bus.dispatch(v.id, a, &idx) != MmioResult::Handled) {
        log_limited(v, v.stats.mmio_unhandled, a.write ? "write to unbacked IPA" : "read from unbacked IPA", ipa,
                    v.regs.elr);
        inject_external_abort(v, false, read_far_el2());
        return;
    }
    if (!a.write)
        set_guest_reg(v, a.reg, mmio_load_result(a));
    v.stats.mmio[idx]++;
    skip_instruction(v);
}

void handle_iabt(Vcpu& v, u64)
{
    log_limited(v, v.stats.mmio_unhandled, "instruction fetch from unbacked IPA", fault_ipa(), v.regs.elr);
    inject_external_abort(v, true, read_far_el2());
}

using Handler = void (*)(Vcpu&, u64);

constexpr auto kHandlers = [] {
    struct Table {
        Handler h[64];
    } t{};
    for (auto& h : t.h)
        h = handle_unknown;
    t.h[static_cast<u8>(esr::Ec::Wfx)] = handle_wfx;
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

void inject_external_abort(Vcpu& v, bool instruction, u64 far)
{
    const bool el0 = from_el0(v);
    const esr::Ec ec = instruction ? (el0 ? esr::Ec::IabtLow : esr::Ec::IabtCur)
                                   : (el0 ? esr::Ec::DabtLow : esr::Ec::DabtCur);
    inject(v, (u64{static_cast<u8>(ec)} << 26) | esr::IL | esr::kFscSyncExternal, far);
}

void inject_undef(Vcpu& v) { inject(v, esr::IL, 0); }

void inject_sync(Vcpu& v, u64 esr_el1) { inject(v, esr_el1, read_far_el1()); }

void handle_sync_exit(Vcpu& v, u64 esr)
{
    kHandlers.h[esr::ec(esr) & 63](v, esr);
}
