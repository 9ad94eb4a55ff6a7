// The guest's own self-hosted debug registers while the hypervisor's gdb
// stub owns the hardware ones. With MDCR_EL2.TDE set, every guest access to
// a debug register (op0 == 2: MDSCR_EL1, DBGB/WCR/VR<n>_EL1, the OS lock,
// the DCC, the claim tags) traps; it is served from this per-vCPU copy, so
// the guest reads back what it wrote and finds it in the hardware again
// after the debugger detaches. While attached, the guest's breakpoints,
// watchpoints and software step do not take effect (the hardware serves
// the debugger). Registers an external debugger would use (DCC, OS
// save/restore) read as an idle, absent debugger.
#pragma once
#include "types.h"

struct GuestDebugRegs {
    static constexpr unsigned kMaxPairs = 16;  // DBGB/W*<n>_EL1, n < 16
    u64 mdscr;
    u64 bvr[kMaxPairs];
    u64 bcr[kMaxPairs];
    u64 wvr[kMaxPairs];
    u64 wcr[kMaxPairs];
    u64 mdccint;
    u64 dbgprcr;
    u64 osdlr;
    u64 claim;
    bool oslk;  // OS lock, as the guest set it (OSLAR_EL1.OSLK)
};

struct DebugRegCount {
    unsigned brps;  // breakpoint pairs (ID_AA64DFR0_EL1.BRPs + 1)
    unsigned wrps;  // watchpoint pairs (ID_AA64DFR0_EL1.WRPs + 1)
};

enum class DebugRegResult : u8 { Done, Undef };

// An MRS (read: fills val) or MSR (write: takes val) of the debug register
// `key` (sysreg_key.h). Undef for a register that does not exist (including
// a pair beyond `n`) or for the wrong direction (OSLSR written, OSLAR read).
DebugRegResult emulate_debug_reg(GuestDebugRegs& s, DebugRegCount n, u32 key, bool read, u64& val);

// OSLSR_EL1 as the guest should read it: the OS lock is implemented
// (OSLM = 0b10) and locked or not.
constexpr u64 oslsr_value(bool oslk) { return 0x8 | (oslk ? 2 : 0); }
