// See pmu.h.
#include "pmu.h"

#include <cpu.h>
#include <sysreg.h>

#include "core/cpu_features.h"
#include "gic.h"
#include "hw_regs.h"
#include "sysreg_key.h"
#include "vm/vm.h"

namespace {

constexpr u64 kPmcrE = bit(0);
constexpr u64 kPmcrP = bit(1);   // write-only: reset the event counters
constexpr u64 kPmcrC = bit(2);   // write-only: reset the cycle counter
constexpr u64 kAllCounters = 0xffff'ffff;

bool on() { return cpufeat::g_state.d.pmu; }
u32 counters() { return static_cast<u32>(bits(read_pmcr_el0(), 15, 11)); }

// The PMU's interrupt output for the state in the registers.
bool asserted(u64 pmcr, u64 ovs, u64 inten) { return (pmcr & kPmcrE) && (ovs & inten & kAllCounters) != 0; }
bool asserted_now() { return asserted(read_pmcr_el0(), read_pmovsset_el0(), read_pmintenset_el1()); }

bool line(const Vcpu& v) { return v.vm->vgic.private_line(v.id, kPmuPpi); }
bool set_line(Vcpu& v, bool level) { return v.vm->vgic.set_private_line(v.id, kPmuPpi, level, true); }

} // namespace

u64 pmu_mdcr_el2()
{
    const cpufeat::Decisions& d = cpufeat::g_state.d;
    if (d.pmu_trap) // an older PMU: every access emulated (pmu_sysreg)
        return mdcr::TPM | mdcr::TPMCR | (counters() & mdcr::kHpmnMask);
    if (d.pmu)
        return mdcr::HPMD | mdcr::HCCD | (counters() & mdcr::kHpmnMask);
    return 0;
}

namespace {

// PMEVTYPER<n>_EL0 / PMCCFILTR_EL0: the EL2 filter bit. A guest has no
// EL2, so for it the bit is RES0: cleared on every write, nothing the
// guest programs counts at EL2.
constexpr u64 kFiltNsh = bit(27);
constexpr u32 kCycleIndex = 31; // PMSELR_EL0 value / PMEVTYPER31 = PMCCFILTR

constexpr u32 pm(u32 op1, u32 crm, u32 op2) { return sysreg_key(3, op1, 9, crm, op2); }
enum PmReg : u32 {
    kPmcr = pm(3, 12, 0), kPmcntenset = pm(3, 12, 1), kPmcntenclr = pm(3, 12, 2), kPmovsclr = pm(3, 12, 3),
    kPmswinc = pm(3, 12, 4), kPmselr = pm(3, 12, 5), kPmceid0 = pm(3, 12, 6), kPmceid1 = pm(3, 12, 7),
    kPmccntr = pm(3, 13, 0), kPmxevtyper = pm(3, 13, 1), kPmxevcntr = pm(3, 13, 2),
    kPmuserenr = pm(3, 14, 0), kPmovsset = pm(3, 14, 3),
    kPmintenset = pm(0, 14, 1), kPmintenclr = pm(0, 14, 2),
};

// PMEVCNTR<n>_EL0 (CRm 8-11) and PMEVTYPER<n>_EL0 (CRm 12-15, n = 31 is
// PMCCFILTR_EL0): op0=3, op1=3, CRn=14, n = CRm[1:0]:op2.
bool evreg(u32 key, u32& n, bool& type)
{
    if (sysreg_key_op0(key) != 3 || sysreg_key_op1(key) != 3 || sysreg_key_crn(key) != 14 ||
        sysreg_key_crm(key) < 8)
        return false;
    n = (sysreg_key_crm(key) & 3) << 3 | sysreg_key_op2(key);
    type = sysreg_key_crm(key) >= 12;
    return true;
}

// The counter PMSELR_EL0 (or an indexed register) names exists for the guest.
bool counter_exists(u32 n) { return n == kCycleIndex || n < counters(); }

// An indexed access through PMSELR_EL0, which is the guest's and restored.
u64 indexed(u32 n, bool type, bool read, u64 val)
{
    const u64 selr = read_pmselr_el0();
    write_pmselr_el0(n);
    isb();
    u64 r = 0;
    if (type) {
        if (read)
            r = read_pmxevtyper_el0();
        else
            write_pmxevtyper_el0(val & ~kFiltNsh);
    } else {
        if (read)
            r = read_pmxevcntr_el0();
        else
            write_pmxevcntr_el0(val);
    }
    write_pmselr_el0(selr);
    isb();
    return r;
}

} // namespace

