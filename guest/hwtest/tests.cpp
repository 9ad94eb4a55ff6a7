// The order tests run in. The first brings up the workers. Tests that can
// leave an interrupt or a vCPU disturbed when the hypervisor gets them
// wrong (the level-sensitivity ones, the CPU_ON race) come last.
#include "tests.h"

namespace {
constexpr u32 kCpus01 = 0b0011;
constexpr u32 kCpus012 = 0b0111;
} // namespace

const TestCase kTests[] = {
    {"boot_secondaries", test_boot_secondaries, kCpu0},
    {"mpidr_aff0_is_vcpu_index", test_mpidr, kAllCpus},
    // PSCI
    {"psci_version", test_psci_version, kCpu0},
    {"psci_smc_conduit", test_psci_smc_conduit, kCpu0},
    {"psci_features", test_psci_features, kCpu0},
    {"psci_affinity_info", test_psci_affinity_info, kAllCpus},
    {"psci_cpu_on_errors", test_psci_cpu_on_errors, kCpu0},
    {"psci_cpu_suspend_standby", test_psci_cpu_suspend_standby, kAllCpus},
    // GIC CPU interface, WFI
    {"sgi1r_target_list", test_sgi1r_target_list, kAllCpus},
    {"sgi1r_broadcast", test_sgi1r_broadcast, kAllCpus},
    {"sgi0r_asgi1r_no_undef", test_sgi0r_asgi1r, kAllCpus},
    {"wfi_masked_pending_returns", test_wfi_masked_pending, kAllCpus},
    {"wfi_wakeup_by_sgi", test_wfi_wakeup_by_sgi, kAllCpus},
    // Generic timer
    {"vtimer_cval_readback", test_vtimer_cval, kAllCpus},
    {"vtimer_tval", test_vtimer_tval, kAllCpus},
    {"vtimer_istatus", test_vtimer_istatus, kAllCpus},
    {"vtimer_irq", test_vtimer_irq, kAllCpus},
    {"vtimer_irq_while_others_busy", test_vtimer_irq_others_busy, kAllCpus},
    {"ptimer_cval_readback", test_ptimer_cval, kAllCpus},
    {"ptimer_tval", test_ptimer_tval, kAllCpus},
    {"ptimer_istatus", test_ptimer_istatus, kAllCpus},
    {"ptimer_irq", test_ptimer_irq, kAllCpus},
    {"ptimer_wfi_wakeup", test_ptimer_wfi_wakeup, kAllCpus},
    {"ptimer_irq_while_others_busy", test_ptimer_irq_others_busy, kAllCpus},
    // CPU features
    {"id_regs_same_on_all_vcpus", test_id_regs_same_on_all_vcpus, kAllCpus},
    {"mte_hidden", test_mte_hidden, kAllCpus},
    {"sme_hidden", test_sme_hidden, kAllCpus},
    {"fpsimd_state_per_vcpu", test_fpsimd_state, kAllCpus},
    {"sve_state_per_vcpu", test_sve_state, kAllCpus},
    {"pauth_keys_per_vcpu", test_pauth_keys, kAllCpus},
    {"dt_pmu_node", test_dt_pmu_node, kCpu0},
    {"pmu_el2_cycles_not_counted", test_pmu_el2_not_counted, kAllCpus},
    {"pmu_state_per_vcpu", test_pmu_state_per_vcpu, kAllCpus},
    {"pmu_overflow_irq", test_pmu_overflow_irq, kAllCpus},
    // Injected aborts
    {"dabt_load_unbacked", test_dabt_load, kAllCpus},
    {"dabt_store_unbacked_wnr", test_dabt_store, kAllCpus},
    {"dabt_far_is_va", test_dabt_far_is_va, kAllCpus},
    {"iabt_unbacked", test_iabt, kAllCpus},
    {"dabt_s1_walk_levels", test_dabt_s1_walk, kAllCpus},
    // IPI round trip (metric)
    {"ipi_spin_roundtrip", test_ipi_spin_roundtrip, kCpus01},
    // Last: these can leave state behind on a hypervisor that gets them wrong.
    {"vtimer_level_ppi_disabled", test_vtimer_level_ppi_disabled, kAllCpus},
    {"vtimer_level_irq_masked", test_vtimer_level_irq_masked, kAllCpus},
    {"ptimer_level_ppi_disabled", test_ptimer_level_ppi_disabled, kAllCpus},
    {"ptimer_level_irq_masked", test_ptimer_level_irq_masked, kAllCpus},
    {"psci_cpu_on_race", test_psci_cpu_on_race, kCpus012},
};
const u32 kNumTests = sizeof kTests / sizeof kTests[0];
