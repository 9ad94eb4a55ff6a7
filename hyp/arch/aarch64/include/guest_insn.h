// The guest instruction behind a trapped exit, as ESR_EL2 and the saved
// PSTATE describe it: its length, whether an AArch32 instruction passes its
// condition, and moving the guest past it once it has been emulated.
#pragma once
#include "frame.h"
#include "types.h"

namespace insn {

// SPSR.M[4]: the guest was in AArch32 state (only EL0 can be: EL1 is AArch64).
constexpr bool aarch32(u64 spsr) { return (spsr & 0x10) != 0; }
// ESR_EL2.IL: a 32-bit instruction (A64, A32, T32), else a 16-bit T16 one.
constexpr unsigned length(u64 esr) { return (esr >> 25) & 1 ? 4 : 2; }

// AArch32 PSTATE.IT, reassembled from SPSR[15:10] (IT[7:2]) and SPSR[26:25] (IT[1:0]).
constexpr u32 itstate(u64 spsr) { return static_cast<u32>(((spsr >> 10) & 0x3f) << 2 | ((spsr >> 25) & 3)); }
u64 with_itstate(u64 spsr, u32 it);
// ITSTATE after one instruction of an IT block has executed (ITAdvance()).
u32 it_advance(u32 it);

// Whether the condition of the AArch32 instruction that trapped holds:
// ESR.COND when ESR.CV says it is valid, else the IT block's condition.
// Only for the exception classes that carry CV/COND (WFx, MCR/MRC and
// friends, FP access): those may trap even when the condition fails, and
// then the instruction must complete as a no-op. Always true for AArch64.
bool condition_passed(u64 esr, u64 spsr);

// The emulated instruction is done: PC past it (by the length ESR.IL
// gives), the IT state advanced, and if it was being single-stepped, the
// step is complete (PSTATE.SS = 0), as after the real instruction.
void skip(GuestRegs& r, u64 esr);

} // namespace insn
