// Register views over a run of IrqState shared by the distributor (SPIs)
// and the redistributor SGI frame (SGIs/PPIs), which use the same offsets.
// Callers hold the lock that owns the interrupts and pass only the valid
// ones: bits and bytes beyond `n` are RAZ/WI.
#pragma once
#include "types.h"
#include "vgic/irq.h"

namespace vgic {

// The bit-per-interrupt banks, one 0x80-byte bank each.
enum class BitReg : u8 { Group, SetEnable, ClearEnable, SetPending, ClearPending, SetActive, ClearActive };

// Which bank a (bank-aligned) offset below IPRIORITYR belongs to; false for
// offsets that are not a bit bank (CTLR/TYPER... area).
bool bit_reg_at(u64 bank_offset, BitReg& out);

u32 read_bit_reg(BitReg r, const IrqState* irqs, u32 n);

// Returns the INTID bits (relative to irqs[0]) whose deliverability may have
// changed, for the caller to decide which vCPUs to kick.
u32 write_bit_reg(BitReg r, IrqState* irqs, u32 n, u32 value);

// IPRIORITYR: one byte per interrupt, `n` bytes starting at irqs[0].
u32 read_priorities(const IrqState* irqs, u32 n);
void write_priorities(IrqState* irqs, u32 n, u32 value);

// ICFGR: two bits per interrupt, bit 2k+1 set = edge. Returns the changed mask.
u32 read_config(const IrqState* irqs, u32 n);
u32 write_config(IrqState* irqs, u32 n, u32 value);

} // namespace vgic
