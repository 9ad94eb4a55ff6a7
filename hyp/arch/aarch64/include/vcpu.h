// A virtual CPU: the register frame the vectors save into, its list
// registers as last seen, and its exit statistics.
//
// Ownership: a vCPU's fields are touched only by the pCPU it is placed on
// (kPlacement in run.cpp), except `stats` counters read for the shutdown table.
#pragma once
#include "context.h"
#include "frame.h"
#include "mmio.h"
#include "types.h"
#include "vgic/list_regs.h"

struct VcpuStats {
    u64 exits{};
    u64 hvc{};       // HVC and SMC calls (PSCI)
    u64 sysreg{};     // trapped system register accesses
    u64 wfi{};
    u64 wfi_blocked{}; // WFIs that actually waited
    u64 irq{};        // exits for a physical interrupt
    u64 mmio[MmioBus::kMaxRanges]{};
    u64 mmio_unhandled{};  // injected as external aborts
    u64 undef{};      // injected undefined-instruction exceptions
    u64 kicks_sent{};
    u64 scheduled{};  // switched onto a pCPU
    u64 preempted{};  // switched off while still runnable (time slice, yield)
    u64 run_ticks{};  // counter ticks spent running guest code or its exits
};

// Scheduling state. Blocked: waits for an interrupt (WFI, CPU_SUSPEND).
// Off: powered down through PSCI, waits for CPU_ON.
enum class RunState : u8 { Off, Runnable, Blocked };

struct Vcpu {
    GuestRegs regs{};
    u32 id{};
    u32 pcpu{};
    u64 mpidr{};          // affinity the guest sees (VMPIDR_EL2)
    vgic::LrFile lrs{};
    VcpuStats stats{};
    RunState state{};
    u32 events_seen{};      // vgic.events() when has_pending() was last false (Blocked)
    El1Context el1{};       // saved only while another vCPU has the pCPU
    FpContext fp{};
    TimerGicContext tg{};
};
