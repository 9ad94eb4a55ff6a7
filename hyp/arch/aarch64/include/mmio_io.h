// Device register access for the hypervisor's own drivers (physical GIC,
// UART, QEMU's virtio-mmio devices). Volatile accesses of the exact width,
// never merged or split.
#pragma once
#include "types.h"

inline u8 mmio_read8(u64 addr) { return *reinterpret_cast<volatile u8*>(addr); }
inline u16 mmio_read16(u64 addr) { return *reinterpret_cast<volatile u16*>(addr); }
inline u32 mmio_read32(u64 addr) { return *reinterpret_cast<volatile u32*>(addr); }
inline void mmio_write32(u64 addr, u32 v) { *reinterpret_cast<volatile u32*>(addr) = v; }
inline u64 mmio_read64(u64 addr) { return *reinterpret_cast<volatile u64*>(addr); }
inline void mmio_write64(u64 addr, u64 v) { *reinterpret_cast<volatile u64*>(addr) = v; }
inline void mmio_write8(u64 addr, u8 v) { *reinterpret_cast<volatile u8*>(addr) = v; }
inline void mmio_write16(u64 addr, u16 v) { *reinterpret_cast<volatile u16*>(addr) = v; }

// Ordering against memory a DMA-capable device shares with us (virtio
// rings), outer-shareable like the device: before a register write that
// tells the device to look, and after a register read that told us to.
inline void dma_wmb() { __asm__ volatile("dmb oshst" ::: "memory"); }
inline void dma_rmb() { __asm__ volatile("dmb oshld" ::: "memory"); }
