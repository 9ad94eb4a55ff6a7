// PMUv3 is virtualized (the lead's policy for issue 11): a guest counts
// only its own execution, never the hypervisor's at EL2, and each vCPU has
// its own counters and configuration.
#include "features.h"
#include "harness.h"
#include "pmu.h"
#include "psci.h"
#include "smp.h"
#include "tests.h"

namespace {

bool skip_without_pmu(Test& t)
{
    if (features_have_pmuv3())
        return false;
    t.skip("no PMUv3 (ID_AA64DFR0_EL1.PMUVer = 0x%x)", g_features.pmu_version);
    return true;
}

void cycle_counter_on(u64 filter)
{
    MSR("pmcntenclr_el0", kPmuCycle);
    MSR("pmccfiltr_el0", filter);
    MSR("pmcr_el0", (MRS("pmcr_el0") & 0xff) | kPmcrE | kPmcrLC);
    MSR("pmccntr_el0", 0);
    MSR("pmcntenset_el0", kPmuCycle);
    isb();
}

} // namespace

// PMCCFILTR_EL0 = P|U|NSH asks for cycles at EL2 only. A guest has no EL2:
// 1000 HVCs must add no cycles (they would be the hypervisor's).
void test_pmu_el2_not_counted(Test& t)
{
    if (skip_without_pmu(t))
        return;
    cycle_counter_on(kFiltP | kFiltU | kFiltNSH);
    u64 c0 = MRS("pmccntr_el0");
    for (u32 i = 0; i < 1000; i++)
        psci::hvc(psci::kVersion);
    isb();
    u64 c1 = MRS("pmccntr_el0");
    t.check(c1 == c0, "1000 HVCs counted %lu cycles with PMCCFILTR_EL0 = P|U|NSH (EL2 only): the hypervisor's",
            c1 - c0);
    // Control: the same counter counts the guest's own EL1 cycles.
    cycle_counter_on(0);
    c0 = MRS("pmccntr_el0");
    spin_us(200);
    isb();
    c1 = MRS("pmccntr_el0");
    t.check(c1 > c0, "the cycle counter does not count at EL1 either (PMCCNTR_EL0 stays 0x%lx)", c1);
    MSR("pmcntenclr_el0", kPmuCycle);
    MSR("pmccfiltr_el0", 0);
    isb();
}

