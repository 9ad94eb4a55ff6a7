// Modes other than the test table, for the isolation test of several VMs
// (tests/system/test_isolation.py), chosen by `hwmode=` in /chosen/bootargs:
//
//   hwmode=memscan   a console command loop that scans this VM's own RAM for
//                    a key word and probes IPAs outside it (memscan.cpp)
//   hwmode=hostile   rounds of hostile guest actions, each ending in
//                    SYSTEM_RESET, so the VM reboots and starts the next
//                    (hostile.cpp)
//
// Without hwmode= the guest runs its tests (harness.cpp) as always.
#pragma once
#include "base.h"

// The value of `key=` in /chosen/bootargs, copied into buf (up to the next
// blank); false if absent.
bool bootarg(const char* key, char* buf, usize size);
bool str_equal(const char* a, const char* b);

// This VM's RAM, from the DT's memory node.
struct RamRange {
    u64 base, size;
};
RamRange guest_ram();

// Console input (PL011 receive FIFO), polled.
bool console_rx_ready();
char console_getc();  // waits for a byte
// One line typed on the console (PL011 receive, polled; the vCPU sleeps in
// WFI between looks), without its end of line.
void read_line(char* buf, usize size);
// Next blank-separated word of *s as a number (hex with 0x, else decimal,
// or 16 bare hex digits with `hex`); false if none.
bool next_number(const char*& s, u64& out, bool hex = false);

// A 2 MiB window at VA kProbeWindowVa that maps any IPA (Normal memory,
// stage-1 block in start.S's pt_l2_probe[2]); returns the VA of `ipa`.
constexpr uptr kProbeWindowVa = 0x8040'0000;
uptr probe_window(u64 ipa);

// Small PRNG (xorshift64*): the hostile values.
struct Rng {
    u64 s;
    u64 next()
    {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 0x2545f4914f6cdd1dull;
    }
};

[[noreturn]] void memscan_main();
[[noreturn]] void hostile_main();
[[noreturn]] void hostile_secondary(u32 cpu, u32 arg);
