#include "debug/guest_debug_regs.h"

#include "sysreg_key.h"

namespace {

// Encodings (Arm ARM C5.3, op0 == 2).
constexpr u32 kOsdtrrx = sysreg_key(2, 0, 0, 0, 2);
constexpr u32 kMdccint = sysreg_key(2, 0, 0, 2, 0);
constexpr u32 kMdscr = sysreg_key(2, 0, 0, 2, 2);
constexpr u32 kOsdtrtx = sysreg_key(2, 0, 0, 3, 2);
constexpr u32 kOseccr = sysreg_key(2, 0, 0, 6, 2);
constexpr u32 kMdrar = sysreg_key(2, 0, 1, 0, 0);
constexpr u32 kOslar = sysreg_key(2, 0, 1, 0, 4);
constexpr u32 kOslsr = sysreg_key(2, 0, 1, 1, 4);
constexpr u32 kOsdlr = sysreg_key(2, 0, 1, 3, 4);
constexpr u32 kDbgprcr = sysreg_key(2, 0, 1, 4, 4);
constexpr u32 kClaimset = sysreg_key(2, 0, 7, 8, 6);
constexpr u32 kClaimclr = sysreg_key(2, 0, 7, 9, 6);
constexpr u32 kAuthstatus = sysreg_key(2, 0, 7, 14, 6);
constexpr u32 kMdccsr = sysreg_key(2, 3, 0, 1, 0);
constexpr u32 kDbgdtr = sysreg_key(2, 3, 0, 4, 0);
constexpr u32 kDbgdtrrxtx = sysreg_key(2, 3, 0, 5, 0);

constexpr u64 kClaimBits = 0xff;
// Non-secure invasive and non-invasive debug implemented and enabled; no
// Secure state.
constexpr u64 kAuthstatusValue = 0x0f;

DebugRegResult rw(u64& reg, bool read, u64& val)
{
    if (read)
        val = reg;
    else
        reg = val;
    return DebugRegResult::Done;
}

DebugRegResult read_only(bool read, u64& val, u64 value)
{
    if (!read)
        return DebugRegResult::Undef;
    val = value;
    return DebugRegResult::Done;
}

DebugRegResult raz_wi(bool read, u64& val)
{
    if (read)
        val = 0;
    return DebugRegResult::Done;
}

} // namespace

DebugRegResult emulate_debug_reg(GuestDebugRegs& s, DebugRegCount n, u32 key, bool read, u64& val)
{
    // Breakpoint and watchpoint pairs: op1 = 0, CRn = 0, CRm = n, op2 = 4..7.
    if (sysreg_key_op0(key) == 2 && sysreg_key_op1(key) == 0 && sysreg_key_crn(key) == 0 &&
        sysreg_key_op2(key) >= 4) {
        const u32 i = sysreg_key_crm(key);
        const bool bp = sysreg_key_op2(key) < 6;
        if (i >= (bp ? n.brps : n.wrps) || i >= GuestDebugRegs::kMaxPairs)
            return DebugRegResult::Undef;
        switch (sysreg_key_op2(key)) {
        case 4: return rw(s.bvr[i], read, val);
        case 5: return rw(s.bcr[i], read, val);
        case 6: return rw(s.wvr[i], read, val);
        default: return rw(s.wcr[i], read, val);
        }
    }
    switch (key) {
    case kMdscr: return rw(s.mdscr, read, val);
    case kMdccint: return rw(s.mdccint, read, val);
    case kOsdlr: return rw(s.osdlr, read, val);
    case kDbgprcr: return rw(s.dbgprcr, read, val);
    case kOslar:
        if (read)
            return DebugRegResult::Undef;
        s.oslk = (val & 1) != 0;
        return DebugRegResult::Done;
    case kOslsr: return read_only(read, val, oslsr_value(s.oslk));
    case kMdrar: return read_only(read, val, 0); // no ROM table
    case kAuthstatus: return read_only(read, val, kAuthstatusValue);
    case kMdccsr: return read_only(read, val, 0); // DCC idle: nothing to read, room to write
    case kClaimset:
        if (read)
            val = kClaimBits;
        else
            s.claim |= val & kClaimBits;
        return DebugRegResult::Done;
    case kClaimclr:
        if (read)
            val = s.claim;
        else
            s.claim &= ~val;
        return DebugRegResult::Done;
    case kOsdtrrx:
    case kOsdtrtx:
    case kOseccr:
    case kDbgdtr:
    case kDbgdtrrxtx: return raz_wi(read, val);
    default: return DebugRegResult::Undef;
    }
}
