// The run loop and the exit path (run.cpp).
#pragma once
#include "types.h"

// Every pCPU, once released at boot: run the vCPUs placed on it. Never returns.
[[noreturn]] void run_vcpus();
// Take every pending physical interrupt (after an IRQ exit or an idle
// wake-up). Returns the first INTID taken (>= 1020: none).
u32 handle_physical_irqs();
