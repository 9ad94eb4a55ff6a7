// What the generic VM layer (scheduler, VM set-up, kicks) needs from the
// architecture. hyp/arch/aarch64 implements it on the hardware;
// tests/unit/fake_arch implements it on a fake clock and register file.
#pragma once
#include "types.h"

struct Pcpu;
struct TraceRecord;
struct Vcpu;
class Vm;

namespace arch {

constexpr u64 kNever = ~u64{0};

u64 now();               // the physical counter
u64 ticks_per_second();  // its frequency

// The scheduler's own per-pCPU timer (on AArch64 the EL2 physical timer,
// CNTHP): fires at `cval`, or never after stop(). `enable` is false when it
// is already enabled and only moves (one register write fewer).
void hyp_timer_set(u64 cval, bool enable);
void hyp_timer_stop();

// `next` gets the pCPU: what `prev` holds in hardware (none if nullptr) goes
// to memory and next's state is loaded, including its VM's translation
// regime when the VM changes.
void vcpu_switch(Pcpu& p, Vcpu* prev, Vcpu& next);
// Power-on state of `v` at `entry` with x0 = `x0` (PSCI CPU_ON, boot); the
// hardware too when v is loaded on p.
void vcpu_reset(Pcpu& p, Vcpu& v, u64 entry, u64 x0);
// A descheduled vCPU's earliest timer deadline in counter ticks, or kNever.
u64 vcpu_timer_deadline(const Vcpu& v);
// That deadline passed while it was descheduled: raise its timer interrupts.
void vcpu_timer_expired(Vcpu& v, u64 now);
// The guest is about to read v's pending state: sample the lines whose
// level lives in the hardware (its timers), if this pCPU owns v.
void vcpu_sample_lines(Vcpu& v);

// Make `pcpu` leave its guest or its idle wait and look at its run queue
// (also this pCPU itself: then at the next pass).
void kick_pcpu(u32 pcpu);

// A VM was reset: forget its translations (every pCPU's TLB entries of its
// VMID) and make its new images visible to instruction fetches.
void vm_reset_caches(const Vm& vm);
// pCPU p's trace ring storage (hyp/trace): n records, a power of two.
TraceRecord* trace_storage(u32 pcpu, u32& n);
// Writes the trace out of the machine (nothing when tracing is off); `why`
// is for the log line.
void trace_dump(const char* why);

// The machine, when no VM runs any more.
[[noreturn]] void machine_off();
[[noreturn]] void machine_reset();

} // namespace arch
