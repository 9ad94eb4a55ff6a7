#include "vm/vm.h"

#include "vm/arch.h"
#include "vm/console.h"
#include "vm/pcpu.h"
#include "vm/sched.h"

Pcpu g_pcpus[kMaxPcpus];  // zero-initialised (.bss)
constinit Options g_options;
constinit Vm g_vms[kMaxVms];
u32 g_nvms;

void VmUartIrq::set_level(bool level) { vm->vgic.set_spi_level(kGuestLayout.uart_spi, level); }

void VmConsoleSink::put(char c) { console_vm_output(*vm, c); }
void VmConsoleSink::rx_space() { console_vm_rx_space(*vm); }

void Vm::kick(u32 vcpu) { vcpu_kick(vcpus[vcpu]); }
void Vm::sample_lines(u32 vcpu) { arch::vcpu_sample_lines(vcpus[vcpu]); }
void Vm::wake(u32 vcpu) { vcpu_kick(vcpus[vcpu]); }
// A PSCI entry point: 4-byte aligned, inside this VM's RAM.
bool Vm::valid_entry(u64 ipa) { return ipa_in_ram(ipa) && (ipa & 3) == 0; }
