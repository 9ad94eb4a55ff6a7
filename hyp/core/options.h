// The hypervisor's command line. QEMU's -append lands in the host DTB's
// /chosen/bootargs; its syntax is
//     [hyp-option ...] [-- guest kernel command line]
// with options separated by blanks:
//     mode=multi|single      one pCPU per vCPU, or all vCPUs on one pCPU
//     initrd_size=N          bytes, decimal or 0x hex; 0 = no initrd
//     timeslice_ms=N         1..1000, scheduling quantum of mode=single
//     gdb=0|1                enable the gdb stub
//     debug=0|1              a debugger is attached (make debug): a panic
//                            halts every pCPU instead of powering off
//     trace=0|1              record the event trace (docs/tracing.md)
//     trace_events=LIST      which events: all (default) or names, comma-separated
// Everything after the first standalone "--" is passed to the guest.
#pragma once
#include "types.h"

enum class Mode : u8 { Multi, Single };

struct Options {
    static constexpr usize kGuestCmdlineMax = 1024; // including the NUL

    Mode mode = Mode::Multi;
    u64 initrd_size = 0;
    u32 timeslice_ms = 10;
    bool gdb = false;
    bool debug = false;
    bool trace = false;
    static constexpr usize kTraceEventsMax = 256;  // including the NUL
    char trace_events[kTraceEventsMax] = "all";
    char guest_cmdline[kGuestCmdlineMax] = {};
};

const char* mode_name(Mode m);

// Parses `bootargs` (nullptr means empty) into `out`, starting from the
// defaults. On failure returns false and writes a one-line message naming
// the offending token and the accepted values into err (if err_len > 0);
// `out` is then only partly filled and must not be used.
bool parse_options(const char* bootargs, Options& out, char* err, usize err_len);
