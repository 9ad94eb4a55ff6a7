// A software walk of a guest's stage-1 (EL1&0) translation tables, from the
// registers a vCPU has or had loaded (Arm ARM D8, VMSAv8-64): what the
// debugger uses to turn a guest virtual address into an IPA for any vCPU,
// loaded or not (AT S12E1R would only work for the vCPU loaded on the
// calling pCPU). Table descriptors are read through a callback that only
// succeeds for guest RAM, so a bad pointer in the guest's tables ends the
// walk with a fault, never an access outside the guest.
//
// Covered: 4, 16 and 64 KiB granules, TxSZ 16..39 (and the start level it
// implies), TTBR0/TTBR1 selection, top-byte-ignore, EPDx, blocks at level
// 1 and 2, the MMU being off (flat mapping). Not covered, because the walk
// is for reading and writing memory on the debugger's behalf: permissions,
// the access flag, 52-bit addresses.
#pragma once
#include "types.h"

namespace s1 {

struct Regs {
    u64 sctlr;  // SCTLR_EL1 (M: bit 0)
    u64 tcr;    // TCR_EL1
    u64 ttbr0;  // TTBR0_EL1
    u64 ttbr1;  // TTBR1_EL1
};

class TableReader {
public:
    // The 8-byte descriptor at `ipa`; false if that IPA is not guest RAM.
    virtual bool read_u64(u64 ipa, u64& out) = 0;

protected:
    ~TableReader() = default;
};

struct Result {
    u64 ipa;
    u64 size;  // bytes of the mapping from `ipa` on (to the end of its page or block)
};

// True and *out filled if `va` translates; false on any translation fault.
// When the walk failed because a descriptor could not be read (the reader
// refused its address), *unreadable_level is the level of that descriptor;
// otherwise it is left alone.
bool translate(const Regs& r, u64 va, TableReader& mem, Result* out, int* unreadable_level = nullptr);

} // namespace s1
