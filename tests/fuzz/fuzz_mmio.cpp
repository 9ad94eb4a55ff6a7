// ESR/MMIO decode and the MMIO bus: the trap path from a data abort's
// syndrome to the device owning the IPA.
//
// Input: a bus layout (ranges with bases and sizes anywhere in the 64-bit
// space, including ones ending at or wrapping past its top), then trapped
// accesses (ESR, IPA near a range edge or anywhere, vCPU, store value).
// Invariants, against a reference in 128-bit arithmetic:
//  * add() accepts exactly the non-empty ranges that fit below 2^64, do not
//    overlap a registered one and fit the table;
//  * the decode matches the ISS fields (ISV, SAS, SSE, SRT, SF, WnR);
//  * dispatch() reaches the one device whose range holds the whole access,
//    with the right offset and vCPU, and no device otherwise;
//  * a load's register value is the width's bytes, sign-extended for SSE,
//    truncated for a W register.
#include <vector>

#include "fuzz.h"
#include "mmio.h"

namespace {

using u128 = unsigned __int128;
constexpr u128 kTop = u128{1} << 64;

struct Recorder final : MmioDevice {
    Recorder() : MmioDevice("recorder") {}
    MmioResult access(u32 vcpu, u64 offset, MmioAccess& a) override
    {
        calls++;
        last_vcpu = vcpu;
        last_offset = offset;
        if (!a.write)
            a.data = fill;
        return result;
    }
    void clear()
    {
        result = MmioResult::Handled;
        fill = last_offset = 0;
        calls = last_vcpu = 0;
    }
    MmioResult result = MmioResult::Handled;
    u64 fill = 0;
    u32 calls = 0;
    u32 last_vcpu = 0;
    u64 last_offset = 0;
};

struct Ref {
    u64 base, size;
    Recorder* dev;
    bool holds(u64 addr, u8 width) const { return addr >= base && u128{addr} + width <= u128{base} + size; }
    bool has(u64 addr) const { return addr >= base && u128{addr} < u128{base} + size; }
};

u64 interesting_u64(fuzz::Input& in)
{
    switch (in.below(4)) {
    case 0: return in.u16le();                       // low addresses
    case 1: return ~u64{0} - in.u16le();             // at the top of the space
    case 2: return u64{in.u32le()} << in.below(33);  // aligned-ish
    default: return in.u64le();
    }
}

u64 load_reference(u64 data, u8 width, bool sse, bool sf)
{
    i64 v;
    switch (width) {
    case 1: v = sse ? static_cast<i64>(static_cast<int8_t>(data)) : static_cast<i64>(static_cast<u8>(data)); break;
    case 2: v = sse ? static_cast<i64>(static_cast<int16_t>(data)) : static_cast<i64>(static_cast<u16>(data)); break;
    case 4: v = sse ? static_cast<i64>(static_cast<int32_t>(data)) : static_cast<i64>(static_cast<u32>(data)); break;
    default: v = static_cast<i64>(data); break;
    }
    u64 r = static_cast<u64>(v);
    return sf ? r : static_cast<u32>(r);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size)
{
    fuzz::Input in(data, size);
    static Recorder devs[MmioBus::kMaxRanges + 4];
    MmioBus bus;
    std::vector<Ref> ref;

    const u32 tries = in.below(MmioBus::kMaxRanges + 4);
    for (u32 i = 0; i < tries; i++) {
        Recorder& d = devs[i];
        d.clear();
        d.result = in.flag() ? MmioResult::Handled : MmioResult::Unhandled;
        d.fill = in.u64le();
        const u64 base = interesting_u64(in);
        const u64 sz = in.flag() ? in.u16le() : interesting_u64(in);
        bool expect = sz != 0 && u128{base} + sz <= kTop && ref.size() < MmioBus::kMaxRanges;
        for (const Ref& r : ref)
            if (u128{base} < u128{r.base} + r.size && u128{r.base} < u128{base} + sz)
                expect = false;
        FUZZ_CHECK(bus.add(base, sz, d) == expect);
        if (expect)
            ref.push_back({base, sz, &d});
    }
    FUZZ_CHECK(bus.count() == ref.size());

    while (!in.done()) {
        u64 esr = in.u32le() | (u64{in.byte()} << 32);
        if (in.below(8))
            esr |= bit(24); // mostly with a valid syndrome
        u64 ipa;
        if (!ref.empty() && in.below(4)) {
            const Ref& r = ref[in.below(static_cast<u32>(ref.size()))];
            const u64 delta = in.byte();
            ipa = in.flag() ? r.base + delta - 8 : r.base + r.size - delta; // either edge
        } else {
            ipa = interesting_u64(in);
        }
        const u32 vcpu = in.below(4);
        const u64 value = in.u64le();

        MmioAccess a{};
        a.data = 0x5a5a;
        const bool ok = mmio_decode(esr, ipa, a);
        FUZZ_CHECK(ok == ((esr & bit(24)) != 0));
        if (!ok)
            continue;
        FUZZ_CHECK(a.addr == ipa);
        FUZZ_CHECK(a.width == (1u << ((esr >> 22) & 3)));
        FUZZ_CHECK(a.write == ((esr >> 6) & 1));
        FUZZ_CHECK(a.reg == ((esr >> 16) & 31));
        FUZZ_CHECK(a.sign_extend == ((esr >> 21) & 1));
        FUZZ_CHECK(a.sf == ((esr >> 15) & 1));
        FUZZ_CHECK(a.data == 0);
        if (a.write)
            a.data = value & mask(a.width * 8u);

        const Ref* owner = nullptr;
        for (const Ref& r : ref)
            if (r.has(ipa))
                owner = &r;
        u32 before[MmioBus::kMaxRanges + 4];
        for (u32 i = 0; i < tries; i++)
            before[i] = devs[i].calls;
        int idx = -2;
        const MmioResult res = bus.dispatch(vcpu, a, &idx);
        FUZZ_CHECK((idx >= 0) == (owner != nullptr));
        const bool reach = owner && owner->holds(ipa, a.width);
        for (u32 i = 0; i < tries; i++)
            FUZZ_CHECK(devs[i].calls == before[i] + (reach && &devs[i] == owner->dev ? 1 : 0));
        if (!reach) {
            FUZZ_CHECK(res == MmioResult::Unhandled);
            continue;
        }
        FUZZ_CHECK(&bus.range(static_cast<unsigned>(idx)).dev[0] == owner->dev);
        FUZZ_CHECK(res == owner->dev->result);
        FUZZ_CHECK(owner->dev->last_offset == ipa - owner->base);
        FUZZ_CHECK(owner->dev->last_vcpu == vcpu);
        if (!a.write)
            FUZZ_CHECK(mmio_load_result(a) == load_reference(a.data, a.width, a.sign_extend, a.sf));
    }
    return 0;
}
