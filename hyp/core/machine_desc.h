// The machine the host describes for the hypervisor: which VMs to run, where
// each one's RAM and pristine images are in host memory, which pCPU each of
// its vCPUs runs on, its disk and its console. scripts/machine.py writes it
// (from MODE=, VMS= or a VMCONF= file) and QEMU's loader puts it at
// kMachineDescPa; without it the hypervisor runs the single VM of its
// command line (legacy layout, docs/architecture.md).
//
// Text, one statement per line, '#' comments:
//
//     hyp-machine 1
//     vm 0                          VMs numbered from 0, in order
//     vcpus 2                       1..kMaxVcpus
//     pcpus 0 1                     the pCPU of each vCPU
//     ram 0x50000000 0x20000000     host PA and size of its RAM (2 MiB aligned)
//     kernel 0x44000000 27303872    host PA and size of its pristine Image
//     initrd 0x45c00000 1468469     ... of its initramfs (0 0: none)
//     disk vm0                      serial of its QEMU virtio-blk device, or none
//     console uart                  uart: the physical UART; port: virtio-serial port hyp.vm<N>
//     bootargs console=ttyAMA0 ...  the rest of the line, to the guest
//     end                           (closes the VM)
//
// A host input: the parser checks everything (ranges, overlaps, order) and
// never reads past `len`.
#pragma once
#include "config.h"
#include "types.h"

constexpr u64 kMachineDescPa = 0x4010'0000;  // between QEMU's DTB and the hypervisor image
constexpr u64 kMachineDescMax = 64 * KiB;

struct VmDesc {
    static constexpr usize kSerialMax = 21;     // virtio-blk GET_ID: 20 bytes + NUL
    static constexpr usize kBootargsMax = 1024; // including the NUL

    u32 vcpus;
    u32 pcpu[kMaxVcpus];
    u64 ram_pa, ram_size;
    u64 kernel_pa, kernel_size;
    u64 initrd_pa, initrd_size;
    char disk[kSerialMax];  // "" = no disk
    bool console_port;      // false: the physical UART (stdio)
    char bootargs[kBootargsMax];
};

struct MachineDesc {
    u32 nvms;
    VmDesc vm[kMaxVms];
};

// Whether `text` starts like a machine description at all.
bool is_machine_desc(const char* text, usize len);
// Parses and checks `text`; on failure writes a one-line message naming the
// line and what is wrong into err and returns false.
bool parse_machine_desc(const char* text, usize len, u32 npcpus, MachineDesc& out, char* err, usize err_len);