// Each vCPU programs its own event types, filters, enables and start values,
// spins across slices, and finds everything as it left it with counters
// that only moved forward within its own range.
void test_pmu_state_per_vcpu(Test& t)
{
    static u32 n_seen[MAX_CPUS];
    if (skip_without_pmu(t))
        return;
    const u32 me = t.id;
    const u32 n_all = pmcr_n();
    n_seen[me] = n_all;
    t.check(n_all >= 1 && n_all <= 31, "PMCR_EL0.N = %u", n_all);
    const u32 n = n_all < 6 ? n_all : 6;
    constexpr u64 kEvents[] = {0x11, 0x08, 0x00};  // CPU_CYCLES, INST_RETIRED, SW_INCR
    u64 type[6], start[6];
    for (u32 i = 0; i < n; i++) {
        type[i] = kEvents[(me + i) % 3] | (me & 1 ? kFiltU : 0) | (i == 5 ? kFiltP : 0);
        start[i] = u64{me} << 30 | u64{i} << 20;
        MSR("pmselr_el0", i);
        isb();
        MSR("pmxevtyper_el0", type[i]);
        MSR("pmxevcntr_el0", start[i]);
    }
    const u64 cstart = u64{me} << 40;
    const u64 enables = (((0x15u << me) | 1u) & ((1u << n) - 1)) | kPmuCycle;
    const u64 ccfilt = me & 1 ? kFiltU : 0;
    const u64 pmcr = kPmcrE | kPmcrLC | (me & 1 ? kPmcrDP : 0) | (me & 2 ? kPmcrX : 0);
    const u64 userenr = me;
    const u64 selr = (me + 1) % n;
    MSR("pmcntenclr_el0", 0xffffffffull);
    MSR("pmccfiltr_el0", ccfilt);
    MSR("pmccntr_el0", cstart);
    MSR("pmuserenr_el0", userenr);
    MSR("pmselr_el0", selr);
    MSR("pmcr_el0", pmcr);
    MSR("pmcntenset_el0", enables);
    isb();
    if (!t.sync())
        return;
    t.check(n_seen[me] == n_seen[0], "PMCR_EL0.N = %u here, %u on vCPU0", n_seen[me], n_seen[0]);

    // Counters sampled all along: never backwards, never out of our range.
    u64 last[6] = {}, last_cc = cstart;
    for (u32 i = 0; i < n; i++)
        last[i] = start[i];
    const u64 end = cntvct() + us_to_ticks(100'000);
    bool moved_ok = true;
    while (cntvct() < end && moved_ok) {
        const u64 cc = MRS("pmccntr_el0");
        moved_ok = t.check(cc >= last_cc && (cc >> 40) == me, "PMCCNTR_EL0 went from 0x%lx to 0x%lx", last_cc, cc);
        last_cc = cc;
        for (u32 i = 0; i < n && moved_ok; i++) {
            MSR("pmselr_el0", i);
            isb();
            const u64 v = MRS("pmxevcntr_el0") & 0xffffffffull;
            moved_ok = t.check(v >= last[i] && (v >> 30) == me, "PMEVCNTR%u_EL0 went from 0x%lx to 0x%lx", i,
                               last[i], v);
            last[i] = v;
        }
        MSR("pmselr_el0", selr);
        isb();
    }

    const u64 got_pmcr = MRS("pmcr_el0") & (kPmcrE | kPmcrX | kPmcrDP | kPmcrLC);
    t.check(got_pmcr == pmcr, "PMCR_EL0 E/X/DP/LC = 0x%lx, this vCPU set 0x%lx", got_pmcr, pmcr);
    const u64 got_en = MRS("pmcntenset_el0");
    t.check(got_en == enables, "PMCNTENSET_EL0 = 0x%lx, this vCPU set 0x%lx", got_en, enables);
    const u64 got_ccf = MRS("pmccfiltr_el0");
    t.check(got_ccf == ccfilt, "PMCCFILTR_EL0 = 0x%lx, this vCPU set 0x%lx", got_ccf, ccfilt);
    const u64 got_user = MRS("pmuserenr_el0") & 0xf;
    t.check(got_user == userenr, "PMUSERENR_EL0 = 0x%lx, this vCPU set 0x%lx", got_user, userenr);
    const u64 got_selr = MRS("pmselr_el0") & 0x1f;
    t.check(got_selr == selr, "PMSELR_EL0 = %lu, this vCPU set %lu", got_selr, selr);
    for (u32 i = 0; i < n; i++) {
        MSR("pmselr_el0", i);
        isb();
        const u64 ty = MRS("pmxevtyper_el0") & (0xffffull | kFiltP | kFiltU);
        t.check(ty == type[i], "PMEVTYPER%u_EL0 = 0x%lx, this vCPU set 0x%lx", i, ty, type[i]);
    }
    MSR("pmcntenclr_el0", 0xffffffffull);
    MSR("pmuserenr_el0", 0);
    MSR("pmcr_el0", kPmcrLC);
    isb();
}

// Cycle counter overflow with its interrupt enabled: the vCPU takes the
// PMU's PPI (INTID 23, what QEMU's virt DT declares); clearing the overflow
// flag (PMOVSCLR_EL0, done by the handler) ends it.
void test_pmu_overflow_irq(Test& t)
{
    if (skip_without_pmu(t))
        return;
    gic::enable_ppi(t.id, hw::kPmuPpi);
    cycle_counter_on(0);
    MSR("pmcntenclr_el0", kPmuCycle);
    MSR("pmovsclr_el0", 0xffffffffull);
    MSR("pmccntr_el0", ~u64{0} - 200'000);  // 64-bit overflow (PMCR_EL0.LC) soon
    MSR("pmintenset_el1", kPmuCycle);
    const u32 before = irq_count(hw::kPmuPpi);
    MSR("pmcntenset_el0", kPmuCycle);
    isb();
    irq_enable();
    const u64 limit = cntpct() + us_to_ticks(500'000);
    while (irq_count(hw::kPmuPpi) == before && cntpct() < limit) {
    }
    spin_us(20'000);  // a level that the handler did not clear would storm
    irq_disable();
    const u32 taken = irq_count(hw::kPmuPpi) - before;
    const u64 ovs = MRS("pmovsset_el0");
    const u64 cc = MRS("pmccntr_el0");
    MSR("pmintenclr_el1", kPmuCycle);
    MSR("pmcntenclr_el0", kPmuCycle);
    MSR("pmovsclr_el0", 0xffffffffull);
    isb();
    gic::disable_ppi(t.id, hw::kPmuPpi);
    gic::clear_pending(t.id, hw::kPmuPpi);
    t.check(taken == 1, "PMU interrupt (INTID %u) taken %u times in 500 ms after the cycle counter overflowed "
            "(PMCCNTR_EL0 now 0x%lx, PMOVSSET_EL0 0x%lx), want once", hw::kPmuPpi, taken, cc, ovs);
}
