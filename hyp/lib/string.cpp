// Memory and string primitives for the target (libfdt needs them; clang may
// also emit memcpy/memset for aggregate copies and zeroing).
//
// Word-sized accesses are used only when both pointers share their alignment
// modulo 8: the hypervisor runs with -mstrict-align and may run with the MMU
// off, where unaligned accesses fault architecturally.
#include <string.h>

#include "lib_attrs.h"
#include "types.h"

namespace {

using Word = u64 __attribute__((may_alias));
constexpr usize kWord = sizeof(u64);

inline bool co_aligned(const void* a, const void* b)
{
    return ((reinterpret_cast<uptr>(a) ^ reinterpret_cast<uptr>(b)) & (kWord - 1)) == 0;
}

// No __restrict here: memmove relies on every load of a word happening
// before the store that follows it, which may_alias pointers guarantee.
HYP_NO_BUILTIN void copy_forward(u8* d, const u8* s, usize n)
{
    if (co_aligned(d, s)) {
        for (; n && (reinterpret_cast<uptr>(d) & (kWord - 1)); n--)
            *d++ = *s++;
        for (; n >= kWord; n -= kWord, d += kWord, s += kWord)
            *reinterpret_cast<Word*>(d) = *reinterpret_cast<const Word*>(s);
    }
    for (; n; n--)
        *d++ = *s++;
}

HYP_NO_BUILTIN void copy_backward(u8* d, const u8* s, usize n)
{
    d += n;
    s += n;
    if (co_aligned(d, s)) {
        for (; n && (reinterpret_cast<uptr>(d) & (kWord - 1)); n--)
            *--d = *--s;
        for (; n >= kWord; n -= kWord) {
            d -= kWord;
            s -= kWord;
            *reinterpret_cast<Word*>(d) = *reinterpret_cast<const Word*>(s);
        }
    }
    for (; n; n--)
        *--d = *--s;
}

} // namespace

HYP_LIB_FN void* memcpy(void* __restrict dst, const void* __restrict src, size_t n)
{
    copy_forward(static_cast<u8*>(dst), static_cast<const u8*>(src), n);
    return dst;
}

HYP_LIB_FN void* memmove(void* dst, const void* src, size_t n)
{
    auto* d = static_cast<u8*>(dst);
    auto* s = static_cast<const u8*>(src);
    // Copying backwards is only needed when dst starts inside the source.
    if (d > s && d < s + n)
        copy_backward(d, s, n);
    else if (d != s)
        copy_forward(d, s, n);
    return dst;
}

HYP_LIB_FN void* memset(void* dst, int c, size_t n)
{
    auto* d = static_cast<u8*>(dst);
    const u8 b = static_cast<u8>(c);
    for (; n && (reinterpret_cast<uptr>(d) & (kWord - 1)); n--)
        *d++ = b;
    const u64 pattern = b * 0x0101'0101'0101'0101ull;
    for (; n >= kWord; n -= kWord, d += kWord)
        *reinterpret_cast<Word*>(d) = pattern;
    for (; n; n--)
        *d++ = b;
    return dst;
}

HYP_LIB_FN int memcmp(const void* a, const void* b, size_t n)
{
    auto* p = static_cast<const u8*>(a);
    auto* q = static_cast<const u8*>(b);
    for (; n; n--, p++, q++) {
        if (*p != *q)
            return *p < *q ? -1 : 1;
    }
    return 0;
}

HYP_LIB_FN void* memchr(const void* s, int c, size_t n)
{
    auto* p = static_cast<const u8*>(s);
    for (; n; n--, p++) {
        if (*p == static_cast<u8>(c))
            return const_cast<u8*>(p);
    }
    return nullptr;
}

HYP_LIB_FN size_t strlen(const char* s)
{
    const char* p = s;
    while (*p)
        p++;
    return static_cast<size_t>(p - s);
}

HYP_LIB_FN size_t strnlen(const char* s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

// The terminator counts as part of the string: strchr(s, 0) finds it.
HYP_LIB_FN char* strchr(const char* s, int c)
{
    const char ch = static_cast<char>(c);
    for (;; s++) {
        if (*s == ch)
            return const_cast<char*>(s);
        if (!*s)
            return nullptr;
    }
}

HYP_LIB_FN char* strrchr(const char* s, int c)
{
    const char ch = static_cast<char>(c);
    const char* last = nullptr;
    for (;; s++) {
        if (*s == ch)
            last = s;
        if (!*s)
            return const_cast<char*>(last);
    }
}
