#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/format.h"

namespace {

// Formats with both fmt_snprintf and the host's snprintf; they must agree on
// text and return value for every conversion the hypervisor supports.
#define EXPECT_SAME(...)                                                                 \
    do {                                                                                 \
        char ours[256], libc[256];                                                       \
        const int n_ours = fmt_snprintf(ours, sizeof(ours), __VA_ARGS__);                \
        const int n_libc = std::snprintf(libc, sizeof(libc), __VA_ARGS__);               \
        EXPECT_STREQ(ours, libc);                                                        \
        EXPECT_EQ(n_ours, n_libc);                                                       \
    } while (0)

// For formats the compiler's -Wformat rejects (on purpose, here): no
// format attribute, so no warning.
std::string fmt(const char* f, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, f);
    fmt_vsnprintf(buf, sizeof(buf), f, ap);
    va_end(ap);
    return buf;
}

TEST(Format, PlainText)
{
    EXPECT_SAME("hello");
    EXPECT_SAME("%s", "");
    EXPECT_SAME("100%%");
}

TEST(Format, SignedIntegers)
{
    EXPECT_SAME("%d %i %d", 0, 42, -42);
    EXPECT_SAME("%d %d", INT_MAX, INT_MIN);
    EXPECT_SAME("%ld %ld", LONG_MAX, LONG_MIN);
    EXPECT_SAME("%lld %lld", LLONG_MAX, LLONG_MIN);
    EXPECT_SAME("%zd", static_cast<ssize_t>(-7));
    EXPECT_SAME("%+d %+d % d % d", 5, -5, 5, -5);
    EXPECT_SAME("%hhd %hd", 300, 70000);
}

TEST(Format, UnsignedAndHex)
{
    EXPECT_SAME("%u %u", 0u, UINT_MAX);
    EXPECT_SAME("%x %X", 0xdeadbeefu, 0xdeadbeefu);
    EXPECT_SAME("%lx %llx", 0xffffffffffffffffUL, 0x123456789abcdefULL);
    EXPECT_SAME("%zu %zx", static_cast<size_t>(SIZE_MAX), static_cast<size_t>(4096));
    EXPECT_SAME("%#x %#X %#x", 255u, 255u, 0u);
    EXPECT_SAME("%llu", 18446744073709551615ULL);
}

TEST(Format, WidthAndFlags)
{
    EXPECT_SAME("[%5d][%-5d][%05d]", 42, 42, 42);
    EXPECT_SAME("[%05d]", -42);
    EXPECT_EQ(fmt("[%-05d]", -42), "[-42  ]"); // '-' beats '0'
    EXPECT_SAME("[%08x][%-8x][%8X]", 0xabcu, 0xabcu, 0xabcu);
    EXPECT_SAME("[%016llx]", 0x40000000ULL);
    EXPECT_SAME("[%1d][%2d]", 12345, 7);
    EXPECT_SAME("[%*d][%-*d]", 6, 1, 6, 1);
    EXPECT_SAME("[%*d]", -6, 1); // negative * width: left-justified
    EXPECT_SAME("[%#010x]", 0xbeefu);
}

TEST(Format, Precision)
{
    EXPECT_SAME("[%.3s][%.0s][%.10s]", "abcdef", "abc", "abc");
    EXPECT_SAME("[%-8.3s][%8.3s]", "abcdef", "abcdef");
    EXPECT_SAME("[%.*s]", 2, "xyz");
    EXPECT_SAME("[%.*s]", -1, "xyz"); // negative precision: as if none
    EXPECT_SAME("[%.5d][%8.3d][%.0d]", 42, -7, 0);
    EXPECT_EQ(fmt("[%08.3d]", 7), "[     007]"); // precision disables '0'
}

TEST(Format, StringsAndChars)
{
    EXPECT_SAME("[%s][%10s][%-10s]", "col", "right", "left");
    EXPECT_SAME("[%c][%3c][%-3c]", 'a', 'b', 'c');
}

TEST(Format, NullString)
{
    EXPECT_EQ(fmt("%s", static_cast<const char*>(nullptr)), "(null)");
}

TEST(Format, Pointer)
{
    char buf[64];
    fmt_snprintf(buf, sizeof(buf), "%p", reinterpret_cast<void*>(0x40001000));
    EXPECT_STREQ(buf, "0x40001000");
    fmt_snprintf(buf, sizeof(buf), "[%18p]", reinterpret_cast<void*>(0xabc));
    EXPECT_STREQ(buf, "[             0xabc]");
    fmt_snprintf(buf, sizeof(buf), "%p", nullptr);
    EXPECT_STREQ(buf, "0x0");
}

TEST(Format, TruncatesAndReportsFullLength)
{
    char buf[8];
    std::memset(buf, 'X', sizeof(buf));
    EXPECT_EQ(fmt_snprintf(buf, 5, "%s-%d", "abcdef", 123), 10);
    EXPECT_STREQ(buf, "abcd");
    EXPECT_EQ(buf[5], 'X'); // nothing past size
}

TEST(Format, SizeZeroAndOneWriteNothingButNul)
{
    char buf[4] = {'A', 'B', 'C', 'D'};
    EXPECT_EQ(fmt_snprintf(buf, 0, "%d", 12345), 5);
    EXPECT_EQ(buf[0], 'A');
    EXPECT_EQ(fmt_snprintf(nullptr, 0, "%s", "abc"), 3);
    EXPECT_EQ(fmt_snprintf(buf, 1, "%d", 12345), 5);
    EXPECT_EQ(buf[0], '\0');
    EXPECT_EQ(buf[1], 'B');
}

TEST(Format, UnknownConversionPrintedVerbatim)
{
    EXPECT_EQ(fmt("a%qb"), "a%qb");
    EXPECT_EQ(fmt("[%-5q]"), "[%-5q]");
    // A trailing lone '%' must not read past the terminator.
    EXPECT_EQ(fmt("50%"), "50%");
}

TEST(Format, StatisticsTableColumns)
{
    char buf[128];
    fmt_snprintf(buf, sizeof(buf), "%-6s|%8llu|%6.1s|%4x", "vcpu0", 1234567ULL, "yes", 0x1fu);
    EXPECT_STREQ(buf, "vcpu0 | 1234567|     y|  1f");
}

TEST(Format, LongOutputThroughSink)
{
    std::string collected;
    auto sink = [](void* ctx, const char* s, usize n) { static_cast<std::string*>(ctx)->append(s, n); };
    const char* fmt = "%300s|%-40d|";
    auto call = [&](const char* f, ...) {
        va_list ap;
        va_start(ap, f);
        const usize n = fmt_vformat(sink, &collected, f, ap);
        va_end(ap);
        return n;
    };
    const usize n = call(fmt, "x", 7);
    EXPECT_EQ(n, 342u);
    EXPECT_EQ(collected.size(), 342u);
    EXPECT_EQ(collected[298], ' ');
    EXPECT_EQ(collected[299], 'x');
    EXPECT_EQ(collected.substr(300, 3), "|7 ");
}

} // namespace
