// A VM's virtio-blk disk (virtio-mmio at kGuestLayout.virtio_ipa, SPI
// kGuestLayout.virtio_spi), backed by one of QEMU's virtio-blk devices that
// only the hypervisor drives. See vm_disk.cpp.
#pragma once
#include "fdt/host_platform.h"

class Vm;

// If QEMU has an unclaimed virtio-blk device: brings it up, registers the
// VM's emulated disk on its bus and routes the real device's interrupt.
// Without one the VM has no disk (vm.disk stays null). Call once per VM on
// the primary pCPU after its RAM, stage 2 and vGIC are set up and before
// its DTB is built. Returns nullptr, or a one-line error (fatal).
const char* vm_disk_attach(Vm& vm, const HostPlatform& host);
// Log lines of device and backend counters (for the exit report).
void vm_disk_print_stats(const Vm& vm);
