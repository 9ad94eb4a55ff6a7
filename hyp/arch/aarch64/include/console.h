// The physical console shared by the hypervisor's log and the guest's UART.
// One lock serialises both so a log line never tears a guest line apart.
//
// Every line the hypervisor prints starts with kHypLineMark, the ASCII
// record separator (0x1E): terminals do not display it, and the guest can
// never send it (console_guest_putc turns it into '?'). So a line is the
// hypervisor's if and only if it starts with that byte, which is what
// scripts and tests match on, never on text a guest could print. A log line
// that comes while the guest is mid-line first ends the guest's partial
// line with the mark and CRLF, so the stream minus every marked record
// (from the mark to the next LF) is exactly what the guest printed.
#pragma once
#include "types.h"

constexpr char kHypLineMark = 0x1e;

void console_guest_putc(char c);         // a byte the guest transmitted
void console_raw_line(const char* text);  // panic path: one marked line, no lock
// The most recent log text as a ring (g_log_ring_head counts every byte
// ever written), for debuggers to read after the fact. Without the mark.
extern char g_log_ring[];
extern u32 g_log_ring_head;
constexpr u32 kLogRingSize = 16384;
