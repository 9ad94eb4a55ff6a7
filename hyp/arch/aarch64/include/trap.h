// Synchronous guest exits (trap.cpp) and exceptions the hypervisor makes the
// guest take (inject.cpp).
#pragma once
#include "types.h"

struct Vcpu;

// Handle a synchronous exit of `v` (ESR_EL2 already read). Advances the
// guest PC when the instruction was emulated; injects an exception when not.
void handle_sync_exit(Vcpu& v, u64 esr);

// A synchronous External abort, as the guest would take it from a bus error
// on real hardware.
struct ExternalAbort {
    bool instruction;  // instruction fetch (else a data access)
    bool write;        // the data access was a write (WnR)
    bool cache_maint;  // by a cache maintenance instruction (CM)
    int walk_level;    // -1: the access itself; else the stage-1 level whose descriptor could not be read
    u64 far;           // the faulting virtual address
};
// ESR_EL1 for it, taken to EL1 from the state `spsr` describes.
u64 external_abort_syndrome(const ExternalAbort& a, u64 spsr);

// Guest exception injection (the guest's EL1 registers are live on this pCPU).
void inject_external_abort(Vcpu& v, const ExternalAbort& a);
void inject_undef(Vcpu& v);
// Any other synchronous exception, as ESR_EL1 names it (FAR_EL1 unchanged).
void inject_sync(Vcpu& v, u64 esr_el1);
