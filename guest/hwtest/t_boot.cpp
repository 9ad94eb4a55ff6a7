// Bringing up the secondary vCPUs (PSCI CPU_ON) and what each one is.
#include "harness.h"
#include "psci.h"
#include "smp.h"
#include "tests.h"

void test_boot_secondaries(Test& t)
{
    for (u32 n = 1; n < MAX_CPUS; n++) {
        const i32 r = start_worker(n);
        t.check(r == psci::kSuccess, "CPU_ON(vCPU%u) = %d, want SUCCESS and the vCPU reporting in", n, r);
        const u64 ctx = load_acquire(g_cpu[n].online_ctx);
        t.check(ctx == make_context(kRoleWorker, n), "vCPU%u entered with x0=0x%lx, want the context 0x%lx", n,
                ctx, make_context(kRoleWorker, n));
    }
}

void test_mpidr(Test& t)
{
    const u64 mpidr = MRS("mpidr_el1");
    t.check(bits(mpidr, 7, 0) == t.id, "MPIDR_EL1=0x%lx: Aff0 is not the vCPU index", mpidr);
    t.check(bits(mpidr, 15, 8) == 0 && bits(mpidr, 23, 16) == 0 && bits(mpidr, 39, 32) == 0,
            "MPIDR_EL1=0x%lx: Aff1-3 not 0", mpidr);
    t.check(mpidr & bit(31), "MPIDR_EL1=0x%lx: bit 31 (RES1) clear", mpidr);
}
