// Device register access for the hypervisor's own drivers (physical GIC and
// UART). Volatile accesses of the exact width, never merged or split.
#pragma once
#include "types.h"

inline u32 mmio_read32(u64 addr) { return *reinterpret_cast<volatile u32*>(addr); }
inline void mmio_write32(u64 addr, u32 v) { *reinterpret_cast<volatile u32*>(addr) = v; }
inline u64 mmio_read64(u64 addr) { return *reinterpret_cast<volatile u64*>(addr); }
inline void mmio_write64(u64 addr, u64 v) { *reinterpret_cast<volatile u64*>(addr) = v; }
inline void mmio_write8(u64 addr, u8 v) { *reinterpret_cast<volatile u8*>(addr) = v; }
