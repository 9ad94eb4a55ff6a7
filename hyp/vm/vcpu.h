// A virtual CPU: the register frame the exception vectors save into, the VM
// it belongs to, the pCPU it is placed on, its list registers as last seen,
// its scheduling state and statistics, and the hardware state it owns while
// another vCPU has its pCPU (VcpuArch).
//
// Ownership: a vCPU's fields are touched only by the pCPU it is placed on,
// except `stats` counters, read racily for the exit table.
#pragma once
#include "mmio.h"
#include "types.h"
#include "vcpu_arch.h"
#include "vgic/list_regs.h"

class Vm;

struct VcpuStats {
    u64 exits{};
    u64 hvc{};         // HVC and SMC calls (PSCI)
    u64 sysreg{};      // trapped system register accesses
    u64 wfi{};
    u64 wfi_blocked{}; // WFIs that actually waited
    u64 irq{};         // exits for a physical interrupt
    u64 mmio[MmioBus::kMaxRanges]{};
    u64 mmio_unhandled{}; // injected as external aborts
    u64 undef{};       // injected undefined-instruction exceptions
    u64 kicks_sent{};
    u64 scheduled{};   // switched onto a pCPU
    u64 preempted{};   // switched off while still runnable (time slice, yield)
    u64 run_ticks{};   // counter ticks spent running guest code or its exits
};

// Scheduling state. Blocked: waits for an interrupt (WFI, CPU_SUSPEND).
// Off: powered down through PSCI, waits for CPU_ON.
enum class RunState : u8 { Off, Runnable, Blocked };

struct Vcpu {
    GuestRegs regs{};
    Vm* vm{};
    u32 id{};          // the guest's CPU number: its index in vm->vcpus
    u32 pcpu{};        // the pCPU it is placed on (never changes)
    u64 mpidr{};       // affinity the guest sees (VMPIDR_EL2)
    vgic::LrFile lrs{};
    VcpuStats stats{};
    RunState state{};
    bool held{};       // the debugger keeps it stopped: not runnable
    bool down{};       // taken down for its VM's stop or reset (lifecycle.h)
    u32 events_seen{}; // vgic.events() when has_pending() was last false (Blocked)
    VcpuArch arch{};
};
