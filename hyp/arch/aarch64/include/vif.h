// The virtual CPU interface of this pCPU (ICH_LR<n>_EL2, ICH_HCR_EL2): moving
// a vCPU's list registers between the vGIC model and the hardware.
//
// Every exit saves them and every entry loads them, so these accesses are on
// the hottest path there is. Under QEMU each ICH_* access takes the
// emulator's big lock (the registers are ARM_CP_IO), and four vCPU threads
// contending for it made a trivial exit cost tens of microseconds. So the
// pCPU keeps a shadow of what the hardware holds (PcpuArch::vif_lr, vif_hcr)
// and touches only registers whose contents may differ:
//   * save reads only LRs that were valid at entry: hardware changes the
//     state of a valid LR (acknowledge, deactivate) and never touches an
//     invalid one; ICH_HCR_EL2 changes only in EOIcount, which the vGIC does
//     not use, so it is never read;
//   * load writes only LRs and an HCR that differ from the shadow.
// In single-pCPU mode the shadow is the previous vCPU's state after a switch,
// so exactly the differing registers are rewritten.
#pragma once
#include "vm/vcpu.h"

struct Pcpu;

// At VM entry set-up: every LR empty, HCR = En.
void vif_init(Pcpu& p);
// After an exit: the hardware's LRs and HCR into v.lrs.
void vif_save(Pcpu& p, Vcpu& v);
// After fold(): clear what keeps the level maintenance interrupt asserted
// while the hypervisor runs or waits (finished LRs with the EOI bit set, and
// underflow); flush() reprograms both before entry.
void vif_quiesce(Pcpu& p, const Vcpu& v);
// Before entry: v.lrs into the hardware.
void vif_load(Pcpu& p, const Vcpu& v);
// ICH_HCR_EL2 written outside save/load (the debugger masks the interface
// for a single step), keeping the shadow true.
void vif_write_hcr(Pcpu& p, u64 hcr);
