#include "mmio.h"

namespace {
// ESR_EL2 ISS fields for a data abort (Arm ARM D17.2.40, ISS encoding for an
// exception from a Data Abort).
constexpr unsigned kIsv = 24;
constexpr unsigned kSasHi = 23, kSasLo = 22;
constexpr unsigned kSse = 21;
constexpr unsigned kSrtHi = 20, kSrtLo = 16;
constexpr unsigned kSf = 15;
constexpr unsigned kWnr = 6;
} // namespace

bool mmio_decode(u64 esr, u64 ipa, MmioAccess& out)
{
    if (!(esr & bit(kIsv)))
        return false;
    out.addr = ipa;
    out.width = static_cast<u8>(1u << bits(esr, kSasHi, kSasLo));
    out.write = (esr & bit(kWnr)) != 0;
    out.reg = static_cast<u8>(bits(esr, kSrtHi, kSrtLo));
    out.sign_extend = (esr & bit(kSse)) != 0;
    out.sf = (esr & bit(kSf)) != 0;
    out.data = 0;
    return true;
}

u64 mmio_load_result(const MmioAccess& a)
{
    const unsigned w = a.width * 8u;
    u64 v = a.data & mask(w);
    if (a.sign_extend && w < 64 && (v & bit(w - 1)))
        v |= ~mask(w);
    if (!a.sf)
        v &= mask(32);
    return v;
}

bool MmioBus::add(u64 base, u64 size, MmioDevice& dev)
{
    // A range may end at 2^64 but not wrap past it; ends are never computed,
    // so one ending at the top cannot overflow either.
    if (n_ == kMaxRanges || size == 0 || size - 1 > ~base)
        return false;
    for (unsigned i = 0; i < n_; i++) {
        const Range& r = ranges_[i];
        // Two ranges overlap iff one starts inside the other.
        if (base - r.base < r.size || r.base - base < size)
            return false;
    }
    ranges_[n_++] = Range{base, size, &dev};
    return true;
}

int MmioBus::find(u64 addr) const
{
    for (unsigned i = 0; i < n_; i++)
        if (addr - ranges_[i].base < ranges_[i].size)
            return static_cast<int>(i);
    return -1;
}

MmioResult MmioBus::dispatch(u32 vcpu, MmioAccess& a, int* range_out) const
{
    const int i = find(a.addr);
    if (range_out)
        *range_out = i;
    if (i < 0)
        return MmioResult::Unhandled;
    const Range& r = ranges_[i];
    // An access straddling the end of a range is not something any of our
    // devices implement; let the guest see an abort.
    if (a.width > r.size - (a.addr - r.base))
        return MmioResult::Unhandled;
    return r.dev->access(vcpu, a.addr - r.base, a);
}
