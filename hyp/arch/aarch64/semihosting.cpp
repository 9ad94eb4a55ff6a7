// Semihosting calls from EL2. See semihosting.h.
#include "semihosting.h"

namespace semihosting {
namespace {

constexpr u64 kSysOpen = 0x01;
constexpr u64 kSysClose = 0x02;
constexpr u64 kSysWrite = 0x05;
constexpr u64 kSysRead = 0x06;
constexpr u64 kSysSeek = 0x0a;
constexpr u64 kSysFlen = 0x0c;

// The parameter block lives on our stack; "memory" because QEMU reads it and
// may write the buffers it points to.
u64 call(u64 op, const u64* block)
{
    register u64 x0 asm("x0") = op;
    register const u64* x1 asm("x1") = block;
    __asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
    return x0;
}

u64 length(const char* s)
{
    u64 n = 0;
    while (s[n])
        n++;
    return n;
}

} // namespace

i64 open(const char* path, OpenMode mode)
{
    const u64 block[3] = {reinterpret_cast<u64>(path), static_cast<u64>(mode), length(path)};
    return static_cast<i64>(call(kSysOpen, block));
}

bool close(i64 handle)
{
    const u64 block[1] = {static_cast<u64>(handle)};
    return call(kSysClose, block) == 0;
}

u64 read(i64 handle, void* buf, u64 len)
{
    const u64 block[3] = {static_cast<u64>(handle), reinterpret_cast<u64>(buf), len};
    return call(kSysRead, block);
}

u64 write(i64 handle, const void* buf, u64 len)
{
    const u64 block[3] = {static_cast<u64>(handle), reinterpret_cast<u64>(buf), len};
    return call(kSysWrite, block);
}

bool seek(i64 handle, u64 pos)
{
    const u64 block[2] = {static_cast<u64>(handle), pos};
    return call(kSysSeek, block) == 0;
}

i64 flen(i64 handle)
{
    const u64 block[1] = {static_cast<u64>(handle)};
    return static_cast<i64>(call(kSysFlen, block));
}

} // namespace semihosting
