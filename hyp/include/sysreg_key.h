// A system register's encoding as one number, op0:op1:CRn:CRm:op2, the way
// a trapped MSR/MRS (ESR_EL2 EC 0x18) names it. Shared by the trap decoder
// and the generic register emulations.
#pragma once
#include "types.h"

constexpr u32 sysreg_key(u32 op0, u32 op1, u32 crn, u32 crm, u32 op2)
{
    return (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

constexpr u32 sysreg_key_op0(u32 key) { return key >> 14; }
constexpr u32 sysreg_key_crn(u32 key) { return (key >> 7) & 15; }
constexpr u32 sysreg_key_crm(u32 key) { return (key >> 3) & 15; }
constexpr u32 sysreg_key_op2(u32 key) { return key & 7; }
constexpr u32 sysreg_key_op1(u32 key) { return (key >> 11) & 7; }
