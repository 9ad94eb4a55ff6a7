#include "console.h"

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

struct Out {
    char* buf;
    usize size;
    usize len;
    void put(char c)
    {
        if (len + 1 < size)
            buf[len] = c;
        len++;
    }
};

void put_number(Out& o, u64 v, unsigned base, bool neg, unsigned width, char pad)
{
    char tmp[24];
    unsigned n = 0;
    do {
        const unsigned d = static_cast<unsigned>(v % base);
        tmp[n++] = static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    if (neg)
        tmp[n++] = '-';
    for (unsigned i = n; i < width; i++)
        o.put(pad);
    while (n)
        o.put(tmp[--n]);
}

} // namespace

usize vformat(char* buf, usize size, const char* fmt, va_list ap)
{
    Out o{buf, size, 0};
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            o.put(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        unsigned width = 0;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + static_cast<unsigned>(*fmt++ - '0');
        int lng = 0;
        while (*fmt == 'l' || *fmt == 'z') {
            lng++;
            fmt++;
        }
        switch (*fmt) {
        case 'd':
        case 'i': {
            const s64 v = lng ? va_arg(ap, s64) : va_arg(ap, int);
            put_number(o, v < 0 ? static_cast<u64>(-v) : static_cast<u64>(v), 10, v < 0, width, pad);
            break;
        }
        case 'u':
            put_number(o, lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 10, false, width, pad);
            break;
        case 'x':
            put_number(o, lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 16, false, width, pad);
            break;
        case 'p':
            o.put('0');
            o.put('x');
            put_number(o, addr_of(va_arg(ap, void*)), 16, false, width, pad);
            break;
        case 's':
            for (const char* s = va_arg(ap, const char*); s && *s; s++)
                o.put(*s);
            break;
        case 'c':
            o.put(static_cast<char>(va_arg(ap, int)));
            break;
        case '%':
            o.put('%');
            break;
        default:
            return o.len; // malformed: stop here
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return o.len;
}

usize format(char* buf, usize size, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const usize n = vformat(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

void print(const char* fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vformat(line, sizeof line, fmt, ap);
    va_end(ap);
    g_lock.lock();
    puts_crlf(line);
    g_lock.unlock();
}

void print_raw(const char* s) { puts_crlf(s); }

void fatal(const char* fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vformat(line, sizeof line, fmt, ap);
    va_end(ap);
    print_raw("\nHWTEST fatal: ");
    print_raw(line);
    print_raw("\n");
    psci::system_off();
}
