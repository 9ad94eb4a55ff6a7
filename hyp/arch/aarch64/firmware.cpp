#include "firmware.h"

namespace {
u64 smc_call(u64 fid, u64 a1, u64 a2, u64 a3)
{
    register u64 x0 __asm__("x0") = fid;
    register u64 x1 __asm__("x1") = a1;
    register u64 x2 __asm__("x2") = a2;
    register u64 x3 __asm__("x3") = a3;
    __asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)::"memory");
    return x0;
}
constexpr u64 kCpuOn64 = 0xc400'0003;    // PSCI CPU_ON (SMC64)
constexpr u64 kSystemOff = 0x8400'0008;  // PSCI SYSTEM_OFF
constexpr u64 kSystemReset = 0x8400'0009; // PSCI SYSTEM_RESET
} // namespace

namespace firmware {
i64 cpu_on(u64 target_mpidr, u64 entry, u64 context)
{
    return static_cast<i64>(smc_call(kCpuOn64, target_mpidr, entry, context));
}

void system_off()
{
    smc_call(kSystemOff, 0, 0, 0);
    for (;;)
        __asm__ volatile("wfi");
}

void system_reset()
{
    smc_call(kSystemReset, 0, 0, 0);
    for (;;)
        __asm__ volatile("wfi");
}
} // namespace firmware
