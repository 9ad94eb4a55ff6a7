// A VM's virtio-blk disk (virtio-mmio at kGuestLayout.virtio_ipa, SPI
// kGuestLayout.virtio_spi), backed by one of QEMU's virtio-blk devices that
// only the hypervisor drives. See vm_disk.cpp.
#pragma once
#include "fdt/host_platform.h"

class Vm;

// Boot, primary pCPU: claims and brings up every virtio-blk device QEMU
// has, and reads each one's serial. Returns nullptr, or a one-line error.
const char* vm_disks_probe(const HostPlatform& host);
// Gives `vm` the device whose serial is `serial` (nullptr: the first one
// left, the single-VM layout; "": no disk): registers the VM's emulated disk on its bus
// and routes the real device's interrupt. Without a device the VM has no
// disk (vm.disk stays null). Call after the VM's RAM and vGIC are set up
// and before its DTB is built. Returns nullptr, or a one-line error.
const char* vm_disk_attach(Vm& vm, const char* serial);
// The VM is reset: its emulated disk back to power-on, and nothing of the
// old guest's requests left to land in its memory.
void vm_disk_reset(Vm& vm);
// Log lines of device and backend counters (for the exit report).
void vm_disk_print_stats(const Vm& vm);
