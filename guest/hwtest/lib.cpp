// What the compiler may call on its own in freestanding code.
#include "base.h"

extern "C" void* memset(void* d, int c, usize n)
{
    auto* p = static_cast<volatile u8*>(d);
    while (n--)
        *p++ = static_cast<u8>(c);
    return d;
}

extern "C" void* memcpy(void* d, const void* s, usize n)
{
    auto* p = static_cast<volatile u8*>(d);
    const auto* q = static_cast<const u8*>(s);
    while (n--)
        *p++ = *q++;
    return d;
}

int memcmp_bytes(const void* a, const void* b, usize n)
{
    const auto* p = static_cast<const u8*>(a);
    const auto* q = static_cast<const u8*>(b);
    for (; n--; p++, q++)
        if (*p != *q)
            return *p < *q ? -1 : 1;
    return 0;
}
