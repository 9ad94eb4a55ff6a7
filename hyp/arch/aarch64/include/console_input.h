// Typed input from the physical UART (console_input.cpp).
#pragma once
#include "types.h"

// The physical UART's receive interrupt (INTID, from the host DTB).
extern u32 g_host_uart_intid;

// The physical UART's receive interrupt (pCPU 0): move what the guest has
// room for into its UART, take debug keys, throttle the rest.
void drain_physical_uart();
