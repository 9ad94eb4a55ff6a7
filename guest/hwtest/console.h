// PL011 output, one whole line at a time under a spinlock, and a small
// printf (d i u x s c p %, widths, zero padding, l/ll/z lengths).
#pragma once
#include <stdarg.h>

#include "types.h"

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

usize vformat(char* buf, usize size, const char* fmt, va_list ap);
usize format(char* buf, usize size, const char* fmt, ...) PRINTF_LIKE(3, 4);
// Prints the formatted text as one unit (other vCPUs' lines do not interleave).
void print(const char* fmt, ...) PRINTF_LIKE(1, 2);
// No lock: for the fatal path, which may run with the lock held.
void print_raw(const char* s);
[[noreturn]] void fatal(const char* fmt, ...) PRINTF_LIKE(1, 2);
