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
    // Pristine images in host memory outside every VM's RAM, copied into its
    // RAM at start and at every SYSTEM_RESET; kernel_size 0: the kernel
    // (and the initrd, initrd_size bytes) were loaded into its RAM in place
    // and there is no pristine copy (the legacy single-VM layout).
    u64 kernel_pa, kernel_size;
    u64 initrd_pa, initrd_size;
    const char* cmdline;           // the guest kernel's command line
    const char* disk;              // serial of its QEMU disk; nullptr: the first one
    bool console_port;             // its console is a virtio-serial port, not the UART
};

// Sets up `vm` from `spec`: images, vCPUs, stage 2, vGIC, PSCI, devices
// (UART, its disk if any), its device tree from QEMU's `host_fdt`, virtual
// time. Boot time, primary pCPU. Returns nullptr, or a one-line error
// (fatal); `msg` is scratch space for it.
const char* vm_create(Vm& vm, const VmSpec& spec, const HostPlatform& host, const void* host_fdt, char* msg,
                      usize msg_len);

// Puts the VM's pristine kernel, initrd and device tree back into its RAM
// (SYSTEM_RESET). False when it has no pristine copies (legacy layout).
bool vm_reload_images(Vm& vm);
