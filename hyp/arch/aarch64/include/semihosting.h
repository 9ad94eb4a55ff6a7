// Arm semihosting from EL2 (the "Semihosting for AArch32 and AArch64"
// specification), as QEMU implements it: `HLT #0xF000` with the operation in
// w0 and a pointer to a block of 64-bit parameters in x1; the result comes
// back in x0. QEMU handles the call synchronously on the calling vCPU's
// thread, while it holds its big lock, so the calling pCPU stops for the
// whole host system call (and other pCPUs stop too when they need that lock).
//
// Only works when QEMU runs with `-semihosting-config enable=on,target=native`;
// without it HLT is an undefined instruction and the hypervisor panics.
// Pointers passed to QEMU are EL2 virtual addresses (identity-mapped here).
#pragma once
#include "types.h"

namespace semihosting {

// SYS_OPEN modes (ISO C fopen modes, in the spec's order).
enum class OpenMode : u64 {
    Read = 0,        // "r"
    ReadBinary = 1,  // "rb"
    ReadWriteBinary = 3,  // "r+b": must exist, no truncation
};

// Returns a handle (>= 0) or -1.
i64 open(const char* path, OpenMode mode);
bool close(i64 handle);
// Return the number of bytes NOT transferred (0 = complete), as the spec does.
u64 read(i64 handle, void* buf, u64 len);
u64 write(i64 handle, const void* buf, u64 len);
// Absolute position. True on success.
bool seek(i64 handle, u64 pos);
// File length in bytes, or -1.
i64 flen(i64 handle);

} // namespace semihosting
