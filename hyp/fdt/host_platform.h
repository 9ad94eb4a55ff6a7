// What the hypervisor needs to know about the board, read from the DTB QEMU
// hands over at boot. Strings point into that DTB, which must stay intact.
#pragma once
#include "config.h"
#include "types.h"

// One virtio-mmio transport of the board ("virtio,mmio" node). Whether a
// device sits behind it, and which, only probing its registers tells.
struct VirtioSlot {
    u64 base, size;
    u32 intid;                        // GIC INTID of its interrupt
};

struct HostPlatform {
    static constexpr u32 kMaxVirtio = 32;  // QEMU virt has 32 slots

    u64 ram_base, ram_size;           // first memory node, first reg entry
    u32 ncpus;                        // cpu nodes under /cpus (<= kMaxPcpus)
    u64 cpu_mpidr[kMaxPcpus];         // their reg values, in DTB order
    u64 gicd_base, gicd_size;         // "arm,gic-v3" reg[0]
    u64 gicr_base, gicr_size;         // "arm,gic-v3" reg[1] (first region)
    u64 uart_base, uart_size;         // first enabled "arm,pl011"
    u32 uart_intid;                   // GIC INTID: SPI n -> 32+n, PPI n -> 16+n
    const char* bootargs;             // /chosen/bootargs, "" if absent
    VirtioSlot virtio[kMaxVirtio];    // enabled virtio-mmio transports, in DTB order
    u32 nvirtio;
};

// Fills `out` from `fdt`. On failure returns false and sets *err to a static
// message naming what is missing or malformed.
bool parse_host_platform(const void* fdt, HostPlatform& out, const char** err);
