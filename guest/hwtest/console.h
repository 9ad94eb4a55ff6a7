// PL011 output, one whole line at a time under a spinlock. Formatting is
// the hypervisor's freestanding printf (hyp/core/format.h: fmt_snprintf,
// fmt_vsnprintf), compiled into the guest too.
#pragma once
#include <stdarg.h>

#include "base.h"
#include "core/format.h"

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

// Prints the formatted text as one unit (other vCPUs' lines do not interleave).
void print(const char* fmt, ...) PRINTF_LIKE(1, 2);
// Without the lock, then PSCI SYSTEM_OFF: for what the runtime cannot survive.
[[noreturn]] void fatal(const char* fmt, ...) PRINTF_LIKE(1, 2);
