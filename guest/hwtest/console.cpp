#include "console.h"

#include "core/format.h"

#include "atomic.h"
#include "hw.h"
#include "psci.h"

namespace {

constexpr uptr kDr = hw::kUart + 0x00;   // UARTDR
constexpr uptr kFr = hw::kUart + 0x18;   // UARTFR
constexpr u32 kFrTxff = 1u << 5;          // transmit FIFO full

constinit Spinlock g_lock;

void putc(char c)
{
    while (mmio_read32(kFr) & kFrTxff) {
    }
    mmio_write32(kDr, static_cast<u8>(c));
}

void puts_crlf(const char* s)
{
    for (; *s; s++) {
        if (*s == '\n')
            putc('\r');
        putc(*s);
    }
}

} // namespace

namespace {

// One formatted line, written in one piece: under the lock, or without it
// on the fatal path (which may run with the lock held).
void emit(bool locked, const char* prefix, const char* fmt, va_list ap)
{
    char line[512];
    const int n = fmt_snprintf(line, sizeof line, "%s", prefix);
    fmt_vsnprintf(line + n, sizeof line - static_cast<usize>(n), fmt, ap);
    if (locked)
        g_lock.lock();
    puts_crlf(line);
    if (locked)
        g_lock.unlock();
}

} // namespace

void print(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(true, "", fmt, ap);
    va_end(ap);
}

void fatal(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(false, "\nHWTEST fatal: ", fmt, ap);
    va_end(ap);
    puts_crlf("\n");
    psci::system_off();
}
