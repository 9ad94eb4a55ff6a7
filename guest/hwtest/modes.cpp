#include "modes.h"

#include "console.h"
#include "fdt.h"
#include "hw.h"
#include "smp.h"
#include "sysreg.h"

extern "C" u64 pt_l2_probe[512];

bool str_equal(const char* a, const char* b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

bool bootarg(const char* key, char* buf, usize size)
{
    FdtProp args;
    if (!fdt_find_child("chosen", "bootargs", args) || args.len == 0)
        return false;
    const char* s = reinterpret_cast<const char*>(args.data);
    for (const char* p = s; *p; p++) {
        if (p != s && p[-1] != ' ')
            continue;
        const char* k = key;
        const char* q = p;
        while (*k && *q == *k)
            k++, q++;
        if (*k || *q != '=')
            continue;
        q++;
        usize n = 0;
        while (*q && *q != ' ' && n + 1 < size)
            buf[n++] = *q++;
        buf[n] = '\0';
        return true;
    }
    return false;
}

RamRange guest_ram()
{
    FdtProp reg;
    if (!fdt_find_child("memory@40000000", "reg", reg) || reg.len < 16)
        fatal("no memory@40000000 node with a 64-bit reg in the DT");
    return {u64{fdt_cell(reg, 0)} << 32 | fdt_cell(reg, 1), u64{fdt_cell(reg, 2)} << 32 | fdt_cell(reg, 3)};
}

namespace {
constexpr uptr kUartDr = hw::kUart + 0x00;
constexpr uptr kUartFr = hw::kUart + 0x18;
constexpr u32 kFrRxfe = 1u << 4;  // receive FIFO empty

bool rx_ready() { return !(mmio_read32(kUartFr) & kFrRxfe); }
} // namespace

bool console_rx_ready() { return rx_ready(); }

char console_getc()
{
    // Sleeps in WFI between looks (woken by its virtual timer), so a
    // waiting VM costs its pCPUs next to nothing.
    while (!rx_ready())
        wait_until(rx_ready, 5'000, 5'000);
    return static_cast<char>(mmio_read32(kUartDr) & 0xff);
}

void read_line(char* buf, usize size)
{
    usize n = 0;
    for (;;) {
        const char c = console_getc();
        if (c == '\r' || c == '\n') {
            if (n == 0)
                continue;
            buf[n] = '\0';
            return;
        }
        if (n + 1 < size)
            buf[n++] = c;
    }
}

bool next_number(const char*& s, u64& out, bool hex)
{
    while (*s == ' ')
        s++;
    if (!*s)
        return false;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        hex = true;
    }
    u64 v = 0;
    bool any = false;
    for (; *s && *s != ' '; s++, any = true) {
        const char c = *s;
        u64 d;
        if (c >= '0' && c <= '9')
            d = static_cast<u64>(c - '0');
        else if (hex && c >= 'a' && c <= 'f')
            d = static_cast<u64>(c - 'a' + 10);
        else if (hex && c >= 'A' && c <= 'F')
            d = static_cast<u64>(c - 'A' + 10);
        else
            return false;
        v = v * (hex ? 16 : 10) + d;
    }
    out = v;
    return any;
}

uptr probe_window(u64 ipa)
{
    // Normal WB, inner shareable, AF, block (start.S DESC_NORMAL_BLOCK).
    constexpr u64 kBlockNormal = 0x1 | (2 << 2) | (3 << 8) | (1 << 10) | (u64{1} << 54);
    constexpr u64 kBlock = 2 * MiB;
    pt_l2_probe[2] = (ipa & ~(kBlock - 1)) | kBlockNormal;
    asm volatile("dsb ishst; tlbi vmalle1; dsb ish; isb" ::: "memory");
    return kProbeWindowVa + (ipa & (kBlock - 1));
}
