// The guest's PMUv3, when the feature policy virtualizes it
// (core/cpu_features.h). Every counter is the guest's (MDCR_EL2.HPMN =
// PMCR_EL0.N), none counts at EL2 (PMUv3p5 and later: MDCR_EL2.HPMD, HCCD;
// before: trapped accesses, pmu_sysreg), and the registers are switched
// with the vCPU when vCPUs share a pCPU.
//
// The overflow interrupt (PPI 23, level-sensitive: PMOVSSET & PMINTENSET
// with counting enabled) reaches the running vCPU through a hardware-mapped
// list register, like the timers (timers.h): the physical PPI is left
// active when taken and the guest's EOI deactivates it; it fires again if
// the guest did not clear the overflow. A descheduled vCPU's counters do
// not move, so its line cannot change until it runs again.
#pragma once
#include "types.h"

struct Vcpu;

constexpr u32 kPmuPpi = 23;

// MDCR_EL2's PMU bits for guests, per the policy.
u64 pmu_mdcr_el2();
// A PMU before PMUv3p5 cannot keep EL2 out of the cycle count by itself:
// every guest access traps (MDCR_EL2.TPM) and is done here on the
// hardware, with the EL2 filter bit (NSH) cleared in every event type and
// PMCCFILTR_EL0 write. `key` is the trapped register (sysreg_key.h); false
// if it is not a PMU register the guest has (then UNDEF).
bool pmu_sysreg(u32 key, bool read, u64& val);
// Physical PPI `intid` fired on this pCPU: true if it is the PMU's, which
// is then the loaded vCPU `v`'s (left active for its EOI).
bool pmu_irq(Vcpu* v, u32 intid);
// After an exit of the loaded `v`: lower its line if the overflow is gone.
void pmu_exit(Vcpu& v);
// Context switch (context.cpp); no-ops unless the PMU is virtualized.
void pmu_save(Vcpu& v);
void pmu_load(const Vcpu& v);
