// Logging and panic. On the target these print on the physical UART with a
// "[pN]" prefix (hyp/arch/aarch64/log.cpp, panic.cpp); host unit tests
// supply their own (tests/unit/support.cpp).
#pragma once
#include <stdarg.h>

void hyp_log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void hyp_vlog(const char* fmt, va_list ap);
[[noreturn]] void hyp_panic(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

#define HYP_ASSERT(c)                                                                    \
    do {                                                                                 \
        if (!(c))                                                                        \
            hyp_panic("assertion failed: %s (%s:%d)", #c, __FILE__, __LINE__);           \
    } while (0)
