// Fixed-width types and bit helpers for the freestanding test guest.
#pragma once

using u8 = unsigned char;
using u16 = unsigned short;
using u32 = unsigned int;
using u64 = unsigned long long;
using s32 = int;
using s64 = long long;
using uptr = unsigned long;
using usize = decltype(sizeof 0);

constexpr u64 bit(unsigned n) { return u64{1} << n; }
// Field [hi:lo] of v.
constexpr u64 field(u64 v, unsigned hi, unsigned lo)
{
    return hi - lo == 63 ? v : (v >> lo) & ((u64{1} << (hi - lo + 1)) - 1);
}

template <typename T> u64 addr_of(T* p) { return reinterpret_cast<uptr>(p); }

extern "C" void* memset(void* d, int c, usize n);
extern "C" void* memcpy(void* d, const void* s, usize n);
int memcmp_bytes(const void* a, const void* b, usize n);
