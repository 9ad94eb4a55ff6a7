// The one virtual machine: its vCPUs, its devices and where it lives.
#pragma once
#include "config.h"
#include "core/options.h"
#include "devices/pl011.h"
#include "mmio.h"
#include "psci/psci.h"
#include "vcpu.h"
#include "vgic/vgic.h"

struct Vm {
    Options opts{};
    u32 nvcpus{};
    u64 ram_ipa{};
    u64 ram_pa{};
    u64 ram_size{};
    u64 initrd_size{};
    u64 cntvoff{};
    u64 host_uart_intid{};
    u64 pcpu_mpidr[kMaxPcpus]{};
    Vcpu vcpus[kMaxVcpus]{};
    MmioBus bus{};
    vgic::Vgic vgic{};
    psci::Psci psci{};

    u64 ipa_to_pa(u64 ipa) const { return ipa - ram_ipa + ram_pa; }
    bool ipa_in_ram(u64 ipa) const { return ipa >= ram_ipa && ipa - ram_ipa < ram_size; }
};

extern Vm g_vm;
extern Pl011 g_uart;

// Which pCPU runs vCPU n, per mode: the one place the modes differ in data.
u32 vcpu_home_pcpu(u32 vcpu);

// run.cpp
[[noreturn]] void run_vcpus(u32 pcpu);
void handle_physical_irqs();
void vcpu_kick(u32 vcpu);
void print_exit_stats();
