#include "vgic/routing.h"

#include "vgic/irq.h"
#include "vgic/regs.h"

namespace vgic {

namespace {

// MPIDR_EL1: Aff0 [7:0], Aff1 [15:8], Aff2 [23:16], Aff3 [39:32].
constexpr u32 aff0(u64 mpidr) { return static_cast<u32>(bits(mpidr, 7, 0)); }
constexpr u32 aff1(u64 mpidr) { return static_cast<u32>(bits(mpidr, 15, 8)); }
constexpr u32 aff2(u64 mpidr) { return static_cast<u32>(bits(mpidr, 23, 16)); }
constexpr u32 aff3(u64 mpidr) { return static_cast<u32>(bits(mpidr, 39, 32)); }

} // namespace

Sgi1r decode_sgi1r(u64 value)
{
    return Sgi1r{
        .target_list = static_cast<u32>(bits(value, 15, 0)),
        .aff1 = static_cast<u32>(bits(value, 23, 16)),
        .intid = static_cast<u32>(bits(value, 27, 24)),
        .aff2 = static_cast<u32>(bits(value, 39, 32)),
        .irm = bits(value, 40, 40) != 0,
        .rs = static_cast<u32>(bits(value, 47, 44)),
        .aff3 = static_cast<u32>(bits(value, 55, 48)),
    };
}

u32 sgi1r_targets(u64 value, u32 sender, const u64* mpidr, u32 nvcpus)
{
    const Sgi1r r = decode_sgi1r(value);
    u32 targets = 0;
    for (u32 v = 0; v < nvcpus; v++) {
        if (r.irm) {
            if (v != sender)
                targets |= static_cast<u32>(bit(v));
            continue;
        }
        const u64 m = mpidr[v];
        if (aff3(m) != r.aff3 || aff2(m) != r.aff2 || aff1(m) != r.aff1)
            continue;
        // Aff0 values outside this 16-wide range are unreachable with this RS.
        const u32 a0 = aff0(m);
        if (a0 / 16 != r.rs)
            continue;
        if (r.target_list & bit(a0 % 16))
            targets |= static_cast<u32>(bit(v));
    }
    return targets;
}

u8 irouter_target(u64 irouter, const u64* mpidr, u32 nvcpus)
{
    if (nvcpus == 0)
        return kNoVcpu;
    if (irouter & kIrouterIrm)
        return 0;
    for (u32 v = 0; v < nvcpus; v++) {
        const u64 m = mpidr[v];
        if (aff0(m) == bits(irouter, 7, 0) && aff1(m) == bits(irouter, 15, 8) &&
            aff2(m) == bits(irouter, 23, 16) && aff3(m) == bits(irouter, 39, 32))
            return static_cast<u8>(v);
    }
    return kNoVcpu;
}

} // namespace vgic
