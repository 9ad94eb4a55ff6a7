// Aborts the hypervisor injects for IPAs nothing backs (docs: "an
// unemulated guest access becomes an abort injected into the guest"). What
// the guest must see is what a CPU reports for a synchronous external
// abort at EL1 (Arm ARM D17.2.40, ESR_EL1 ISS for Data/Instruction Aborts):
//
// - EC 0x25 (data) / 0x21 (instruction), taken to EL1 from EL1;
// - DFSC/IFSC 0b010000 for the access itself, and 0b0101LL when the abort
//   hit the guest's own stage-1 table walk, LL = the level whose descriptor
//   could not be read;
// - WnR = 1 for a store, 0 for a load; CM = 0; S1PTW = 0 (RES0 for aborts
//   reported at EL1: it describes stage-2 faults, which the guest never sees);
// - FnV = 0 with FAR_EL1 = the faulting virtual address (not the IPA);
// - IL: our reading of the Arm ARM is that IL is 1 for every instruction
//   abort and for a data abort with ISV = 0, and otherwise gives the
//   instruction's size (32-bit for every A64 instruction), so a correct
//   injection from A64 code always has IL = 1. ISV may be 0 (no instruction
//   syndrome: then ISS[23:14] are RES0) or, if 1, must describe the
//   faulting instruction (SAS, SRT, SF).
// ELR_EL1 is the faulting instruction (the handler resumes after it).
#include "harness.h"
#include "smp.h"
#include "tests.h"

namespace {

struct Expect {
    u64 ec;
    u64 fsc;
    bool write;
    u64 far;
    u64 pc;
    const char* what;
};

void check_abort(Test& t, const Expect& e)
{
    Fault f;
    if (!t.check(take_fault(f), "%s: no exception (want EC 0x%lx)", e.what, e.ec))
        return;
    const u64 x = f.esr;
    t.check(esr::ec(x) == e.ec, "%s: ESR_EL1 0x%lx: EC 0x%lx, want 0x%lx", e.what, x, esr::ec(x), e.ec);
    t.check(esr::fsc(x) == e.fsc, "%s: ESR_EL1 0x%lx: FSC 0x%lx, want 0x%lx", e.what, x, esr::fsc(x), e.fsc);
    t.check(esr::il(x), "%s: ESR_EL1 0x%lx: IL = 0; an A64 abort reports IL = 1", e.what, x);
    t.check(!esr::fnv(x) && f.far == e.far, "%s: FAR_EL1 0x%lx (FnV %d), want 0x%lx, the virtual address", e.what,
            f.far, esr::fnv(x), e.far);
    t.check(f.elr == e.pc, "%s: ELR_EL1 0x%lx, want the faulting instruction 0x%lx", e.what, f.elr, e.pc);
    t.check(!esr::s1ptw(x) && !esr::cm(x), "%s: ESR_EL1 0x%lx: S1PTW or CM set", e.what, x);
    if (e.ec == esr::kEcDabtCur) {
        t.check(esr::wnr(x) == e.write, "%s: ESR_EL1 0x%lx: WnR = %d for a %s", e.what, x, esr::wnr(x),
                e.write ? "store" : "load");
        // The probes use a 32-bit LDR/STR of w5.
        t.check(!esr::isv(x) ? esr::isv_syndrome(x) == 0 : esr::isv_syndrome(x) == (2u << 8 | 5u << 2),
                "%s: ESR_EL1 0x%lx: ISV = %d with ISS[23:14] = 0x%lx, want 0 or a syndrome for LDR/STR w5", e.what,
                x, esr::isv(x), esr::isv_syndrome(x));
    } else {
        t.check(bits(x, 24, 13) == 0 && !esr::wnr(x), "%s: ESR_EL1 0x%lx: RES0 bits of an instruction abort set",
                e.what, x);
    }
    t.check(!take_fault(f), "%s: a second exception, ESR_EL1 0x%lx", e.what, f.esr);
}

u64 load32(uptr va)
{
    register u64 w5 asm("x5") = 0;
    u64 pc;
    asm volatile("adr %0, 1f\n1: ldr w5, [%2]" : "=&r"(pc), "+r"(w5) : "r"(va) : "memory");
    return pc;
}

u64 store32(uptr va)
{
    register u64 w5 asm("x5") = 0x1234'5678;
    u64 pc;
    asm volatile("adr %0, 1f\n1: str w5, [%1]" : "=&r"(pc) : "r"(va), "r"(w5) : "memory");
    return pc;
}

} // namespace

void test_dabt_load(Test& t)
{
    const u64 pc = load32(hw::kUnbackedIpa);
    check_abort(t, {esr::kEcDabtCur, esr::kFscSyncExternal, false, hw::kUnbackedIpa, pc, "LDR from unbacked IPA"});
}

void test_dabt_store(Test& t)
{
    const u64 pc = store32(hw::kUnbackedIpa);
    check_abort(t, {esr::kEcDabtCur, esr::kFscSyncExternal, true, hw::kUnbackedIpa, pc, "STR to unbacked IPA"});
}

// Through a Normal-memory alias whose VA differs from the IPA: FAR_EL1 is
// the VA the guest used.
void test_dabt_far_is_va(Test& t)
{
    const u64 pc = load32(hw::kProbeVa);
    check_abort(t, {esr::kEcDabtCur, esr::kFscSyncExternal, false, hw::kProbeVa, pc,
                    "LDR through VA 0x80100000 -> unbacked IPA"});
}

void test_iabt(Test& t)
{
    reinterpret_cast<void (*)()>(hw::kProbeVa)();  // the handler returns here (x30)
    check_abort(t, {esr::kEcIabtCur, esr::kFscSyncExternal, false, hw::kProbeVa, hw::kProbeVa,
                    "branch to VA 0x80100000 -> unbacked IPA"});
}

// The guest's own stage-1 walk reads a descriptor from an unbacked IPA.
void test_dabt_s1_walk(Test& t)
{
    u64 pc = load32(hw::kWalkL3Va);
    check_abort(t, {esr::kEcDabtCur, esr::fsc_walk_external(3), false, hw::kWalkL3Va, pc,
                    "LDR whose level-3 table is at an unbacked IPA"});
    pc = load32(hw::kWalkL2Va);
    check_abort(t, {esr::kEcDabtCur, esr::fsc_walk_external(2), false, hw::kWalkL2Va, pc,
                    "LDR whose level-2 table is at an unbacked IPA"});
    // Level 1: the TTBR1 range, with TTBR1_EL1 itself pointing nowhere.
    const u64 tcr = MRS("tcr_el1");
    MSR("ttbr1_el1", hw::kWalkL1Ttbr1);
    MSR("tcr_el1", tcr & ~u64{TCR_EPD1});
    isb();
    asm volatile("tlbi vmalle1\n dsb nsh\n isb" ::: "memory");
    pc = load32(hw::kWalkL1Va);
    MSR("tcr_el1", tcr);
    MSR("ttbr1_el1", 0);
    isb();
    asm volatile("tlbi vmalle1\n dsb nsh\n isb" ::: "memory");
    check_abort(t, {esr::kEcDabtCur, esr::fsc_walk_external(1), false, hw::kWalkL1Va, pc,
                    "LDR whose level-1 table (TTBR1_EL1) is at an unbacked IPA"});
}
