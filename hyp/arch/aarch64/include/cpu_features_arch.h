// Boot-time reading of the hardware ID registers for the feature policy
// (core/cpu_features.h); called once on the boot pCPU before the VMs and
// their device trees are set up.
#pragma once
#include "types.h"

void cpu_features_init();
