// A VM's stage-2 translation: guest RAM as 2 MiB blocks of Normal memory,
// nothing else (every device access faults to EL2). Tables come from a
// fixed pool, one set per VM; TLB entries are tagged with the VM's VMID.
#pragma once
#include "types.h"

struct Stage2 {
    u64 vttbr;  // VMID << 48 | level-1 table PA; 0 until created
    u16 vmid() const { return static_cast<u16>(vttbr >> 48); }
};

// Maps IPA [ipa, ipa+size) to PA [pa, ...). Returns nullptr, or why not.
const char* stage2_create(Stage2& s2, u16 vmid, u64 ipa, u64 pa, u64 size);
// This pCPU translates for `s2` from now on (VTTBR_EL2).
void stage2_load(const Stage2& s2);
// Every pCPU forgets s2's translations (its VMID only).
void stage2_flush_tlbs(const Stage2& s2);
// The level-1 table's PA (debuggers, the gdb helpers).
inline u64 stage2_root(const Stage2& s2) { return s2.vttbr & ((u64{1} << 48) - 1); }
