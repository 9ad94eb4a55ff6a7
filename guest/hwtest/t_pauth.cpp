// Pointer authentication is virtualized (the lead's policy for issue 11):
// the five keys are per vCPU, so a pointer a vCPU signed authenticates
// with that vCPU's keys however the vCPUs share pCPUs.
#include "features.h"
#include "harness.h"
#include "smp.h"
#include "tests.h"

namespace {

#define PAC_OP(name, insn)                                                                         \
    u64 name(u64 p, u64 mod)                                                                       \
    {                                                                                              \
        asm volatile(".arch_extension pauth\n" insn " %0, %1" : "+r"(p) : "r"(mod) : "memory");    \
        return p;                                                                                  \
    }
PAC_OP(pacia, "pacia")
PAC_OP(autia, "autia")
PAC_OP(pacib, "pacib")
PAC_OP(autib, "autib")
PAC_OP(pacda, "pacda")
PAC_OP(autda, "autda")
PAC_OP(pacdb, "pacdb")
PAC_OP(autdb, "autdb")
#undef PAC_OP

u64 pacga(u64 a, u64 b)
{
    u64 r;
    asm volatile(".arch_extension pauth\npacga %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

constexpr u64 kSctlrEnIA = bit(31), kSctlrEnIB = bit(30), kSctlrEnDA = bit(27), kSctlrEnDB = bit(13);

struct Keys {
    u64 k[10];  // IA lo/hi, IB, DA, DB, GA
};

void write_keys(const Keys& k)
{
    MSR(APIAKEYLO_EL1, k.k[0]);
    MSR(APIAKEYHI_EL1, k.k[1]);
    MSR(APIBKEYLO_EL1, k.k[2]);
    MSR(APIBKEYHI_EL1, k.k[3]);
    MSR(APDAKEYLO_EL1, k.k[4]);
    MSR(APDAKEYHI_EL1, k.k[5]);
    MSR(APDBKEYLO_EL1, k.k[6]);
    MSR(APDBKEYHI_EL1, k.k[7]);
    MSR(APGAKEYLO_EL1, k.k[8]);
    MSR(APGAKEYHI_EL1, k.k[9]);
    isb();
}

Keys read_keys()
{
    return Keys{{MRS(APIAKEYLO_EL1), MRS(APIAKEYHI_EL1), MRS(APIBKEYLO_EL1), MRS(APIBKEYHI_EL1), MRS(APDAKEYLO_EL1),
                 MRS(APDAKEYHI_EL1), MRS(APDBKEYLO_EL1), MRS(APDBKEYHI_EL1), MRS(APGAKEYLO_EL1),
                 MRS(APGAKEYHI_EL1)}};
}

const char* const kKeyNames[10] = {"APIAKeyLo", "APIAKeyHi", "APIBKeyLo", "APIBKeyHi", "APDAKeyLo",
                                   "APDAKeyHi", "APDBKeyLo", "APDBKeyHi", "APGAKeyLo", "APGAKeyHi"};

u64 g_target;  // a real address to sign

} // namespace

void test_pauth_keys(Test& t)
{
    if (!g_features.pauth) {
        t.skip("no pointer authentication (ID_AA64ISAR1_EL1.APA/API, ISAR2.APA3 = 0)");
        return;
    }
    const u32 me = t.id;
    Keys mine{};
    for (u32 i = 0; i < 10; i++)
        mine.k[i] = 0x9e37'79b9'7f4a'7c15ull * (me * 10 + i + 1);
    write_keys(mine);
    const u64 sctlr = MRS("sctlr_el1");
    MSR("sctlr_el1", sctlr | kSctlrEnIA | kSctlrEnIB | kSctlrEnDA | kSctlrEnDB);
    isb();

    const u64 ptr = addr_of(&g_target);
    const u64 mod = 0x1000 + me;
    const u64 sig[4] = {pacia(ptr, mod), pacib(ptr, mod), pacda(ptr, mod), pacdb(ptr, mod)};
    t.check(sig[0] != ptr, "PACIA left 0x%lx unsigned: SCTLR_EL1.EnIA or the key not in effect", ptr);
    const u64 ga = g_features.pauth_generic ? pacga(ptr, mod) : 0;
    if (!t.sync())
        return;

    // Spin across several slices, signing and authenticating all along.
    // What went wrong in the loop is reported after the keys themselves,
    // which say more.
    const u64 end = cntvct() + us_to_ticks(100'000);
    u64 rounds = 0, bad_round = ~u64{0}, bad_a = 0, bad_d = 0;
    bool bad_ga = false;
    while (cntvct() < end && bad_round == ~u64{0}) {
        const u64 p = ptr + (rounds & 0xff) * 16;
        bad_a = autia(pacia(p, mod), mod);
        bad_d = autdb(pacdb(p, mod), mod);
        bad_ga = g_features.pauth_generic && pacga(ptr, mod) != ga;
        if (bad_a != p || bad_d != p || bad_ga)
            bad_round = rounds;
        rounds++;
    }

    const Keys now = read_keys();
    for (u32 i = 0; i < 10; i++)
        t.check(now.k[i] == mine.k[i], "%s_EL1 = 0x%lx after the spin, this vCPU wrote 0x%lx", kKeyNames[i], now.k[i],
                mine.k[i]);
    const u64 back[4] = {autia(sig[0], mod), autib(sig[1], mod), autda(sig[2], mod), autdb(sig[3], mod)};
    const char* const names[4] = {"IA", "IB", "DA", "DB"};
    for (u32 i = 0; i < 4; i++)
        t.check(back[i] == ptr, "pointer signed with key %s before the spin does not authenticate after it (0x%lx)",
                names[i], back[i]);
    t.check(bad_round == ~u64{0}, "round %lu of the spin: PACIA/AUTIA gave 0x%lx, PACDB/AUTDB 0x%lx%s", bad_round,
            bad_a, bad_d, bad_ga ? ", PACGA changed" : "");
    MSR("sctlr_el1", sctlr);
    isb();
}
