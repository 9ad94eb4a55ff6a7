// The guest's virtio-blk disk (virtio-mmio at kGuestLayout.virtio_ipa, SPI
// kGuestLayout.virtio_spi), backed by a host file through QEMU semihosting.
#pragma once

// If the hypervisor option disk=PATH names a file: opens it on the host,
// and registers the device on g_vm.bus. Call once on the primary pCPU after
// stage 2, the vGIC and the other bus devices are set up, and before the
// guest DTB is built. A disk that cannot be opened is fatal.
void block_setup();
// A disk was set up (the guest DTB must then describe it).
bool block_present();
// One log line of device and backend counters (for the shutdown report).
void block_print_stats();
