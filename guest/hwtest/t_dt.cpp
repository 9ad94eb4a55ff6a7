// The device tree describes what the guest gets. A virtualized PMUv3 needs
// its node (compatible "arm,armv8-pmuv3", a PPI): without it a guest OS
// cannot use the PMU the ID registers announce.
#include "fdt.h"
#include "features.h"
#include "harness.h"
#include "hw.h"
#include "tests.h"

void test_dt_pmu_node(Test& t)
{
    if (!fdt_valid()) {
        t.skip("booted without a device tree (x0 = 0x%lx)", g_dtb);
        return;
    }
    if (!features_have_pmuv3()) {
        t.skip("no PMUv3 in ID_AA64DFR0_EL1");
        return;
    }
    FdtProp irq;
    if (!t.check(fdt_find("arm,armv8-pmuv3", "interrupts", irq),
                 "no node compatible \"arm,armv8-pmuv3\" with interrupts, though ID_AA64DFR0_EL1.PMUVer = 0x%x",
                 g_features.pmu_version))
        return;
    // GIC binding: <type number flags>, type 1 = PPI, INTID = 16 + number.
    const u32 type = fdt_cell(irq, 0), num = fdt_cell(irq, 1);
    t.check(type == 1 && 16 + num == hw::kPmuPpi, "PMU interrupts = <%u %u ...>, want the PPI INTID %u (<1 %u ...>)",
            type, num, hw::kPmuPpi, hw::kPmuPpi - 16);
}
