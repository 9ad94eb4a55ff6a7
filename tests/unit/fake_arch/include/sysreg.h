// Fake system registers for host unit tests of arch code: the same
// read_<name>()/write_<name>() accessors as hyp/arch/aarch64/include/sysreg.h
// (generated from the same list), backed by a FakeCpu per simulated pCPU.
// A test selects the pCPU a thread runs as with fake::use_cpu(n).
#pragma once
#include "sysreg_list.h"
#include "types.h"

namespace fake {

struct Cpu {
#define FAKE_FIELD(name, enc) u64 name;
    SYSREG_LIST(FAKE_FIELD, FAKE_FIELD, FAKE_FIELD)
#undef FAKE_FIELD
    u64 ich_lr[kMaxHwListRegs];
    // List-register accesses, which the exit path economises on.
    u64 lr_reads, lr_writes;
};

constexpr unsigned kCpus = 4;
Cpu& cpu();                 // the calling thread's pCPU
Cpu& cpu(unsigned n);
void use_cpu(unsigned n);   // this thread runs as pCPU n
void reset_cpus();          // every register 0, counters 0, the clock at 0

// The physical counter: CNTPCT_EL0 of every pCPU moves together, at
// CNTFRQ_EL0 = kFreq.
void set_counter(u64 t);
void advance(u64 ticks);
constexpr u64 kFreq = 62'500'000;  // QEMU's CNTFRQ
constexpr u64 us(u64 n) { return kFreq / 1'000'000 * n; }
constexpr u64 ms(u64 n) { return kFreq / 1000 * n; }

} // namespace fake

#define FAKE_RO(name, enc) inline u64 read_##name() { return fake::cpu().name; }
#define FAKE_WO(name, enc) inline void write_##name(u64 v) { fake::cpu().name = v; }
#define FAKE_RW(name, enc) FAKE_RO(name, enc) FAKE_WO(name, enc)

SYSREG_LIST(FAKE_RO, FAKE_WO, FAKE_RW)

#undef FAKE_RO
#undef FAKE_WO
#undef FAKE_RW

inline u64 read_ich_lr(unsigned n)
{
    fake::cpu().lr_reads++;
    return n < kMaxHwListRegs ? fake::cpu().ich_lr[n] : 0;
}

inline void write_ich_lr(unsigned n, u64 v)
{
    fake::cpu().lr_writes++;
    if (n < kMaxHwListRegs)
        fake::cpu().ich_lr[n] = v;
}
