#include "vgic/irq_regs.h"

#include "vgic/regs.h"

namespace vgic {

bool bit_reg_at(u64 bank_offset, BitReg& out)
{
    switch (bank_offset) {
    case off(Gicd::Igroupr): out = BitReg::Group; return true;
    case off(Gicd::Isenabler): out = BitReg::SetEnable; return true;
    case off(Gicd::Icenabler): out = BitReg::ClearEnable; return true;
    case off(Gicd::Ispendr): out = BitReg::SetPending; return true;
    case off(Gicd::Icpendr): out = BitReg::ClearPending; return true;
    case off(Gicd::Isactiver): out = BitReg::SetActive; return true;
    case off(Gicd::Icactiver): out = BitReg::ClearActive; return true;
    default: return false;
    }
}

namespace {

bool read_one(BitReg r, const IrqState& i)
{
    switch (r) {
    case BitReg::Group: return i.group1;
    case BitReg::SetEnable:
    case BitReg::ClearEnable: return i.enabled;
    case BitReg::SetPending:
    case BitReg::ClearPending: return i.pending();
    case BitReg::SetActive:
    case BitReg::ClearActive: return i.active;
    }
    return false;
}

// Changes made here while the interrupt sits in a live LR reach the guest at
// that vCPU's next flush, which re-encodes the LR from this state.
void write_one(BitReg r, IrqState& i, bool one)
{
    switch (r) {
    case BitReg::Group: i.group1 = one; break;
    case BitReg::SetEnable: i.enabled = i.enabled || one; break;
    case BitReg::ClearEnable: i.enabled = i.enabled && !one; break;
    case BitReg::SetPending: i.latch = i.latch || one; break;
    case BitReg::ClearPending:
        // A level line that is still high keeps the interrupt pending.
        if (one) {
            i.latch = false;
            i.lr_pending = false;
            i.lr_from_latch = false;
        }
        break;
    case BitReg::SetActive: i.active = i.active || one; break;
    case BitReg::ClearActive: i.active = i.active && !one; break;
    }
}

} // namespace

u32 read_bit_reg(BitReg r, const IrqState* irqs, u32 n)
{
    u32 v = 0;
    for (u32 k = 0; k < n && k < 32; k++)
        if (read_one(r, irqs[k]))
            v |= 1u << k;
    return v;
}

u32 write_bit_reg(BitReg r, IrqState* irqs, u32 n, u32 value)
{
    const u32 valid = static_cast<u32>(mask(n < 32 ? n : 32));
    for (u32 k = 0; k < n && k < 32; k++)
        if (r == BitReg::Group || (value & (1u << k)))
            write_one(r, irqs[k], (value >> k) & 1);
    switch (r) {
    case BitReg::Group: return valid;
    case BitReg::SetEnable:
    case BitReg::SetPending: return value & valid;
    default: return 0; // clearing never makes anything deliverable
    }
}

u32 read_priorities(const IrqState* irqs, u32 n)
{
    u32 v = 0;
    for (u32 k = 0; k < n && k < 4; k++)
        v |= static_cast<u32>(irqs[k].priority) << (8 * k);
    return v;
}

void write_priorities(IrqState* irqs, u32 n, u32 value)
{
    for (u32 k = 0; k < n && k < 4; k++)
        irqs[k].priority = static_cast<u8>(value >> (8 * k)) & kPriorityMask;
}

u32 read_config(const IrqState* irqs, u32 n)
{
    u32 v = 0;
    for (u32 k = 0; k < n && k < 16; k++)
        if (irqs[k].edge)
            v |= 2u << (2 * k);
    return v;
}

u32 write_config(IrqState* irqs, u32 n, u32 value)
{
    u32 changed = 0;
    for (u32 k = 0; k < n && k < 16; k++) {
        const bool edge = (value >> (2 * k + 1)) & 1;
        if (edge != irqs[k].edge)
            changed |= 1u << k;
        irqs[k].edge = edge;
    }
    return changed;
}

} // namespace vgic
