// Calls to the platform firmware (QEMU's built-in PSCI, reached with SMC
// from EL2 because the virt board has no EL3).
#pragma once
#include "types.h"

namespace firmware {
i64 cpu_on(u64 target_mpidr, u64 entry, u64 context);
[[noreturn]] void system_off();
[[noreturn]] void system_reset();
} // namespace firmware
