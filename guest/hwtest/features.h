// What the CPU offers the guest, from the ID registers (Arm ARM D17.2):
// tests of a feature skip when it is absent.
#pragma once
#include "base.h"

struct Features {
    bool sve;           // ID_AA64PFR0_EL1.SVE
    bool pauth;         // address authentication (APA, API, APA3)
    bool pauth_generic; // PACGA (GPA, GPI, GPA3)
    u32 pmu_version;    // ID_AA64DFR0_EL1.PMUVer; 0 = none, 0xf = IMPLEMENTATION DEFINED
};

extern Features g_features;

void features_detect();
void features_print();
bool features_have_pmuv3();
// Per-vCPU controls the tests need: CPACR_EL1.ZEN when SVE is there.
void features_enable_on_this_cpu();
