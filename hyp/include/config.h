// Compile-time limits and the guest's view of the machine. Everything here
// is data: the scheduling mode and the host board are discovered at run time
// (see core/options.h and fdt/host_platform.h).
#pragma once
#include "types.h"

constexpr unsigned kMaxPcpus = 4;
constexpr unsigned kMaxVcpus = 4;   // per VM (the vGIC, PSCI and the guest DTB are sized for it)
constexpr unsigned kMaxVms = 4;
// vCPUs one pCPU may time-share, of any VMs.
constexpr unsigned kMaxRunq = kMaxVms * kMaxVcpus;

// Guest physical (IPA) layout. Guest RAM is backed by host RAM placed right
// after the memory the hypervisor reserves for itself; MMIO windows sit where
// QEMU's virt board has them so the unmodified kernel finds familiar devices.
struct GuestLayout {
    u64 ram_ipa;         // guest RAM base (IPA)
    u64 kernel_offset;   // kernel Image, from ram_ipa (2 MiB aligned)
    u64 dtb_offset;      // guest device tree, from ram_ipa
    u64 dtb_max_size;
    u64 initrd_offset;   // initramfs, from ram_ipa
    u64 gicd_ipa;
    u64 gicd_size;
    u64 gicr_ipa;        // first redistributor; vCPU n at gicr_ipa + n*gicr_stride
    u64 gicr_stride;
    u64 uart_ipa;
    u64 uart_size;
    u32 uart_spi;        // INTID of the guest UART interrupt
    u64 virtio_ipa;      // virtio-mmio block device (QEMU virt's first virtio-mmio slot)
    u64 virtio_size;
    u32 virtio_spi;      // its INTID (SPI 16)
    u32 vtimer_ppi;      // INTID of the EL1 virtual timer
    u32 ptimer_ppi;      // INTID of the EL1 physical timer
    u32 maintenance_ppi; // INTID of the GIC maintenance interrupt (host)
    u32 nr_spis;         // SPIs the virtual distributor implements
};

inline constexpr GuestLayout kGuestLayout{
    .ram_ipa = 0x4000'0000,
    .kernel_offset = 0,
    .dtb_offset = 0x07e0'0000,
    .dtb_max_size = 2 * MiB, // QEMU's tree is built in place (its totalsize is 1 MiB), then packed
    .initrd_offset = 0x0800'0000,
    .gicd_ipa = 0x0800'0000,
    .gicd_size = 0x1'0000,
    .gicr_ipa = 0x080a'0000,
    .gicr_stride = 0x2'0000,
    .uart_ipa = 0x0900'0000,
    .uart_size = 0x1000,
    .uart_spi = 33,
    .virtio_ipa = 0x0a00'0000,
    .virtio_size = 0x200,
    .virtio_spi = 48,
    .vtimer_ppi = 27,
    .ptimer_ppi = 30,
    .maintenance_ppi = 25,
    .nr_spis = 96,
};

// Host memory reserved for the hypervisor at the base of RAM: QEMU's DTB
// (first MiB), the hypervisor image, stacks, page tables and pools. Guest RAM
// is the rest of host RAM.
constexpr u64 kHypReserved = 64 * MiB;

// The EL2 physical timer (CNTHP) interrupt: the single-pCPU scheduler's tick.
constexpr u32 kHypTimerPpi = 26;
