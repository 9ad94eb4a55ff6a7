// A VM's life: running, stopping (SYSTEM_OFF), resetting (SYSTEM_RESET),
// stopped. A request is made on the pCPU of the vCPU that asked; every
// pCPU that runs vCPUs of the VM takes them down at its next scheduling
// pass, and the pCPU that takes the last one down carries the request out:
// for a stop, the VM's exit table (and the machine powers off when it was
// the last VM running); for a reset, the VM's devices, interrupt
// controller and PSCI state back to power-on, its pristine images back in
// its RAM, and its boot vCPU started. The other VMs run on meanwhile.
#pragma once
#include "types.h"

class Vm;
struct Pcpu;
struct Vcpu;

enum class VmState : u32 { Running, Stopping, Resetting, Stopped };
enum class VmRequest : u8 { Stop, Reset };

// From a guest exit (PSCI SYSTEM_OFF / SYSTEM_RESET of one of its vCPUs).
void vm_request(Vm& vm, VmRequest r);
// Scheduler, each pass on pCPU p for its vCPU v: false while v's VM is not
// running (v is taken down, and the last one down finishes the request);
// true once v may run. Starts the boot vCPU of a VM that was reset.
bool vm_vcpu_may_run(Pcpu& p, Vcpu& v);
VmState vm_state(const Vm& vm);