bool pmu_sysreg(u32 key, bool read, u64& val)
{
    if (!cpufeat::g_state.d.pmu_trap)
        return false;
    u32 n = 0;
    bool type = false;
    if (evreg(key, n, type)) {
        if (!counter_exists(n))
            return false;
        val = indexed(n, type, read, val);
        return true;
    }
    // Write-only and read-only registers: the other direction is UNDEFINED.
    if ((key == kPmswinc && read) || ((key == kPmceid0 || key == kPmceid1) && !read))
        return false;
    switch (key) {
    case kPmxevtyper:
    case kPmxevcntr: {
        const u32 sel = static_cast<u32>(read_pmselr_el0() & 0x1f);
        if (!counter_exists(sel) || (key == kPmxevcntr && sel == kCycleIndex))
            return false;
        val = indexed(sel, key == kPmxevtyper, read, val);
        return true;
    }
#define PM_RW(k, r)                                                                      \
    case k:                                                                              \
        if (read)                                                                        \
            val = read_##r();                                                            \
        else                                                                             \
            write_##r(val);                                                              \
        return true;
        PM_RW(kPmcr, pmcr_el0)
        PM_RW(kPmcntenset, pmcntenset_el0)
        PM_RW(kPmcntenclr, pmcntenclr_el0)
        PM_RW(kPmovsclr, pmovsclr_el0)
        PM_RW(kPmovsset, pmovsset_el0)
        PM_RW(kPmselr, pmselr_el0)
        PM_RW(kPmccntr, pmccntr_el0)
        PM_RW(kPmuserenr, pmuserenr_el0)
        PM_RW(kPmintenset, pmintenset_el1)
        PM_RW(kPmintenclr, pmintenclr_el1)
#undef PM_RW
    case kPmswinc: write_pmswinc_el0(val); return true;
    case kPmceid0: val = read_pmceid0_el0(); return true;
    case kPmceid1: val = read_pmceid1_el0(); return true;
    default: return false;
    }
}

bool pmu_irq(Vcpu* v, u32 intid)
{
    if (intid != kPmuPpi || !on())
        return false;
    if (!v) {
        gic::deactivate(intid);
        return true;
    }
    set_line(*v, true);
    return true;
}

void pmu_exit(Vcpu& v)
{
    if (!on() || !line(v) || asserted_now())
        return;
    if (!set_line(v, false))
        gic::deactivate(kPmuPpi);
}

void pmu_save(Vcpu& v)
{
    if (!on())
        return;
    PmuContext& c = v.arch.pmu;
    c.pmcr = read_pmcr_el0();
    c.cntenset = read_pmcntenset_el0();
    c.intenset = read_pmintenset_el1();
    c.ovsset = read_pmovsset_el0();
    c.selr = read_pmselr_el0();
    c.userenr = read_pmuserenr_el0();
    c.ccfiltr = read_pmccfiltr_el0();
    // Stop before reading the counters, so the next vCPU starts from what
    // it left and this one loses no count it could see.
    write_pmcntenclr_el0(kAllCounters);
    write_pmintenclr_el1(kAllCounters);
    isb();
    c.ccntr = read_pmccntr_el0();
    const u32 n = counters();
    for (u32 i = 0; i < n && i < kPmuMaxCounters; i++) {
        write_pmselr_el0(i);
        isb();
        c.evcntr[i] = read_pmxevcntr_el0();
        c.evtyper[i] = read_pmxevtyper_el0();
    }
    // Leave the output low for the next vCPU: the overflow travels saved.
    write_pmovsclr_el0(kAllCounters);
    isb();
    // The activation of the PPI travels with the vCPU, as the timers' does.
    c.phys_active = gic::private_active(kPmuPpi);
    if (c.phys_active)
        gic::clear_active_private(kPmuPpi);
    const bool a = asserted(c.pmcr, c.ovsset, c.intenset);
    if (a && !line(v)) {
        c.phys_active = true; // pending at the GIC, not taken yet: ours now
        set_line(v, true);
    } else if (!a && line(v) && !set_line(v, false)) {
        c.phys_active = false;
    }
}

void pmu_load(const Vcpu& v)
{
    if (!on())
        return;
    const PmuContext& c = v.arch.pmu;
    if (c.phys_active)
        gic::set_active_private(kPmuPpi);
    else
        gic::clear_active_private(kPmuPpi);
    write_pmcntenclr_el0(kAllCounters);
    write_pmintenclr_el1(kAllCounters);
    write_pmovsclr_el0(kAllCounters);
    const u32 n = counters();
    for (u32 i = 0; i < n && i < kPmuMaxCounters; i++) {
        write_pmselr_el0(i);
        isb();
        write_pmxevtyper_el0(c.evtyper[i]);
        write_pmxevcntr_el0(c.evcntr[i]);
    }
    write_pmselr_el0(c.selr);
    write_pmccfiltr_el0(c.ccfiltr);
    write_pmccntr_el0(c.ccntr);
    write_pmuserenr_el0(c.userenr);
    write_pmcr_el0(c.pmcr & ~(kPmcrP | kPmcrC));
    write_pmovsset_el0(c.ovsset);
    write_pmintenset_el1(c.intenset);
    write_pmcntenset_el0(c.cntenset);
    isb();
}
