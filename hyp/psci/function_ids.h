// PSCI function identifiers (Arm DEN0022, "Function IDs"). Each identifier is
// an SMCCC fast call owned by the Standard Secure Service range; bit 30 picks
// the SMC64 calling convention, whose arguments are full 64-bit registers.
#pragma once
#include "types.h"

namespace psci {

enum class FnId : u32 {
    Version = 0x8400'0000,          // PSCI_VERSION
    CpuSuspend32 = 0x8400'0001,     // CPU_SUSPEND (SMC32)
    CpuSuspend64 = 0xC400'0001,     // CPU_SUSPEND (SMC64)
    CpuOff = 0x8400'0002,           // CPU_OFF
    CpuOn32 = 0x8400'0003,          // CPU_ON (SMC32)
    CpuOn64 = 0xC400'0003,          // CPU_ON (SMC64)
    AffinityInfo32 = 0x8400'0004,   // AFFINITY_INFO (SMC32)
    AffinityInfo64 = 0xC400'0004,   // AFFINITY_INFO (SMC64)
    Migrate32 = 0x8400'0005,        // MIGRATE (SMC32)
    Migrate64 = 0xC400'0005,        // MIGRATE (SMC64)
    MigrateInfoType = 0x8400'0006,  // MIGRATE_INFO_TYPE
    MigrateInfoUpCpu32 = 0x8400'0007, // MIGRATE_INFO_UP_CPU (SMC32)
    MigrateInfoUpCpu64 = 0xC400'0007, // MIGRATE_INFO_UP_CPU (SMC64)
    SystemOff = 0x8400'0008,        // SYSTEM_OFF
    SystemReset = 0x8400'0009,      // SYSTEM_RESET
    Features = 0x8400'000A,         // PSCI_FEATURES
};

// The PSCI blocks of the Standard Secure Service range: 32 IDs per convention.
constexpr u32 kSmc32Base = 0x8400'0000;
constexpr u32 kSmc64Base = 0xC400'0000;
constexpr u32 kRangeSize = 0x20;
constexpr u32 kSmc64Bit = u32{1} << 30;

// Position of a PSCI function inside its block; the SMC32 and SMC64 forms of a
// function share it, which is what the per-function counters are keyed by.
constexpr u32 function_number(u32 fid) { return fid & (kRangeSize - 1); }

// The spec's name of the function at `number` (function_number()), for the
// exit table; nullptr for a number PSCI 1.1 does not define here.
constexpr const char* function_name(u32 number)
{
    constexpr const char* kNames[] = {"PSCI_VERSION", "CPU_SUSPEND", "CPU_OFF", "CPU_ON",
                                      "AFFINITY_INFO", "MIGRATE", "MIGRATE_INFO_TYPE", "MIGRATE_INFO_UP_CPU",
                                      "SYSTEM_OFF", "SYSTEM_RESET", "PSCI_FEATURES"};
    return number < sizeof kNames / sizeof kNames[0] ? kNames[number] : nullptr;
}

constexpr bool in_psci_range(u32 fid)
{
    return (fid >= kSmc32Base && fid < kSmc32Base + kRangeSize) ||
           (fid >= kSmc64Base && fid < kSmc64Base + kRangeSize);
}

} // namespace psci
