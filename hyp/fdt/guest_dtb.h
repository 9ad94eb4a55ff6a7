// Builds the device tree the guest boots with, by trimming a copy of the
// host DTB QEMU provided: same devices where the guest sees them natively
// (timer, GIC, pl011 and its clock), CPUs/memory/PSCI describing the VM,
// and the hypervisor's own virtio-mmio disk when it has one.
#pragma once
#include "types.h"

struct GuestDtbConfig {
    u64 ram_base, ram_size;       // guest RAM (IPA)
    u32 nvcpus;                   // 1..kMaxVcpus
    const u64* vcpu_mpidr;        // nvcpus virtual MPIDRs (vcpu 0 boots)
    u64 gicd_base, gicd_size;
    u64 gicr_base, gicr_size;     // all of the guest's redistributors, one region
    u64 uart_base;                // pl011 (size kept from the host DTB)
    u64 initrd_start, initrd_end; // IPA range; 0,0 = no initrd
    const char* bootargs;         // guest kernel command line (nullptr = "")
    // virtio-mmio block device: a "virtio,mmio" node (edge-triggered SPI,
    // dma-coherent) when virtio_size != 0. virtio_spi is the INTID (32..1019).
    u64 virtio_base = 0, virtio_size = 0;
    u32 virtio_spi = 0;
    // Keep the host's PMU node ("arm,armv8-pmuv3", its PPI) when the guest
    // has the PMU (core/cpu_features.h); without it the node is removed.
    bool pmu = false;
};

// Writes the guest DTB into out[0, out_size) and packs it (fdt_totalsize()
// gives the final size). `out` should be 8-byte aligned and must not overlap
// host_fdt. Returns 0 or a negative libfdt error (-FDT_ERR_NOSPACE if out is
// too small; nothing is ever written past out_size).
//
// Uses about 1 KiB of stack. libfdt's write functions (fdt_open_into, the
// memory-reservation editing) use FP/SIMD registers: call this only at boot,
// before any guest FP/SIMD state is live, with FP access not trapped.
int build_guest_dtb(const void* host_fdt, void* out, usize out_size, const GuestDtbConfig& cfg);

// Message for a build_guest_dtb() error.
const char* guest_dtb_strerror(int err);
