// PSCI calls (DEN 0022) over HVC, the conduit the guest DTB names, and
// over SMC for the test that both reach the same firmware.
#pragma once
#include "base.h"

namespace psci {

constexpr u64 kVersion = 0x8400'0000;
constexpr u64 kCpuSuspend = 0xc400'0001;
constexpr u64 kCpuOff = 0x8400'0002;
constexpr u64 kCpuOn = 0xc400'0003;
constexpr u64 kAffinityInfo = 0xc400'0004;
constexpr u64 kSystemOff = 0x8400'0008;
constexpr u64 kFeatures = 0x8400'000a;

constexpr i32 kSuccess = 0;
constexpr i32 kNotSupported = -1;
constexpr i32 kInvalidParameters = -2;
constexpr i32 kDenied = -3;
constexpr i32 kAlreadyOn = -4;
constexpr i32 kOnPending = -5;
constexpr i32 kInvalidAddress = -9;

// AFFINITY_INFO results.
constexpr i32 kAffOn = 0;
constexpr i32 kAffOff = 1;
constexpr i32 kAffOnPending = 2;

u64 hvc(u64 fn, u64 a1 = 0, u64 a2 = 0, u64 a3 = 0);
u64 smc(u64 fn, u64 a1 = 0, u64 a2 = 0, u64 a3 = 0);

// Return codes are 32-bit signed values in w0.
inline i32 cpu_on(u64 mpidr, u64 entry, u64 context) { return static_cast<i32>(hvc(kCpuOn, mpidr, entry, context)); }
inline i32 affinity_info(u64 mpidr) { return static_cast<i32>(hvc(kAffinityInfo, mpidr, 0)); }
[[noreturn]] void cpu_off();
[[noreturn]] void system_off();

} // namespace psci
