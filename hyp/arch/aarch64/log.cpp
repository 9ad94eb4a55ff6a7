// Hypervisor log: "[pN] message" lines on the physical UART, each starting
// with kHypLineMark (console.h), also kept in a ring buffer a debugger can
// read after the fact.
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

// One hypervisor line: on a line of its own, marked, CRLF-terminated; an
// embedded newline starts another marked line.
void put_line(const char* text)
{
    if (g_guest_mid_line) {
        // The guest's line is cut here, and continues after this line. The
        // mark before the break says so: a reader that drops every marked
        // record (mark to LF) gets the guest's line back whole, and a
        // guest's own line end (no mark) is never taken for ours.
        uart_putc(kHypLineMark);
        uart_putc('\r');
        uart_putc('\n');
        g_guest_mid_line = false;
    }
    uart_putc(kHypLineMark);
    for (const char* p = text; *p; p++) {
        if (*p == '\n') {
            uart_putc('\r');
            uart_putc('\n');
            uart_putc(kHypLineMark);
        } else {
            uart_putc(*p);
        }
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
    // The mark is the hypervisor's alone: a guest must not forge its lines.
    if (c == kHypLineMark)
        c = '?';
    LockGuard guard(g_console_lock);
    uart_putc(c);
    g_guest_mid_line = c != '\n';
}

// Without the lock: the panicking pCPU may be the one holding it, and the
// other pCPUs are stopped (or stopping) when this runs.
void console_raw_line(const char* text) { put_line(text); }
