#include "vm/placement.h"

void placement_preset(Mode mode, u32 nvms, const u32* vcpus, u32 npcpus, VmPlacement* out)
{
    u32 next = 0;
    for (u32 m = 0; m < nvms; m++) {
        out[m].nvcpus = vcpus[m];
        for (u32 i = 0; i < vcpus[m]; i++)
            out[m].pcpu[i] = mode == Mode::Single || npcpus == 0 ? 0 : next++ % npcpus;
    }
}
