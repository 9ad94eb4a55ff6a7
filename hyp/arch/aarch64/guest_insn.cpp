#include "guest_insn.h"

#include "hw_regs.h"

namespace insn {

u64 with_itstate(u64 spsr, u32 it)
{
    spsr &= ~((u64{0x3f} << 10) | (u64{3} << 25));
    return spsr | (u64{it >> 2 & 0x3f} << 10) | (u64{it & 3} << 25);
}

u32 it_advance(u32 it)
{
    if ((it & 7) == 0)
        return 0; // the last instruction of the block
    return (it & 0xe0) | ((it << 1) & 0x1f);
}

namespace {
// The AArch32 condition codes against NZCV (Arm ARM, ConditionHolds()).
bool holds(u32 cond, u64 spsr)
{
    const bool n = (spsr >> 31) & 1, z = (spsr >> 30) & 1, c = (spsr >> 29) & 1, v = (spsr >> 28) & 1;
    bool r;
    switch (cond >> 1) {
    case 0: r = z; break;            // EQ / NE
    case 1: r = c; break;            // CS / CC
    case 2: r = n; break;            // MI / PL
    case 3: r = v; break;            // VS / VC
    case 4: r = c && !z; break;      // HI / LS
    case 5: r = n == v; break;       // GE / LT
    case 6: r = n == v && !z; break; // GT / LE
    default: return true;            // AL (and 0b1111)
    }
    return (cond & 1) ? !r : r;
}
} // namespace

bool condition_passed(u64 esr, u64 spsr)
{
    if (!aarch32(spsr))
        return true;
    constexpr u64 kCv = bit(24);
    u32 cond;
    if (esr & kCv) {
        cond = static_cast<u32>(bits(esr, 23, 20));
    } else {
        const u32 it = itstate(spsr);
        if ((it & 0xf) == 0)
            return true; // not in an IT block: unconditional
        cond = it >> 4;
    }
    return holds(cond, spsr);
}

void skip(GuestRegs& r, u64 esr)
{
    r.elr += length(esr);
    if (aarch32(r.spsr)) {
        r.elr &= 0xffff'ffff;
        const u32 it = itstate(r.spsr);
        if (it & 0xf)
            r.spsr = with_itstate(r.spsr, it_advance(it));
    }
    r.spsr &= ~spsr::SS;
}

} // namespace insn
