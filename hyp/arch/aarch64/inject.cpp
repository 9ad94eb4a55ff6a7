// Exceptions the hypervisor makes a guest take: it writes the EL1 exception
// registers (the vCPU is loaded, so they are live in hardware) and points
// the guest at its own vector, as the CPU would have (Arm ARM D1.10,
// "Exception entry").
#include "guest_insn.h"
#include "hw_regs.h"
#include "sysreg.h"
#include "trap.h"
#include "vm/vcpu.h"

namespace {

constexpr u64 kPstatePan = bit(22);
constexpr u64 kPstateSsbs = bit(12);
constexpr u64 kSctlrSpan = bit(23);
constexpr u64 kSctlrDssbs = bit(44);

// Where the guest's vector table takes an exception from the state `spsr`
// describes: EL1 with SP_EL0 (0x000), EL1 with SP_EL1 (0x200), EL0 in
// AArch64 (0x400), EL0 in AArch32 (0x600: "lower EL using AArch32").
u64 vector_offset(u64 spsr)
{
    if (insn::aarch32(spsr))
        return 0x600;
    switch (spsr & spsr::kModeMask) {
    case spsr::EL1h: return 0x200;
    case spsr::EL1t: return 0x000;
    default: return 0x400;
    }
}

bool from_el0(u64 spsr) { return insn::aarch32(spsr) || (spsr & spsr::kModeMask) == spsr::EL0t; }

// PSTATE on entry to EL1h: interrupts masked; PAN kept, or set when
// SCTLR_EL1.SPAN is 0 (FEAT_PAN); SSBS from SCTLR_EL1.DSSBS (FEAT_SSBS);
// NZCV, BTYPE, SS and IL clear. (AArch32 keeps PAN at the same bit.)
u64 entry_pstate(u64 old)
{
    u64 p = spsr::EL1h | spsr::kDaifMasked;
    const u64 sctlr = read_sctlr_el1();
    if (bits(read_id_aa64mmfr1_el1(), 23, 20) != 0) // PAN
        p |= (sctlr & kSctlrSpan) ? (old & kPstatePan) : kPstatePan;
    if (bits(read_id_aa64pfr1_el1(), 7, 4) != 0 && (sctlr & kSctlrDssbs)) // SSBS
        p |= kPstateSsbs;
    return p;
}

void enter(Vcpu& v, u64 esr_el1, u64 far, bool set_far)
{
    write_esr_el1(esr_el1);
    if (set_far)
        write_far_el1(far);
    write_elr_el1(v.regs.elr);
    write_spsr_el1(v.regs.spsr);
    v.regs.elr = read_vbar_el1() + vector_offset(v.regs.spsr);
    v.regs.spsr = entry_pstate(v.regs.spsr);
}

} // namespace

// The syndrome of a bus error on real hardware, taken to EL1: ISV is 0 (an
// instruction syndrome is only ever reported to EL2, for stage-2 aborts), so
// IL is 1 whatever the instruction's length (Arm ARM, ESR_ELx.IL: "a Data
// Abort exception for which the value of the ISV bit is 0"; also every
// Instruction Abort). FAR is valid (FnV 0). EA 0: a decode error, as QEMU
// classifies an access to nothing. WnR and CM as the access was. The fault
// status is a synchronous External abort (0x10), or one on a translation
// table walk (0b0101LL, LL the level) when the guest's own stage-1 walk
// read a descriptor from the address that does not exist.
u64 external_abort_syndrome(const ExternalAbort& a, u64 spsr)
{
    const bool el0 = from_el0(spsr);
    const esr::Ec ec = a.instruction ? (el0 ? esr::Ec::IabtLow : esr::Ec::IabtCur)
                                     : (el0 ? esr::Ec::DabtLow : esr::Ec::DabtCur);
    u64 fsc = esr::kFscSyncExternal;
    if (a.walk_level >= 0)
        fsc = esr::kFscSyncExternalWalk + static_cast<u64>(a.walk_level);
    u64 syn = u64{static_cast<u8>(ec)} << 26 | esr::IL | fsc;
    if (!a.instruction) {
        if (a.write || a.cache_maint)
            syn |= esr::kWnr; // CM operations report WnR = 1
        if (a.cache_maint)
            syn |= esr::kCm;
    }
    return syn;
}

void inject_external_abort(Vcpu& v, const ExternalAbort& a)
{
    enter(v, external_abort_syndrome(a, v.regs.spsr), a.far, true);
}

// EC 0 (unknown reason) always reports IL = 1.
void inject_undef(Vcpu& v) { enter(v, esr::IL, 0, false); }

void inject_sync(Vcpu& v, u64 esr_el1) { enter(v, esr_el1, 0, false); }
