#include "features.h"

#include "console.h"
#include "sysreg.h"

constinit Features g_features{};

namespace {
bool sve_present() { return bits(MRS("id_aa64pfr0_el1"), 35, 32) != 0; }
} // namespace

void features_detect()
{
    const u64 isar1 = MRS("id_aa64isar1_el1");
    const u64 isar2 = MRS(ID_AA64ISAR2_EL1);
    g_features.sve = sve_present();
    g_features.pauth = bits(isar1, 7, 4) || bits(isar1, 11, 8) || bits(isar2, 15, 12);
    g_features.pauth_generic = bits(isar1, 27, 24) || bits(isar1, 31, 28) || bits(isar2, 11, 8);
    g_features.pmu_version = static_cast<u32>(bits(MRS("id_aa64dfr0_el1"), 11, 8));
}

bool features_have_pmuv3() { return g_features.pmu_version != 0 && g_features.pmu_version != 0xf; }

void features_print()
{
    print("HWTEST info MIDR_EL1=0x%lx ID_AA64PFR0=0x%lx ID_AA64PFR1=0x%lx ID_AA64ISAR1=0x%lx ID_AA64DFR0=0x%lx\n",
          MRS("midr_el1"), MRS("id_aa64pfr0_el1"), MRS("id_aa64pfr1_el1"), MRS("id_aa64isar1_el1"),
          MRS("id_aa64dfr0_el1"));
    print("HWTEST info features: sve=%d pauth=%d pacga=%d pmuver=0x%x cntfrq=%lu\n", g_features.sve,
          g_features.pauth, g_features.pauth_generic, g_features.pmu_version, cntfrq());
}

void features_enable_on_this_cpu()
{
    if (sve_present()) {
        MSR("cpacr_el1", MRS("cpacr_el1") | (3u << 16));  // ZEN: no SVE traps at EL1
        isb();
    }
}
