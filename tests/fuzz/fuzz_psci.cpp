// The PSCI state machine: SMCCC calls from the vCPUs that are on, the
// targets' take_pending_on(), SYSTEM_RESET.
//
// Input: vCPU count and MPIDRs (distinct affinities, junk in MT/U/RES1 and
// above Aff3), then operations: a call (function ID from the PSCI table in
// either convention or anything, arguments naming a vCPU, a node, a bad
// entry point, junk in the upper halves), take_pending_on(), reset().
// A reference model of every vCPU's power state predicts each return value,
// action and wake(). Invariants: states stay On/Off/OnPending and move only
// by the legal transitions; of any number of CPU_ONs at an Off vCPU exactly
// one returns SUCCESS (the others ALREADY_ON) and only its
// entry point and context reach the target; counters match the calls.
#include <initializer_list>

#include "fuzz.h"
#include "psci/function_ids.h"
#include "psci/psci.h"

using namespace psci;

namespace {

constexpr u64 kRamBase = 0x4000'0000, kRamSize = 64 * MiB;
constexpr u64 kAffMask = 0xff'00ff'ffffull;

struct FakeHost final : psci::Host {
    bool valid_entry(u64 ipa) override { return ipa >= kRamBase && ipa - kRamBase < kRamSize; }
    void wake(u32 v) override { wakes[v]++; }
    u32 wakes[kMaxVcpus] = {};
};

struct Model {
    PowerState st[kMaxVcpus];
    u64 entry[kMaxVcpus], context[kMaxVcpus];
    void reset(u32 n)
    {
        for (u32 i = 0; i < n; i++)
            st[i] = i == 0 ? PowerState::On : PowerState::Off;
    }
};

constexpr u64 ret(Ret r) { return static_cast<u64>(static_cast<i64>(static_cast<i32>(r))); }

u32 field(u64 mpidr, unsigned level) { return static_cast<u32>(level == 3 ? (mpidr >> 32) & 0xff : (mpidr >> (8 * level)) & 0xff); }

constexpr u32 kFids[] = {
    u32(FnId::Version),        u32(FnId::CpuSuspend32),   u32(FnId::CpuSuspend64),    u32(FnId::CpuOff),
    u32(FnId::CpuOn32),        u32(FnId::CpuOn64),        u32(FnId::AffinityInfo32),  u32(FnId::AffinityInfo64),
    u32(FnId::Migrate32),      u32(FnId::Migrate64),      u32(FnId::MigrateInfoType), u32(FnId::MigrateInfoUpCpu32),
    u32(FnId::MigrateInfoUpCpu64), u32(FnId::SystemOff),  u32(FnId::SystemReset),     u32(FnId::Features),
    0x8400'000b,               0xc400'001f,               0x8000'0000 /* SMCCC_VERSION */, 0x8400'0020,
};

bool supported(u32 fid)
{
    for (FnId f : {FnId::Version, FnId::CpuSuspend32, FnId::CpuSuspend64, FnId::CpuOff, FnId::CpuOn32, FnId::CpuOn64,
                   FnId::AffinityInfo32, FnId::AffinityInfo64, FnId::MigrateInfoType, FnId::SystemOff,
                   FnId::SystemReset, FnId::Features})
        if (fid == u32(f))
            return true;
    return false;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size)
{
    fuzz::Input in(data, size);
    const u32 n = 1 + in.below(kMaxVcpus);
    u64 mpidr[kMaxVcpus];
    for (u32 i = 0; i < n; i++) {
        u64 m = in.flag() ? i : (u64{in.byte()} | u64{in.below(3)} << 8 | u64{in.below(2)} << 16 | u64{in.below(2)} << 32);
        for (u32 j = 0; j < i; j++) // keep affinities distinct
            if ((mpidr[j] & kAffMask) == (m & kAffMask)) {
                m = (m + 0x1'0000) & kAffMask;
                j = ~0u; // and check them all again
            }
        mpidr[i] = m | (static_cast<u64>(in.byte() & 0xc1) << 24) | (in.flag() ? u64{in.byte()} << 40 : 0);
    }
    FakeHost host;
    static Psci psci; // static: the counters are never reset, like the hypervisor's
    psci.init(n, mpidr, &host);
    Model m;
    m.reset(n);
    u32 wakes[kMaxVcpus] = {};
    u64 counts[0x20];
    for (u32 k = 0; k < 0x20; k++)
        counts[k] = psci.call_count(kSmc32Base + k);
    u64 foreign = psci.foreign_count();

    while (!in.done()) {
        switch (in.below(4)) {
        case 0:
        case 1: { // a call from a vCPU that is on
            const u32 first = in.below(n);
            u32 caller = first;
            for (u32 k = 0; k < n && m.st[caller] != PowerState::On; k++)
                caller = (first + k + 1) % n;
            if (m.st[caller] != PowerState::On)
                break; // nobody runs: only take_pending_on() or reset() can go on
            u64 x0 = in.below(4) ? in.pick(kFids) : in.u32le();
            if (in.below(4) == 0)
                x0 |= u64{in.u32le()} << 32; // the upper half of x0 is not the function ID
            const u64 junk = in.below(2) ? u64{in.u32le()} << 32 : 0;
            u64 x1;
            switch (in.below(3)) {
            case 0: x1 = mpidr[in.below(n)] | junk; break;
            case 1: x1 = in.below(4) == 0 ? in.pick(kFids) : in.u64le(); break;
            default: x1 = (mpidr[in.below(n)] & ~u64{in.byte()}) | junk; break;
            }
            const u64 x2 = in.below(4) ? kRamBase + in.u32le() % (kRamSize + 0x1000) - 0x800 + junk : in.u64le();
            const u64 x3 = in.u64le();
            const CallResult r = psci.handle(caller, x0, x1, x2, x3);

            const u32 fid = static_cast<u32>(x0);
            const bool smc64 = fid & kSmc64Bit;
            const u64 a1 = smc64 ? x1 : x1 & 0xffff'ffff, a2 = smc64 ? x2 : x2 & 0xffff'ffff,
                      a3 = smc64 ? x3 : x3 & 0xffff'ffff;
            u64 want = ret(Ret::NotSupported);
            Action act = Action::None;
            if (!in_psci_range(fid)) {
                foreign++;
            } else {
                counts[function_number(fid)]++;
                switch (static_cast<FnId>(fid)) {
                case FnId::Version: want = 0x10001; break;
                case FnId::CpuSuspend32:
                case FnId::CpuSuspend64:
                    if ((a1 & bit(16)) && !host.valid_entry(a2)) {
                        want = ret(Ret::InvalidAddress);
                    } else {
                        want = 0;
                        act = Action::Standby;
                    }
                    break;
                case FnId::CpuOff:
                    want = 0;
                    act = Action::PowerDown;
                    m.st[caller] = PowerState::Off;
                    break;
                case FnId::CpuOn32:
                case FnId::CpuOn64: {
                    int t = -1;
                    for (u32 i = 0; i < n; i++)
                        if ((mpidr[i] & kAffMask) == (a1 & kAffMask))
                            t = static_cast<int>(i);
                    if (t < 0)
                        want = ret(Ret::InvalidParameters);
                    else if (!host.valid_entry(a2))
                        want = ret(Ret::InvalidAddress);
                    else if (m.st[t] != PowerState::Off)
                        want = ret(Ret::AlreadyOn); // also while ON_PENDING, as KVM answers
                    else {
                        want = 0;
                        m.st[t] = PowerState::OnPending;
                        m.entry[t] = a2;
                        m.context[t] = a3;
                        wakes[t]++;
                    }
                    break;
                }
                case FnId::AffinityInfo32:
                case FnId::AffinityInfo64: {
                    if (a2 > 3) {
                        want = ret(Ret::InvalidParameters);
                        break;
                    }
                    bool any = false, on = false, pending = false;
                    for (u32 i = 0; i < n; i++) {
                        bool match = true;
                        for (unsigned lv = static_cast<unsigned>(a2); lv < 4; lv++)
                            match = match && field(mpidr[i], lv) == field(a1, lv);
                        if (!match)
                            continue;
                        any = true;
                        on |= m.st[i] == PowerState::On;
                        pending |= m.st[i] == PowerState::OnPending;
                    }
                    want = !any ? ret(Ret::InvalidParameters) : on ? 0 : pending ? 2 : 1;
                    break;
                }
                case FnId::MigrateInfoType: want = 2; break;
                case FnId::SystemOff: want = 0; act = Action::SystemOff; break;
                case FnId::SystemReset: want = 0; act = Action::SystemReset; break;
                case FnId::Features: want = supported(static_cast<u32>(a1)) ? 0 : ret(Ret::NotSupported); break;
                default: break;
                }
            }
            FUZZ_CHECK(r.x0 == want);
            FUZZ_CHECK(r.action == act);
            FUZZ_CHECK(psci.is_psci_call(x0) == in_psci_range(fid));
            if (act == Action::SystemReset && in.flag()) {
                psci.reset(); // what the core does once every vCPU stopped
                m.reset(n);
            }
            break;
        }
        case 2: { // the target's pCPU looks for a CPU_ON
            const u32 v = in.below(n);
            u64 e = 1, c = 2;
            const bool took = psci.take_pending_on(v, e, c);
            FUZZ_CHECK(took == (m.st[v] == PowerState::OnPending));
            if (took) {
                FUZZ_CHECK(e == m.entry[v] && c == m.context[v]); // the winner's arguments
                m.st[v] = PowerState::On;
            } else {
                FUZZ_CHECK(e == 1 && c == 2);
            }
            break;
        }
        default:
            if (in.below(8) == 0) {
                psci.reset();
                m.reset(n);
            }
            break;
        }
        for (u32 v = 0; v < n; v++) {
            FUZZ_CHECK(psci.state(v) == m.st[v]);
            FUZZ_CHECK(host.wakes[v] == wakes[v]);
        }
    }
    for (u32 k = 0; k < 0x20; k++) {
        FUZZ_CHECK(psci.call_count(kSmc32Base + k) == counts[k]);
        FUZZ_CHECK(psci.call_count(kSmc64Base + k) == counts[k]);
    }
    FUZZ_CHECK(psci.foreign_count() == foreign);
    return 0;
}
