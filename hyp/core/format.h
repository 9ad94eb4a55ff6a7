// printf-style formatting without libc, shared by the log (target) and the
// host tests. Supported: %d %i %u %x %X %p %s %c %%, length modifiers
// hh h l ll z, flags - 0 + space #, width and precision (both may be *).
// Precision limits %s and gives integers a minimum digit count. An unknown
// conversion is printed literally so a bad format shows up in the output.
#pragma once
#include <stdarg.h>

#include "types.h"

// Receives the formatted output in pieces (not NUL-terminated).
using FmtSink = void (*)(void* ctx, const char* s, usize n);

// Streams the output to `sink`; returns the number of characters produced.
usize fmt_vformat(FmtSink sink, void* ctx, const char* fmt, va_list ap);

// Like vsnprintf: writes at most size-1 characters plus a NUL (nothing when
// size is 0) and returns the length the full output would have had.
int fmt_vsnprintf(char* buf, usize size, const char* fmt, va_list ap);
int fmt_snprintf(char* buf, usize size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
