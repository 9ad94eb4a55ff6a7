#include "core/token.h"

bool Token::equals(const char* lit) const
{
    usize i = 0;
    for (; i < n; i++) {
        if (lit[i] != s[i])
            return false;
    }
    return lit[i] == '\0';
}

bool parse_u64(Token t, u64& out)
{
    unsigned base = 10;
    if (t.n > 2 && t.s[0] == '0' && (t.s[1] == 'x' || t.s[1] == 'X')) {
        base = 16;
        t.s += 2;
        t.n -= 2;
    }
    if (t.n == 0)
        return false;
    u64 v = 0;
    for (usize i = 0; i < t.n; i++) {
        const char c = t.s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = static_cast<unsigned>(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = static_cast<unsigned>(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = static_cast<unsigned>(c - 'A' + 10);
        else
            return false;
        if (v > (~u64{0} - d) / base)
            return false;
        v = v * base + d;
    }
    out = v;
    return true;
}
