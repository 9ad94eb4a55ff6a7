// The physical GICv3 as the hypervisor uses it: all interrupts group 1,
// delivered to EL2 (HCR_EL2.IMO), EOImode=1 so that priority drop and
// deactivation are separate: the virtual timer's physical interrupt is left
// active and deactivated by the guest through a hardware list register.
#pragma once
#include "types.h"

namespace gic {

// Physical interrupts with a fixed role.
constexpr u32 kKickSgi = 0;        // "leave the guest and look at your pending work"
constexpr u32 kSpurious = 1020;    // INTIDs >= this from IAR are not interrupts

void init_distributor(u64 gicd_base);
void init_cpu(u64 gicr_base, u64 gicr_size, u64 mpidr);  // this pCPU's (Pcpu::id) redistributor + CPU interface

void enable_private(u32 intid, u8 priority);
void route_spi(u32 intid, u64 mpidr, u8 priority);  // level, to one pCPU, enabled
void clear_active_private(u32 intid);               // GICR_ICACTIVER0
void set_active_private(u32 intid);                 // GICR_ISACTIVER0
bool private_active(u32 intid);
void send_sgi(u32 intid, u64 target_mpidr);

u32 ack();                    // ICC_IAR1_EL1: the INTID taken (>= kSpurious: none)
void eoi(u32 intid);          // priority drop only
void deactivate(u32 intid);

u32 num_list_regs();
} // namespace gic

