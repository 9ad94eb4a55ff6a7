// The fake register file and clock behind fake_arch/include/sysreg.h.
#include "sysreg.h"

#include <cpu.h>

namespace fake {

unsigned wfi_count;

namespace {
Cpu g_cpus[kCpus];
thread_local unsigned t_current;
} // namespace

Cpu& cpu() { return g_cpus[t_current]; }
Cpu& cpu(unsigned n) { return g_cpus[n]; }
void use_cpu(unsigned n) { t_current = n; }

void reset_cpus()
{
    for (Cpu& c : g_cpus) {
        c = Cpu{};
        c.cntfrq_el0 = kFreq;
    }
    wfi_count = 0;
}

void set_counter(u64 t)
{
    for (Cpu& c : g_cpus)
        c.cntpct_el0 = t;
}

void advance(u64 ticks) { set_counter(g_cpus[0].cntpct_el0 + ticks); }

} // namespace fake
