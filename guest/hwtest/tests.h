// Every test function, by the file that defines it; tests.cpp is the order
// they run in.
#pragma once
#include "harness.h"

// t_boot.cpp
void test_boot_secondaries(Test& t);
void test_mpidr(Test& t);

// t_psci.cpp
void test_psci_version(Test& t);
void test_psci_smc_conduit(Test& t);
void test_psci_features(Test& t);
void test_psci_affinity_info(Test& t);
void test_psci_cpu_on_errors(Test& t);
void test_psci_cpu_suspend_standby(Test& t);
void test_psci_cpu_on_race(Test& t);

// t_gic.cpp
void test_sgi1r_target_list(Test& t);
void test_sgi1r_broadcast(Test& t);
void test_sgi0r_asgi1r(Test& t);
void test_wfi_masked_pending(Test& t);
void test_wfi_wakeup_by_sgi(Test& t);

// t_ipi.cpp
void test_ipi_spin_roundtrip(Test& t);

// t_timer.cpp
void test_ptimer_cval(Test& t);
void test_ptimer_tval(Test& t);
void test_ptimer_istatus(Test& t);
void test_ptimer_irq(Test& t);
void test_ptimer_irq_others_busy(Test& t);
void test_ptimer_wfi_wakeup(Test& t);
void test_vtimer_cval(Test& t);
void test_vtimer_tval(Test& t);
void test_vtimer_istatus(Test& t);
void test_vtimer_irq(Test& t);
void test_vtimer_irq_others_busy(Test& t);

// t_timer_level.cpp
void test_vtimer_level_ppi_disabled(Test& t);
void test_vtimer_level_irq_masked(Test& t);
void test_ptimer_level_ppi_disabled(Test& t);
void test_ptimer_level_irq_masked(Test& t);

// t_idregs.cpp
void test_id_regs_same_on_all_vcpus(Test& t);
void test_mte_hidden(Test& t);
void test_sme_hidden(Test& t);

// t_regstate.cpp
void test_fpsimd_state(Test& t);
void test_sve_state(Test& t);

// t_pauth.cpp
void test_pauth_keys(Test& t);

// t_dt.cpp
void test_dt_pmu_node(Test& t);

// t_pmu.cpp
void test_pmu_el2_not_counted(Test& t);
void test_pmu_state_per_vcpu(Test& t);
void test_pmu_overflow_irq(Test& t);

// t_abort.cpp
void test_dabt_load(Test& t);
void test_dabt_store(Test& t);
void test_dabt_far_is_va(Test& t);
void test_iabt(Test& t);
void test_dabt_s1_walk(Test& t);
