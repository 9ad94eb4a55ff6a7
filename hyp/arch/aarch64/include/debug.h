// Debugging the guest from EL2: the all-stop machinery behind the gdb stub,
// the debug exceptions it takes from the guest, and the guest's own debug
// registers while the debugger owns the hardware. The stub's protocol is in
// hyp/debug/; its target and channel in gdb_target.cpp. docs/debugging.md
// has the user's view, docs/architecture.md the flows.
#pragma once
#include "debug/gdb_target.h"
#include "fdt/host_platform.h"
#include "types.h"

struct Pcpu;
struct Vcpu;
class Vm;

// Boot, primary pCPU, before any vCPU is loaded and before the secondaries
// are released. Always: the guest's debug registers at reset. With gdb=1:
// the stub and its channel. Returns nullptr, or a one-line error.
const char* debug_setup(const HostPlatform& host);

// ---- run loop ----------------------------------------------------------------

// After every exit and every idle wake-up: park the vCPUs of VMs the
// debugger stops (held, unloaded), unpark those it resumes, apply its
// settings; on the stub's pCPU, report VMs that have stopped.
void debug_check_stop(Pcpu& p);
// `v` is being single-stepped.
bool debug_stepping(const Vcpu& v);
// After the list registers are loaded for `v`: a stepped instruction runs
// with virtual interrupts withheld, so stepi does not land in a handler.
void debug_before_entry(const Vcpu& v);

// ---- single-pCPU context switch --------------------------------------------

void debug_context_save(Vcpu& v);
void debug_context_load(const Vcpu& v);

// ---- guest exits (ESR_EL2.EC table in trap.cpp) ------------------------------

void handle_brk(Vcpu& v, u64 esr);            // EC 0x3c
void handle_hw_breakpoint(Vcpu& v, u64 esr);  // EC 0x30
void handle_software_step(Vcpu& v, u64 esr);  // EC 0x32
// A trapped MRS/MSR of a debug register (op0 == 2). True if emulated (for a
// read, `val` is the result); false: the guest gets an UNDEF.
bool debug_sysreg(Vcpu& v, u32 key, bool read, u64& val);

// ---- for the stub's target (gdb_target.cpp), stub pCPU only -------------------

constexpr u32 kStubPcpu = 0;  // runs the stub and takes the channel's interrupt

u32 debug_hw_breakpoint_slots();
void debug_set_hw_breakpoints(u32 vm, const u64* addrs, u32 n);
void debug_set_attached(bool attached);
// Stop the VMs in the mask (bit n: VM n).
void debug_request_stop(gdb::StopReason why, u32 vms);
// Per stub thread (VM 0's vCPUs, then VM 1's, ...).
void debug_resume(const gdb::Action* per_thread);
// Stopped for the debugger, all its vCPUs in memory.
bool debug_vm_stopped(const Vm& vm);
// Every participating pCPU has stopped: tell the stub (gdb_target.cpp).
void gdb_stub_stopped(const gdb::StopEvent& e);
const char* gdb_channel_setup(const HostPlatform& host);
