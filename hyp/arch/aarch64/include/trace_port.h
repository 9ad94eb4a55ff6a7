// Where the event trace leaves the machine: the virtio-serial port named
// hyp.trace (make run TRACE=1 connects it to a file on the host), written
// when the machine powers off and on the console key Ctrl-] t.
#pragma once
#include "fdt/host_platform.h"

// Boot, primary pCPU, after the serial ports were probed: when trace=1,
// check trace_events=, take the port and start recording. Returns nullptr,
// or a one-line error naming the fix.
const char* trace_setup(const HostPlatform& host);
