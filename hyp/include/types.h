// Fixed-width types for the whole hypervisor. Freestanding: only compiler
// headers are used, so the same code compiles for the target and the host.
#pragma once
#include <stddef.h>
#include <stdint.h>

using u8 = uint8_t;
using u16 = uint16_t;
using u32 = uint32_t;
using u64 = uint64_t;
using i32 = int32_t;
using i64 = int64_t;
using usize = size_t;
using uptr = uintptr_t;

constexpr u64 bit(unsigned n) { return u64{1} << n; }
constexpr u64 mask(unsigned width) { return width >= 64 ? ~u64{0} : bit(width) - 1; }
constexpr u64 bits(u64 v, unsigned hi, unsigned lo) { return (v >> lo) & mask(hi - lo + 1); }
constexpr u64 align_up(u64 v, u64 a) { return (v + a - 1) & ~(a - 1); }
constexpr u64 align_down(u64 v, u64 a) { return v & ~(a - 1); }

constexpr u64 KiB = 1024;
constexpr u64 MiB = 1024 * KiB;
constexpr u64 GiB = 1024 * MiB;
