// Shared by the libFuzzer targets (tests/fuzz/*.cpp): the fuzz input read
// as a program of operations, and the invariant check that turns a
// violation into a crash libFuzzer saves.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "types.h"

namespace fuzz {

// Reads fixed-width fields from the input; past the end everything reads 0
// and done() turns true, so a target's loop ends on its own.
class Input {
public:
    Input(const u8* data, usize size) : p_(data), n_(size) {}

    bool done() const { return n_ == 0; }
    usize left() const { return n_; }

    u8 byte()
    {
        if (n_ == 0)
            return 0;
        n_--;
        return *p_++;
    }
    u16 u16le() { return static_cast<u16>(byte() | byte() << 8); }
    u32 u32le() { return static_cast<u32>(u16le()) | static_cast<u32>(u16le()) << 16; }
    u64 u64le() { return static_cast<u64>(u32le()) | static_cast<u64>(u32le()) << 32; }
    bool flag() { return byte() & 1; }
    // 0..n-1 (n >= 1).
    u32 below(u32 n) { return n <= 256 ? byte() % n : u32le() % n; }
    template <typename T, usize N>
    const T& pick(const T (&a)[N])
    {
        return a[below(static_cast<u32>(N))];
    }
    // Up to `max` raw bytes (fewer at the end); returns how many.
    usize bytes(void* out, usize max)
    {
        const usize k = max < n_ ? max : n_;
        if (k == 0)
            return 0;
        std::memcpy(out, p_, k);
        p_ += k;
        n_ -= k;
        return k;
    }

private:
    const u8* p_;
    usize n_;
};

[[noreturn]] inline void violated(const char* what, const char* file, int line)
{
    std::fprintf(stderr, "fuzz invariant violated: %s (%s:%d)\n", what, file, line);
    std::abort();
}

} // namespace fuzz

// A broken invariant is a crash: libFuzzer saves the input that led to it.
#define FUZZ_CHECK(cond)                                                                 \
    do {                                                                                 \
        if (!(cond))                                                                     \
            ::fuzz::violated(#cond, __FILE__, __LINE__);                                 \
    } while (0)
