// A virtual machine: its RAM and stage-2 translation, its vCPUs, its
// interrupt controller, PSCI state, devices and MMIO bus. Every VM is an
// object in g_vms; nothing outside it knows how many there are.
//
// Set up at boot on the primary pCPU (vm_setup.cpp) before any pCPU runs
// vCPUs; afterwards each part has its own locking (vgic, devices) or is
// touched only by the pCPU a vCPU is placed on.
#pragma once
#include "config.h"
#include "core/options.h"
#include "devices/char_sink.h"
#include "devices/irq_line.h"
#include "devices/pl011.h"
#include "mmio.h"
#include "psci/psci.h"
#include "stage2.h"
#include "vgic/vgic.h"
#include "vm/vcpu.h"

class Vm;
struct VmDisk;

// The guest UART's interrupt line: SPI kGuestLayout.uart_spi of its VM.
class VmUartIrq final : public IrqLine {
public:
    void set_level(bool level) override;
    Vm* vm = nullptr;
};

// Where the guest UART's bytes go and its input comes from (console.h).
class VmConsoleSink final : public CharSink {
public:
    void put(char c) override;
    void rx_space() override;
    Vm* vm = nullptr;
};

class Vm final : public vgic::Notifier, public psci::Host {
public:
    constexpr Vm() = default;
    Vm(const Vm&) = delete;
    Vm& operator=(const Vm&) = delete;

    u32 id = 0;         // index in g_vms; its VMID is id + 1
    u32 nvcpus = 0;
    u64 ram_ipa = 0;    // guest RAM, IPA and host PA
    u64 ram_pa = 0;
    u64 ram_size = 0;
    u64 initrd_size = 0;
    // Its pristine kernel and initrd in host memory (vm_reload_images); 0:
    // loaded in place, no copy.
    u64 kernel_pa = 0;
    u64 kernel_size = 0;
    u64 initrd_pa = 0;
    bool console_port = false;  // its console is a virtio-serial port (else the physical UART)
    // Life cycle (lifecycle.h): a VmState, the vCPUs taken down for the
    // request under way (bit per vCPU), SYSTEM_RESETs carried out.
    u32 life = 0;
    u32 down = 0;
    u64 resets = 0;
    u64 cntvoff = 0;    // CNTVOFF_EL2: the guest's virtual time starts at 0
    const char* cmdline = "";  // guest kernel command line
    Stage2 s2{};
    Vcpu vcpus[kMaxVcpus]{};
    MmioBus bus{};
    vgic::Vgic vgic{};
    psci::Psci psci{};
    VmUartIrq uart_irq{};
    VmConsoleSink console{};
    Pl011 uart{console, uart_irq};
    VmDisk* disk = nullptr;  // vm_disk.cpp; null without a disk

    u64 ipa_to_pa(u64 ipa) const { return ipa - ram_ipa + ram_pa; }
    bool ipa_in_ram(u64 ipa) const { return ipa >= ram_ipa && ipa - ram_ipa < ram_size; }

    // vgic::Notifier: vCPU `vcpu` of this VM has a new interrupt to take;
    // its pending state is about to be read.
    void kick(u32 vcpu) override;
    void sample_lines(u32 vcpu) override;
    // psci::Host
    bool valid_entry(u64 ipa) override;
    void wake(u32 vcpu) override;
};

// The machine-wide options (the hypervisor's command line).
extern Options g_options;
extern Vm g_vms[kMaxVms];
extern u32 g_nvms;
