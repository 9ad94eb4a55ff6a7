// The VMs' consoles (consoles.cpp). The physical UART (QEMU's stdio) shows
// one VM at a time, the focused one, and typed input goes to it; Ctrl-]
// then a VM number moves the focus. Every VM but the first also has a
// console of its own on a virtio-serial port (TCP 127.0.0.1:5550+N:
// `make console VM=N`). What a VM writes while nobody shows it is kept in a
// small history, replayed when it gets the focus.
#pragma once
#include "types.h"

class Vm;

// The physical UART's receive interrupt (INTID, from the host DTB).
extern u32 g_host_uart_intid;

// The physical UART's receive interrupt (pCPU 0): move what the focused VM
// has room for into its UART, take debug keys, throttle the rest.
void drain_physical_uart();
// The VM the physical console shows.
u32 console_focus();
