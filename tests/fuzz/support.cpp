// Host stand-ins for the target's logging and panic, for the fuzzers:
// logging is dropped (it would only slow the runs down), a panic aborts so
// libFuzzer reports it as a crash with the message.
#include <cstdio>
#include <cstdlib>

#include "log.h"

void hyp_vlog(const char*, va_list) {}

void hyp_log(const char*, ...) {}

void hyp_panic(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    std::fputs("PANIC: ", stderr);
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
    va_end(ap);
    std::abort();
}
