// Building a VM at boot, from where its RAM is and where it runs.
#pragma once
#include "fdt/host_platform.h"
#include "types.h"
#include "vm/placement.h"

class Vm;

struct VmSpec {
    u32 id;
    const VmPlacement* placement;  // its vCPUs and their pCPUs
    u64 ram_pa, ram_size;          // host memory backing its RAM (2 MiB aligned)
    u64 initrd_size;               // bytes at kGuestLayout.initrd_offset, 0 = none
    const char* cmdline;           // the guest kernel's command line
};

// Sets up `vm` from `spec`: vCPUs, stage 2, vGIC, PSCI, devices (UART, the
// next free QEMU virtio-blk if any), its device tree from QEMU's `host_fdt`,
// virtual time. Its kernel Image must already be at the start of its RAM.
// Boot time, primary pCPU. Returns nullptr, or a one-line error (fatal);
// `msg` is scratch space for it.
const char* vm_create(Vm& vm, const VmSpec& spec, const HostPlatform& host, const void* host_fdt, char* msg,
                      usize msg_len);
