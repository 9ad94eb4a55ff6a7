// Stopping the whole machine after a panic (panic.cpp). The panicking pCPU
// sets the stop flag and kicks every other pCPU (SGI); each of them parks
// for good, interrupts off, at the next place it waits or takes an
// interrupt: a ticket lock's spin (ticket_lock.h: the panicking pCPU may
// hold that lock), and handle_physical_irqs(), which every WFI idle loop and
// every IRQ exit from the guest goes through.
#pragma once
#include "types.h"

extern u32 g_hyp_stop;

inline bool hyp_stopping() { return __atomic_load_n(&g_hyp_stop, __ATOMIC_RELAXED) != 0; }
// Parks this pCPU: interrupts masked and the CPU interface's group 1 off,
// WFI forever. A debugger can still stop it and look (make debug).
[[noreturn]] void hyp_stop_park();
