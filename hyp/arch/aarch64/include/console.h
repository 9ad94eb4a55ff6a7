// The physical console shared by the hypervisor's log and the guest's UART.
// One lock serialises both so a log line never tears a guest line apart.
#pragma once
#include "types.h"

void console_guest_putc(char c);   // a byte the guest transmitted
void console_raw_write(const char* s);  // panic path: no lock, no prefix
// The most recent log text as a ring (g_log_ring_head counts every byte
// ever written), for debuggers to read after the fact.
extern char g_log_ring[];
extern u32 g_log_ring_head;
constexpr u32 kLogRingSize = 16384;
