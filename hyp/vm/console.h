// A VM's console as the generic layer sees it: the arch console code routes
// a guest UART's output and flow control (hyp/arch/aarch64/consoles.cpp).
#pragma once

#include "types.h"

class Vm;

// VM n's console port is served on TCP 127.0.0.1:kConsolePortBase + n
// (scripts/machine.py CONSOLE_PORT_BASE, scripts/console.py).
constexpr u32 kConsolePortBase = 5550;

void console_vm_output(Vm& vm, char c);  // a byte the guest transmitted
void console_vm_rx_space(Vm& vm);        // its receive FIFO has room again
// Boot: connect `vm`'s console (its port, if Vm::console_port). Returns
// nullptr, or a one-line error.
const char* console_attach(Vm& vm);
