// Host stand-ins for the target's logging and panic.
#include <cstdio>
#include <cstdlib>

#include "log.h"

void hyp_vlog(const char* fmt, va_list ap)
{
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
}

void hyp_log(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hyp_vlog(fmt, ap);
    va_end(ap);
}

void hyp_panic(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    std::fputs("PANIC: ", stderr);
    hyp_vlog(fmt, ap);
    va_end(ap);
    std::abort();
}
