#include "debug/s1_walk.h"

namespace s1 {

namespace {

// TCR_EL1 fields (Arm ARM D17.2.131).
constexpr u64 kEpd0 = bit(7);
constexpr u64 kEpd1 = bit(23);
constexpr u64 kTbi0 = bit(37);
constexpr u64 kTbi1 = bit(38);
constexpr u64 kSctlrM = bit(0);
constexpr unsigned kOaBits = 48;

// log2 of the granule for TTBR0's TG0 / TTBR1's TG1 encodings; reserved
// encodings are treated as 4 KiB.
unsigned granule_shift(u64 tcr, bool upper)
{
    if (upper) {
        switch (bits(tcr, 31, 30)) {
        case 1: return 14;
        case 3: return 16;
        default: return 12;
        }
    }
    switch (bits(tcr, 15, 14)) {
    case 1: return 16;
    case 2: return 14;
    default: return 12;
    }
}

bool block_allowed(unsigned g, int level)
{
    if (g == 12)
        return level == 1 || level == 2;
    return level == 2;
}

} // namespace

bool translate(const Regs& r, u64 va, TableReader& mem, Result* out, int* unreadable_level)
{
    if (!(r.sctlr & kSctlrM)) {
        // Stage 1 off: flat, within the output address range.
        if (va >> kOaBits)
            return false;
        *out = Result{.ipa = va, .size = 4096 - (va & 4095)};
        return true;
    }
    const bool upper = (va >> 55) & 1;
    const bool tbi = (r.tcr & (upper ? kTbi1 : kTbi0)) != 0;
    u64 txsz = upper ? bits(r.tcr, 21, 16) : bits(r.tcr, 5, 0);
    if (txsz < 16)
        txsz = 16;
    if (txsz > 39)
        txsz = 39;
    const unsigned va_bits = 64 - static_cast<unsigned>(txsz);
    // Bits above the VA size (up to 55 with TBI, else 63) must all equal
    // the range select bit.
    const unsigned top = tbi ? 55 : 63;
    const u64 high = bits(va, top, va_bits);
    if (high != (upper ? mask(top - va_bits + 1) : 0))
        return false;
    if (r.tcr & (upper ? kEpd1 : kEpd0))
        return false;

    const unsigned g = granule_shift(r.tcr, upper);
    const unsigned stride = g - 3;
    const unsigned levels = (va_bits - g + stride - 1) / stride;
    int level = 4 - static_cast<int>(levels);
    auto shift_of = [&](int l) { return g + static_cast<unsigned>(3 - l) * stride; };

    unsigned index_bits = va_bits - shift_of(level);
    u64 table = (upper ? r.ttbr1 : r.ttbr0) & mask(kOaBits) & ~mask(index_bits + 3 > 6 ? index_bits + 3 : 6);
    for (;; level++) {
        const unsigned shift = shift_of(level);
        const u64 idx = (va >> shift) & mask(index_bits);
        u64 desc;
        if (!mem.read_u64(table + idx * 8, desc)) {
            if (unreadable_level)
                *unreadable_level = level;
            return false;
        }
        if (!(desc & 1))
            return false;
        const bool is_table_or_page = (desc & 2) != 0;
        if (level < 3 && is_table_or_page) {
            table = desc & mask(kOaBits) & ~mask(g);
            index_bits = stride;
            continue;
        }
        if (level < 3 && !block_allowed(g, level))
            return false;
        if (level == 3 && !is_table_or_page)
            return false; // reserved encoding at level 3
        const u64 oa = desc & mask(kOaBits) & ~mask(shift);
        const u64 off = va & mask(shift);
        *out = Result{.ipa = oa | off, .size = (u64{1} << shift) - off};
        return true;
    }
}

} // namespace s1
