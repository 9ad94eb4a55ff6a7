// strtoul for libfdt (it parses unit addresses and overlay fixup offsets).
#include <limits.h>
#include <stdlib.h>

#include "lib_attrs.h"

namespace {

constexpr bool is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

// Digit value in any base up to 36, or 99 for "not a digit".
constexpr unsigned digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return static_cast<unsigned>(c - '0');
    if (c >= 'a' && c <= 'z')
        return static_cast<unsigned>(c - 'a' + 10);
    if (c >= 'A' && c <= 'Z')
        return static_cast<unsigned>(c - 'A' + 10);
    return 99;
}

} // namespace

HYP_LIB_FN unsigned long strtoul(const char* __restrict s, char** __restrict end, int base)
{
    const char* p = s;
    if (end)
        *end = const_cast<char*>(s);
    if (base != 0 && (base < 2 || base > 36))
        return 0;

    while (is_space(*p))
        p++;
    bool negative = false;
    if (*p == '+' || *p == '-')
        negative = *p++ == '-';

    // A "0x" prefix counts only if a hex digit follows; otherwise the '0'
    // alone is the number and 'x' is left unparsed.
    const bool hex_prefix = p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && digit_value(p[2]) < 16;
    if ((base == 0 || base == 16) && hex_prefix) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = p[0] == '0' ? 8 : 10;
    }

    const auto ubase = static_cast<unsigned long>(base);
    unsigned long value = 0;
    bool overflow = false;
    const char* digits = p;
    for (unsigned d; (d = digit_value(*p)) < ubase; p++) {
        if (value > (ULONG_MAX - d) / ubase)
            overflow = true;
        else
            value = value * ubase + d;
    }
    if (p == digits)
        return 0; // no conversion: *end stays at s
    if (end)
        *end = const_cast<char*>(p);
    if (overflow)
        return ULONG_MAX;
    return negative ? 0 - value : value;
}
