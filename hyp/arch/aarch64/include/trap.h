#pragma once
#include "types.h"

struct Vcpu;

// Handle a synchronous exit of `v` (ESR_EL2 already read). Advances the
// guest PC when the instruction was emulated; injects an exception when not.
void handle_sync_exit(Vcpu& v, u64 esr);

// Guest exception injection (the guest's EL1 registers are live on this pCPU).
void inject_external_abort(Vcpu& v, bool instruction, u64 far);
void inject_undef(Vcpu& v);
// Any other synchronous exception, as ESR_EL1 names it (FAR_EL1 unchanged).
void inject_sync(Vcpu& v, u64 esr_el1);
