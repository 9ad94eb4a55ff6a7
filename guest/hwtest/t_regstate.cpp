// FP/AdvSIMD and SVE state is per vCPU (the lead's policy for issue 11:
// both are virtualized). Each vCPU loads its own pattern, spins across
// several 10 ms slices (in single mode the four vCPUs then take turns on
// one pCPU) and checks that every register still holds its pattern.
#include "features.h"
#include "harness.h"
#include "smp.h"
#include "tests.h"

struct FpState {
    u64 q[64];
    u64 fpcr;
    u64 fpsr;
};
static_assert(__builtin_offsetof(FpState, fpcr) == 512, "regstate.S layout");

extern "C" void fp_fill_wait_dump(const FpState* in, FpState* out, u64 until);
extern "C" void sve_fill_wait_dump(const u8* z_in, const u8* p_in, u8* z_out, u8* p_out, u64 until);
extern "C" u64 sve_vl_bytes();

namespace {

constexpr u64 kSpinUs = 100'000;
constexpr u32 kMaxVl = 256;  // bytes (2048 bits)

u8 pattern(u32 cpu, u32 reg, u32 byte) { return static_cast<u8>((cpu + 1) * 0x35 ^ reg * 0x0b ^ byte * 0x61); }

FpState g_fp_in[MAX_CPUS], g_fp_out[MAX_CPUS];

struct SveBufs {
    u8 z_in[32 * kMaxVl], z_out[32 * kMaxVl];
    u8 p_in[17 * kMaxVl / 8], p_out[17 * kMaxVl / 8];
};
SveBufs g_sve[MAX_CPUS];

} // namespace

void test_fpsimd_state(Test& t)
{
    const u32 me = t.id;
    FpState& in = g_fp_in[me];
    FpState& out = g_fp_out[me];
    auto* bytes = reinterpret_cast<u8*>(in.q);
    for (u32 i = 0; i < 512; i++)
        bytes[i] = pattern(me, i / 16, i % 16);
    in.fpcr = u64{me & 3} << 22 | u64{me & 1} << 25;  // RMode, DN
    in.fpsr = bit(me) | (me & 1 ? bit(27) : 0);         // cumulative flags, QC
    memset(&out, 0, sizeof out);
    if (!t.sync())
        return;
    fp_fill_wait_dump(&in, &out, cntvct() + us_to_ticks(kSpinUs));
    for (u32 r = 0; r < 32; r++) {
        if (out.q[2 * r] != in.q[2 * r] || out.q[2 * r + 1] != in.q[2 * r + 1]) {
            t.check(false, "V%u changed across time slices: 0x%016lx%016lx, was 0x%016lx%016lx", r,
                    out.q[2 * r + 1], out.q[2 * r], in.q[2 * r + 1], in.q[2 * r]);
            break;
        }
    }
    t.check(out.fpcr == in.fpcr, "FPCR changed: 0x%lx, was 0x%lx", out.fpcr, in.fpcr);
    t.check(out.fpsr == in.fpsr, "FPSR changed: 0x%lx, was 0x%lx", out.fpsr, in.fpsr);
}

// Also the vCPU's own vector length choice (ZCR_EL1.LEN), predicates and
// FFR, which FP/SIMD switching alone does not cover.
void test_sve_state(Test& t)
{
    if (!g_features.sve) {
        t.skip("no SVE (ID_AA64PFR0_EL1.SVE = 0)");
        return;
    }
    const u32 me = t.id;
    const u64 len = me;  // vCPU n asks for (n+1)*128 bits; the hypervisor may cap it
    MSR(ZCR_EL1, len);
    isb();
    const u64 vl = sve_vl_bytes();
    if (!t.check(vl >= 16 && vl <= kMaxVl && vl % 16 == 0, "RDVL = %lu bytes", vl))
        return;
    SveBufs& b = g_sve[me];
    for (u32 i = 0; i < 32 * vl; i++)
        b.z_in[i] = pattern(me, static_cast<u32>(i / vl), static_cast<u32>(i % vl));
    const u64 pbytes = vl / 8;
    for (u32 i = 0; i < 16 * pbytes; i++)
        b.p_in[i] = pattern(me, 100 + static_cast<u32>(i / pbytes), static_cast<u32>(i % pbytes));
    // FFR must be written with a "monotonic" value: the first k bits set.
    const u64 k = (me + 1) * vl / 5;
    for (u32 i = 0; i < pbytes; i++) {
        const u64 lo = i * 8u;
        b.p_in[16 * pbytes + i] = k >= lo + 8 ? 0xff : k > lo ? static_cast<u8>((1u << (k - lo)) - 1) : 0;
    }
    memset(b.z_out, 0, sizeof b.z_out);
    memset(b.p_out, 0, sizeof b.p_out);
    if (!t.sync())
        return;
    sve_fill_wait_dump(b.z_in, b.p_in, b.z_out, b.p_out, cntvct() + us_to_ticks(kSpinUs));
    const u64 zcr = MRS(ZCR_EL1) & 0xf;
    t.check(zcr == len, "ZCR_EL1.LEN = %lu after the spin, this vCPU set %lu", zcr, len);
    const u64 vl_after = sve_vl_bytes();
    t.check(vl_after == vl, "vector length %lu bytes after the spin, was %lu", vl_after, vl);
    for (u32 r = 0; r < 32; r++) {
        if (memcmp_bytes(b.z_in + r * vl, b.z_out + r * vl, vl) != 0) {
            t.check(false, "Z%u changed across time slices (VL %lu bytes)", r, vl);
            break;
        }
    }
    for (u32 r = 0; r < 17; r++) {
        if (memcmp_bytes(b.p_in + r * pbytes, b.p_out + r * pbytes, pbytes) != 0) {
            if (r < 16)
                t.check(false, "P%u changed across time slices", r);
            else
                t.check(false, "FFR changed across time slices");
            break;
        }
    }
}
