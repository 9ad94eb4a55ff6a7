// The primary vCPU: sets up, runs the test table, powers the VM off.
#include "cpu.h"
#include "fdt.h"
#include "features.h"
#include "gic.h"
#include "harness.h"
#include "modes.h"
#include "psci.h"

extern "C" [[noreturn]] void primary_main(u64 dtb)
{
    g_dtb = dtb;
    cpu_init(0);
    features_enable_on_this_cpu();
    print("\nHWTEST start: architectural tests at EL1 (guest/hwtest), DTB at 0x%lx\n", dtb);
    features_detect();
    features_print();
    gic::dist_init();
    gic::cpu_init(0);
    char mode[16];
    if (bootarg("hwmode", mode, sizeof mode)) {
        if (str_equal(mode, "memscan"))
            memscan_main();
        if (str_equal(mode, "hostile"))
            hostile_main();
        fatal("hwmode=%s: the modes are memscan and hostile (guest/hwtest/modes.h)", mode);
    }
    harness_run_all();
    psci::system_off();
}
