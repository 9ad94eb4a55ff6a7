// The guest's basics: the hypervisor's freestanding fixed-width types and
// bit helpers (hyp/include/types.h: u8-u64, i32, i64, usize, uptr, bit,
// bits) plus the few C library functions the compiler may call.
#pragma once
#include "types.h"

template <typename T> u64 addr_of(T* p) { return reinterpret_cast<uptr>(p); }

extern "C" void* memset(void* d, int c, usize n);
extern "C" void* memcpy(void* d, const void* s, usize n);
int memcmp_bytes(const void* a, const void* b, usize n);
