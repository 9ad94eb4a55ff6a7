// The guest's virtio-blk disk (virtio-mmio at kGuestLayout.virtio_ipa, SPI
// kGuestLayout.virtio_spi), backed by one of QEMU's virtio-blk devices that
// only the hypervisor drives. See block.cpp.
#pragma once
#include "fdt/host_platform.h"

// If QEMU has a virtio-blk device on one of its virtio-mmio transports:
// brings it up, registers the guest's emulated disk on g_vm.bus and routes
// the real device's interrupt. Without one the guest has no disk. Call once
// on the primary pCPU after stage 2, the vGIC and the other bus devices are
// set up, and before the guest DTB is built. A device that cannot be brought
// up is fatal.
void block_setup(const HostPlatform& host);
// A disk was set up (the guest DTB must then describe it).
bool block_present();
// Log lines of device and backend counters (for the shutdown report).
void block_print_stats();
