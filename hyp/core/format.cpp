// See format.h. The sink receives runs of text rather than single chars so a
// UART or buffer writer does one call per literal run or converted field.
#include "core/format.h"

namespace {

struct Spec {
    bool left = false;   // '-'
    bool zero = false;   // '0'
    bool plus = false;   // '+'
    bool space = false;  // ' '
    bool alt = false;    // '#'
    unsigned width = 0;
    int precision = -1;  // -1: none given
};

class Out {
public:
    Out(FmtSink sink, void* ctx) : sink_(sink), ctx_(ctx) {}

    void put(const char* s, usize n)
    {
        if (n) {
            sink_(ctx_, s, n);
            count_ += n;
        }
    }

    void fill(char c, usize n)
    {
        char chunk[16];
        for (char& ch : chunk)
            ch = c;
        while (n) {
            const usize k = n < sizeof(chunk) ? n : sizeof(chunk);
            put(chunk, k);
            n -= k;
        }
    }

    usize count() const { return count_; }

private:
    FmtSink sink_;
    void* ctx_;
    usize count_ = 0;
};

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

usize str_len(const char* s, usize max)
{
    usize n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

// Pads `body` (already including any sign/prefix handling by the caller) to
// the field width.
void emit_padded(Out& out, const Spec& sp, const char* body, usize n)
{
    const usize pad = sp.width > n ? sp.width - n : 0;
    if (!sp.left)
        out.fill(' ', pad);
    out.put(body, n);
    if (sp.left)
        out.fill(' ', pad);
}

void emit_string(Out& out, const Spec& sp, const char* s)
{
    if (!s)
        s = "(null)";
    const usize max = sp.precision >= 0 ? static_cast<usize>(sp.precision) : ~usize{0};
    emit_padded(out, sp, s, str_len(s, max));
}

// Layout: [pad][prefix][zeros][digits][pad]. The '0' flag turns the leading
// pad into zeros, unless a precision is given (as in C) or '-' is set.
void emit_integer(Out& out, const Spec& sp, u64 magnitude, bool negative, unsigned base, bool upper,
                  const char* prefix)
{
    char digits[24];
    usize nd = 0;
    const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    for (u64 v = magnitude; v; v /= base)
        digits[sizeof(digits) - ++nd] = set[v % base];
    // Precision 0 with value 0 prints no digits at all (C semantics).
    if (nd == 0 && sp.precision != 0)
        digits[sizeof(digits) - ++nd] = '0';

    char sign[3];
    usize ns = 0;
    if (negative)
        sign[ns++] = '-';
    else if (sp.plus)
        sign[ns++] = '+';
    else if (sp.space)
        sign[ns++] = ' ';
    for (const char* p = prefix; p && *p; p++)
        sign[ns++] = *p;

    const usize min_digits = sp.precision > 0 ? static_cast<usize>(sp.precision) : 0;
    usize zeros = min_digits > nd ? min_digits - nd : 0;
    const usize body = ns + zeros + nd;
    usize pad = sp.width > body ? sp.width - body : 0;
    if (sp.zero && !sp.left && sp.precision < 0) {
        zeros += pad;
        pad = 0;
    }
    if (!sp.left)
        out.fill(' ', pad);
    out.put(sign, ns);
    out.fill('0', zeros);
    out.put(digits + sizeof(digits) - nd, nd);
    if (sp.left)
        out.fill(' ', pad);
}

enum class Len : u8 { Char, Short, Int, Long, LongLong, Size };

} // namespace

usize fmt_vformat(FmtSink sink, void* ctx, const char* fmt, va_list ap)
{
    Out out(sink, ctx);
    const char* p = fmt;
    while (*p) {
        if (*p != '%') {
            const char* run = p;
            while (*p && *p != '%')
                p++;
            out.put(run, static_cast<usize>(p - run));
            continue;
        }
        const char* conv_start = p++;

        Spec sp;
        for (;; p++) {
            if (*p == '-')
                sp.left = true;
            else if (*p == '0')
                sp.zero = true;
            else if (*p == '+')
                sp.plus = true;
            else if (*p == ' ')
                sp.space = true;
            else if (*p == '#')
                sp.alt = true;
            else
                break;
        }
        if (*p == '*') {
            const int w = va_arg(ap, int);
            // A negative * width means left-justify (C semantics).
            sp.left |= w < 0;
            sp.width = w < 0 ? 0u - static_cast<unsigned>(w) : static_cast<unsigned>(w);
            p++;
        } else {
            for (; is_digit(*p); p++)
                sp.width = sp.width * 10 + static_cast<unsigned>(*p - '0');
        }
        if (*p == '.') {
            p++;
            if (*p == '*') {
                const int pr = va_arg(ap, int);
                sp.precision = pr < 0 ? -1 : pr;
                p++;
            } else {
                sp.precision = 0;
                for (; is_digit(*p); p++)
                    sp.precision = sp.precision * 10 + (*p - '0');
            }
        }

        Len len = Len::Int;
        if (*p == 'h') {
            len = p[1] == 'h' ? Len::Char : Len::Short;
            p += p[1] == 'h' ? 2 : 1;
        } else if (*p == 'l') {
            len = p[1] == 'l' ? Len::LongLong : Len::Long;
            p += p[1] == 'l' ? 2 : 1;
        } else if (*p == 'z') {
            len = Len::Size;
            p++;
        }

        const char conv = *p;
        if (conv) // a lone '%' at the end must not step over the NUL
            p++;
        switch (conv) {
        case 'd':
        case 'i': {
            i64 v = 0;
            switch (len) {
            case Len::Char: v = static_cast<signed char>(va_arg(ap, int)); break;
            case Len::Short: v = static_cast<short>(va_arg(ap, int)); break;
            case Len::Int: v = va_arg(ap, int); break;
            case Len::Long: v = va_arg(ap, long); break;
            case Len::LongLong: v = va_arg(ap, long long); break;
            case Len::Size: v = static_cast<i64>(va_arg(ap, usize)); break;
            }
            // Negate in unsigned arithmetic so INT64_MIN is well defined.
            const u64 mag = v < 0 ? 0 - static_cast<u64>(v) : static_cast<u64>(v);
            emit_integer(out, sp, mag, v < 0, 10, false, nullptr);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            u64 v = 0;
            switch (len) {
            case Len::Char: v = static_cast<unsigned char>(va_arg(ap, unsigned)); break;
            case Len::Short: v = static_cast<unsigned short>(va_arg(ap, unsigned)); break;
            case Len::Int: v = va_arg(ap, unsigned); break;
            case Len::Long: v = va_arg(ap, unsigned long); break;
            case Len::LongLong: v = va_arg(ap, unsigned long long); break;
            case Len::Size: v = va_arg(ap, usize); break;
            }
            sp.plus = sp.space = false; // sign flags apply to signed conversions only
            const bool hex = conv != 'u';
            const char* prefix = hex && sp.alt && v ? (conv == 'X' ? "0X" : "0x") : nullptr;
            emit_integer(out, sp, v, false, hex ? 16 : 10, conv == 'X', prefix);
            break;
        }
        case 'p': {
            const auto v = reinterpret_cast<uptr>(va_arg(ap, void*));
            sp.plus = sp.space = false;
            emit_integer(out, sp, v, false, 16, false, "0x");
            break;
        }
        case 's':
            emit_string(out, sp, va_arg(ap, const char*));
            break;
        case 'c': {
            const char c = static_cast<char>(va_arg(ap, int));
            emit_padded(out, sp, &c, 1);
            break;
        }
        case '%':
            out.put("%", 1);
            break;
        default:
            // Unknown or truncated conversion: show it verbatim.
            out.put(conv_start, static_cast<usize>(p - conv_start));
            break;
        }
    }
    return out.count();
}

namespace {

struct BufSink {
    char* buf;
    usize cap; // characters that fit, excluding the NUL
    usize pos;
};

void buf_sink(void* ctx, const char* s, usize n)
{
    auto* b = static_cast<BufSink*>(ctx);
    for (usize i = 0; i < n && b->pos < b->cap; i++)
        b->buf[b->pos++] = s[i];
}

} // namespace

int fmt_vsnprintf(char* buf, usize size, const char* fmt, va_list ap)
{
    BufSink b{buf, size ? size - 1 : 0, 0};
    const usize n = fmt_vformat(buf_sink, &b, fmt, ap);
    if (size)
        buf[b.pos] = '\0';
    return static_cast<int>(n);
}

int fmt_snprintf(char* buf, usize size, const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
