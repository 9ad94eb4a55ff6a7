// Where vCPUs run: for each VM, the pCPU of each of its vCPUs. Any mapping is
// valid, including several vCPUs (of one VM or several) on one pCPU; the
// scheduler time-shares a pCPU exactly when its run queue holds more than
// one vCPU. MODE= is a preset of this table, not a separate code path.
#pragma once
#include "config.h"
#include "core/options.h"
#include "types.h"

struct VmPlacement {
    u32 nvcpus;
    u32 pcpu[kMaxVcpus];
};

// The preset of `mode` for VMs of vcpus[0..nvms) vCPUs on npcpus pCPUs:
// multi deals the vCPUs out over the pCPUs in order (VM 0's first), so one
// VM of 4 vCPUs gets vCPU n on pCPU n and two VMs of 2 get pCPUs 0-1 and
// 2-3; single puts every vCPU on pCPU 0.
void placement_preset(Mode mode, u32 nvms, const u32* vcpus, u32 npcpus, VmPlacement* out);
