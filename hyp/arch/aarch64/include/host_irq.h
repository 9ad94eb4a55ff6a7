// Physical interrupts of devices the hypervisor drives itself (QEMU's
// virtio-mmio devices behind its own drivers), next to the fixed ones
// handle_physical_irqs knows by number (kick SGI, timers, UART).
#pragma once
#include "types.h"

using HostIrqHandler = void (*)(u32 intid, void* ctx);

// Routes SPI `intid` (level-sensitive) to pCPU `pcpu`, enables it, and has
// handle_physical_irqs call `fn(intid, ctx)` on that pCPU for each occurrence, before it
// deactivates the interrupt: a level source must be quiet when `fn` returns.
// Boot time, on the primary pCPU, before the secondaries are released (the
// table is read without a lock afterwards). False if the table is full or
// `intid` is not an SPI.
bool host_irq_attach(u32 intid, u32 pcpu, HostIrqHandler fn, void* ctx = nullptr);

// Calls the handler attached to `intid`; false if there is none.
bool host_irq_dispatch(u32 intid);
