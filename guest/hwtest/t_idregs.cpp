// What the guest learns from the ID registers, and what the hidden
// features do. Policy (lead, issue 11): MTE and SME are hidden, so their
// ID fields read 0 (HCR_EL2.TID3 gives a sanitised view) and their
// registers UNDEF (EC 0), exactly as on a CPU without them. The ID
// registers describe one CPU type: every vCPU reads the same values.
#include "harness.h"
#include "smp.h"
#include "tests.h"

namespace {

#define ID_REGS(X)                                                                                             \
    X("midr_el1") X("revidr_el1") X("id_aa64pfr0_el1") X("id_aa64pfr1_el1") X("id_aa64dfr0_el1")               \
    X("id_aa64dfr1_el1") X("id_aa64isar0_el1") X("id_aa64isar1_el1") X(ID_AA64ISAR2_EL1) X("id_aa64mmfr0_el1") \
    X("id_aa64mmfr1_el1") X(ID_AA64MMFR2_EL1) X(ID_AA64ZFR0_EL1) X(ID_AA64SMFR0_EL1) X("ctr_el0")              \
    X("dczid_el0") X("clidr_el1")

#define NAME(r) r,
const char* const kIdNames[] = {ID_REGS(NAME)};
#undef NAME
constexpr u32 kNumIds = sizeof kIdNames / sizeof kIdNames[0];
u64 g_ids[MAX_CPUS][kNumIds];

// The instruction at `pc` must have raised exactly one UNDEF (EC 0).
void expect_undef(Test& t, const char* what, u64 pc)
{
    Fault f;
    if (!t.check(take_fault(f), "%s completed: want an UNDEF (EC 0), as on a CPU without the feature", what))
        return;
    t.check(esr::ec(f.esr) == esr::kEcUnknown && f.elr == pc,
            "%s: exception EC 0x%lx (ESR_EL1 0x%lx) at 0x%lx, want EC 0 (UNDEF) at the instruction 0x%lx", what,
            esr::ec(f.esr), f.esr, f.elr, pc);
}

// MRS of `reg`; returns the PC of the MRS for expect_undef.
#define PROBE_MRS(reg)                                                                  \
    ({                                                                                  \
        u64 pc__, v__ = 0;                                                              \
        asm volatile("adr %0, 1f\n1: mrs %1, " reg : "=&r"(pc__), "+r"(v__)::"memory"); \
        pc__;                                                                           \
    })

} // namespace

void test_id_regs_same_on_all_vcpus(Test& t)
{
    u32 k = 0;
#define READ(r) g_ids[t.id][k++] = MRS(r);
    ID_REGS(READ)
#undef READ
    if (!t.sync())
        return;
    for (u32 i = 0; i < kNumIds; i++)
        t.check(g_ids[t.id][i] == g_ids[0][i], "%s = 0x%lx here, 0x%lx on vCPU0", kIdNames[i], g_ids[t.id][i],
                g_ids[0][i]);
}

void test_mte_hidden(Test& t)
{
    const u64 pfr1 = MRS("id_aa64pfr1_el1");
    t.check(bits(pfr1, 11, 8) == 0, "ID_AA64PFR1_EL1 = 0x%lx: MTE field is %lu, want 0 (hidden)", pfr1,
            bits(pfr1, 11, 8));
    expect_undef(t, "MRS TFSR_EL1", PROBE_MRS(TFSR_EL1));
    expect_undef(t, "MRS GCR_EL1", PROBE_MRS(GCR_EL1));
}

void test_sme_hidden(Test& t)
{
    const u64 pfr1 = MRS("id_aa64pfr1_el1");
    t.check(bits(pfr1, 27, 24) == 0, "ID_AA64PFR1_EL1 = 0x%lx: SME field is %lu, want 0 (hidden)", pfr1,
            bits(pfr1, 27, 24));
    const u64 smfr0 = MRS(ID_AA64SMFR0_EL1);
    t.check(smfr0 == 0, "ID_AA64SMFR0_EL1 = 0x%lx, want 0 (SME hidden)", smfr0);
    expect_undef(t, "MRS SMIDR_EL1", PROBE_MRS(SMIDR_EL1));
    // With CPACR_EL1.SMEN = 0b11 nothing at EL1 traps SMCR_EL1 to EL1 (that
    // would be EC 0x1D), so what the guest sees is the hypervisor's answer.
    // On a CPU without SME the field is RES0 and the write changes nothing.
    const u64 cpacr = MRS("cpacr_el1");
    MSR("cpacr_el1", cpacr | (3u << 24));
    isb();
    expect_undef(t, "MRS SMCR_EL1 (CPACR_EL1.SMEN = 0b11)", PROBE_MRS(SMCR_EL1));
    MSR("cpacr_el1", cpacr);
    isb();
}
