// Typed input from the physical UART (console_input.cpp).
#pragma once

// The physical UART's receive interrupt (pCPU 0): move what the guest has
// room for into its UART, take debug keys, throttle the rest.
void drain_physical_uart();
