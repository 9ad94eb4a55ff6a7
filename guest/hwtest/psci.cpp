#include "psci.h"

#include "sysreg.h"

namespace psci {

// SMCCC: x0-x3 carry arguments and results; x4-x17 may be clobbered.
#define SMCCC_CALL(insn)                                                                               \
    register u64 x0 asm("x0") = fn;                                                                    \
    register u64 x1 asm("x1") = a1;                                                                    \
    register u64 x2 asm("x2") = a2;                                                                    \
    register u64 x3 asm("x3") = a3;                                                                    \
    asm volatile(insn " #0"                                                                            \
                 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)                                              \
                 :                                                                                     \
                 : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", \
                   "x17", "memory");                                                                   \
    return x0

u64 hvc(u64 fn, u64 a1, u64 a2, u64 a3) { SMCCC_CALL("hvc"); }
u64 smc(u64 fn, u64 a1, u64 a2, u64 a3) { SMCCC_CALL("smc"); }

void cpu_off()
{
    irq_disable();
    hvc(kCpuOff);
    for (;;)
        wfi();
}

void system_off()
{
    hvc(kSystemOff);
    for (;;)
        wfi();
}

} // namespace psci
