// Width and alignment rules shared by the GICD and GICR models: registers
// are accessed naturally aligned at their own width; anything else reads as
// zero and ignores writes, but is still Handled so the guest never faults.
#pragma once
#include "mmio.h"
#include "types.h"

namespace vgic {

inline bool aligned(u64 offset, const MmioAccess& a)
{
    return (a.width == 1 || a.width == 2 || a.width == 4 || a.width == 8) && (offset & (a.width - 1)) == 0;
}

// 64-bit registers (IROUTER, GICR_TYPER) also take 32-bit halves.
inline u32 half_of(u64 reg, u64 offset) { return static_cast<u32>(offset & 4 ? reg >> 32 : reg); }

inline u64 merge_half(u64 reg, u64 offset, u32 value)
{
    return offset & 4 ? (reg & 0xffff'ffffull) | (u64{value} << 32) : (reg & ~0xffff'ffffull) | value;
}

} // namespace vgic
