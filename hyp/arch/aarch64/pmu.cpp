// See pmu.h.
#include "pmu.h"

#include <cpu.h>
#include <sysreg.h>

#include "core/cpu_features.h"
#include "gic.h"
#include "hw_regs.h"
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
    if (d.pmu)
        return mdcr::HPMD | mdcr::HCCD | (counters() & mdcr::kHpmnMask);
    if (d.pmu_hw) // hidden: every PMU access traps and is refused (UNDEF)
        return mdcr::TPM | mdcr::TPMCR | (counters() & mdcr::kHpmnMask);
    return 0;
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
