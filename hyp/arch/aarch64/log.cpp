// Hypervisor log: "[pN] message" lines on the physical UART, also kept in a
// ring buffer a debugger can read after the fact.
#include "log.h"

#include "console.h"
#include "core/format.h"
#include "vm/pcpu.h"
#include "spinlock.h"
#include "uart.h"

char g_log_ring[kLogRingSize];
u32 g_log_ring_head;

namespace {
Spinlock g_console_lock;
bool g_guest_mid_line; // guest output left the cursor mid-line

void ring_put(char c)
{
    g_log_ring[g_log_ring_head % kLogRingSize] = c;
    g_log_ring_head++;
}

void put_line(const char* text)
{
    if (g_guest_mid_line) {
        uart_putc('\r');
        uart_putc('\n');
        g_guest_mid_line = false;
    }
    for (const char* p = text; *p; p++) {
        if (*p == '\n')
            uart_putc('\r');
        uart_putc(*p);
        ring_put(*p);
    }
    uart_putc('\r');
    uart_putc('\n');
    ring_put('\n');
}

u32 pcpu_or_zero()
{
    return read_tpidr_el2() ? this_pcpu_id() : 0;
}
} // namespace

void hyp_vlog(const char* fmt, va_list ap)
{
    char buf[320];
    const int prefix = fmt_snprintf(buf, sizeof buf, "[p%u] ", pcpu_or_zero());
    fmt_vsnprintf(buf + prefix, sizeof buf - static_cast<usize>(prefix), fmt, ap);
    LockGuard guard(g_console_lock);
    put_line(buf);
}

void hyp_log(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hyp_vlog(fmt, ap);
    va_end(ap);
}

void console_guest_putc(char c)
{
    LockGuard guard(g_console_lock);
    uart_putc(c);
    g_guest_mid_line = c != '\n';
}

void console_raw_write(const char* s)
{
    for (; *s; s++) {
        if (*s == '\n')
            uart_putc('\r');
        uart_putc(*s);
    }
}
