// PMUv3 registers (Arm ARM D13) the tests use.
#pragma once
#include "sysreg.h"

constexpr u64 kPmcrE = bit(0);
constexpr u64 kPmcrP = bit(1);   // reset event counters (write-only)
constexpr u64 kPmcrC = bit(2);   // reset cycle counter (write-only)
constexpr u64 kPmcrX = bit(4);
constexpr u64 kPmcrDP = bit(5);
constexpr u64 kPmcrLC = bit(6);
constexpr u64 kPmuCycle = bit(31);  // the cycle counter's bit in PMCNTEN/PMINTEN/PMOVS
// PMCCFILTR_EL0 / PMEVTYPER<n>_EL0 filters.
constexpr u64 kFiltP = bit(31), kFiltU = bit(30), kFiltNSK = bit(29), kFiltNSU = bit(28), kFiltNSH = bit(27);

inline u32 pmcr_n() { return static_cast<u32>(bits(MRS("pmcr_el0"), 15, 11)); }
