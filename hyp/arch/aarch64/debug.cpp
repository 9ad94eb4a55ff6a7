// Guest debugging at EL2: all-stop across pCPUs, the guest's debug
// exceptions, and who owns the debug hardware.
//
// All-stop. g_ctl.state = epoch << 1 | halted is the one word that says
// whether the guest is stopped:
//   * Any pCPU may ask for a halt: its vCPU hit one of our breakpoints or
//     finished a step, or the stub (gdb's Ctrl-C or a new connection) asks.
//     A CAS from "running" to "halted, epoch+1" picks one winner, which
//     records the event and kicks the other pCPUs that run vCPUs (physical
//     SGI 0: a running guest exits, an idle pCPU wakes). A loser's event is
//     dropped: a breakpoint traps again when its vCPU resumes (the PC is
//     still on it); a step that finished is simply done.
//   * Every such pCPU, at its next exit or idle wake-up (debug_check_stop),
//     parks: it copies its loaded vCPU's EL1 and FP/SIMD registers to
//     memory, so the stub can read and write any vCPU without touching
//     another pCPU's hardware, records parked[p] = epoch, kicks the stub's
//     pCPU, and waits in WFI (WFE would not sleep under TCG).
//   * The stub's pCPU (kStubPcpu, 0) parks too. Once all have parked it
//     hands the event to the stub, which sends the stop reply and then
//     serves gdb from the channel's interrupt while everything is parked.
//   * debug_resume() stores each vCPU's action, moves CNTVOFF on by the
//     time spent stopped, clears `halted` (release) and kicks. Each pCPU
//     copies its vCPU's registers back, applies the debugger's settings
//     (MDCR_EL2.TDE, breakpoint registers, step) and returns to its run
//     loop; a vCPU gdb left stopped (vCont without an action for it) stays
//     `held`, which the scheduler honours.
// In single-pCPU mode only pCPU 0 takes part and the scheduler, not a kick,
// keeps the other vCPUs still.
//
// Virtual time stands still while the guest is stopped: CNTVOFF grows by
// the stopped interval, as KVM's users see it (QEMU adjusts the virtual
// counter of a paused VM). Otherwise every timer would fire at once on
// continue and the kernel's watchdogs would report minutes-long stalls.
//
// Debug hardware. Per pCPU, g_owned says whether the debug registers hold
// the guest's values (not attached: MDCR_EL2.TDE clear, nothing traps) or
// the debugger's (attached: TDE set, so BRK, breakpoint and step exceptions
// and every guest access to a debug register come to EL2). While owned, the
// guest's own values live in g_vdbg[].guest and its accesses are emulated
// (hyp/debug/guest_debug_regs.h); they go back into the hardware at detach.
// Ownership changes only while parked, on each pCPU for itself.
#include "debug.h"

#include <cpu.h>

#include "context.h"
#include "debug/gdb_stub.h"
#include "debug/guest_debug_regs.h"
#include "debug_sysreg.h"
#include "gic.h"
#include "hw_regs.h"
#include "run.h"
#include "sysreg.h"
#include "trap.h"
#include "vif.h"
#include "vm/pcpu.h"
#include "vm/vm.h"

namespace {

// DBGBCR<n>_EL1: enabled (E), match at EL1 and EL0 (PMC = 0b11), a whole
// A64 instruction (BAS = 0b1111), unlinked address match.
constexpr u64 kBcrExecute = 1 | (u64{3} << 1) | (u64{0xf} << 5);
constexpr u64 kIchHcrEn = 1;
constexpr u32 kBrkImmMask = 0xffff;

struct VcpuDebug {
    GuestDebugRegs guest;  // the guest's debug registers when not in hardware
    bool step;             // gdb single-steps it (Vcpu::held: gdb keeps it stopped)
};

constexpr u32 kSlots = kMaxVms * kMaxVcpus;

struct Control {
    u32 state;                 // epoch << 1 | halted
    u32 parked[kMaxPcpus];     // the epoch each pCPU last parked for
    u32 pcpus;                 // bit p: pCPU p runs vCPUs and takes part
    gdb::StopEvent event;      // the winner's
    u64 halt_start;            // CNTPCT when the halt began
    // Written by the stub while halted, applied by each pCPU as it unparks.
    bool attached;
    u64 hw[GuestDebugRegs::kMaxPairs];
    u32 nhw;
    gdb::Action action[kSlots];  // per vCPU slot (slot())
};

constinit Control g_ctl{};
constinit VcpuDebug g_vdbg[kSlots]{};
constinit bool g_owned[kMaxPcpus]{};
constinit DebugRegCount g_pairs{};
constinit u32 g_reported = 0;  // stub pCPU only: the epoch the stub was told about

// Per-vCPU debug state is kept by slot: VM id * kMaxVcpus + vCPU id.
u32 slot(const Vcpu& v) { return v.vm->id * kMaxVcpus + v.id; }
VcpuDebug& dbg(const Vcpu& v) { return g_vdbg[slot(v)]; }

bool is_halted(u32 s) { return (s & 1) != 0; }
u32 epoch_of(u32 s) { return s >> 1; }

void kick_others(u32 self)
{
    for (u32 i = 0; i < kMaxPcpus; i++)
        if ((g_ctl.pcpus & (1u << i)) && i != self)
            gic::send_sgi(gic::kKickSgi, g_pcpus[i].mpidr);
}

// Any pCPU. False if a halt is already under way (the event is dropped).
bool halt(const gdb::StopEvent& e)
{
    u32 s = __atomic_load_n(&g_ctl.state, __ATOMIC_ACQUIRE);
    do {
        if (is_halted(s))
            return false;
    } while (!__atomic_compare_exchange_n(&g_ctl.state, &s, ((epoch_of(s) + 1) << 1) | 1, false, __ATOMIC_ACQ_REL,
                                          __ATOMIC_ACQUIRE));
    // Published by this pCPU's own store-release to parked[], which the
    // stub waits for before it reads them.
    g_ctl.event = e;
    g_ctl.halt_start = read_cntpct_el0();
    kick_others(this_pcpu_id());
    return true;
}

bool all_parked(u32 epoch)
{
    for (u32 i = 0; i < kMaxPcpus; i++)
        if ((g_ctl.pcpus & (1u << i)) && __atomic_load_n(&g_ctl.parked[i], __ATOMIC_ACQUIRE) != epoch)
            return false;
    return true;
}

void hw_save_guest(GuestDebugRegs& g)
{
    g.mdscr = read_mdscr_el1();
    for (unsigned i = 0; i < g_pairs.brps; i++) {
        g.bvr[i] = read_dbgbvr(i);
        g.bcr[i] = read_dbgbcr(i);
    }
    for (unsigned i = 0; i < g_pairs.wrps; i++) {
        g.wvr[i] = read_dbgwvr(i);
        g.wcr[i] = read_dbgwcr(i);
    }
    g.oslk = (read_oslsr_el1() & 2) != 0;
}

void hw_load_guest(const GuestDebugRegs& g)
{
    write_mdscr_el1(g.mdscr);
    for (unsigned i = 0; i < g_pairs.brps; i++) {
        write_dbgbvr(i, g.bvr[i]);
        write_dbgbcr(i, g.bcr[i]);
    }
    for (unsigned i = 0; i < g_pairs.wrps; i++) {
        write_dbgwvr(i, g.wvr[i]);
        write_dbgwcr(i, g.wcr[i]);
    }
    write_oslar_el1(g.oslk ? 1 : 0);
}

u64 debugger_mdscr(const Vcpu& v) { return mdscr::MDE | (dbg(v).step ? mdscr::SS : 0); }

void load_breakpoints()
{
    for (unsigned i = 0; i < g_pairs.brps; i++) {
        if (i < g_ctl.nhw) {
            write_dbgbvr(i, g_ctl.hw[i]);
            write_dbgbcr(i, kBcrExecute);
        } else {
            write_dbgbcr(i, 0);
        }
    }
    for (unsigned i = 0; i < g_pairs.wrps; i++)
        write_dbgwcr(i, 0);
}

void take_hardware(Pcpu& p)
{
    if (p.vcpu)
        hw_save_guest(dbg(*p.vcpu).guest);
    // No debug exception but BRK is generated while the OS lock is set
    // (it is at reset); the guest's view of it stays in its copy.
    write_oslar_el1(0);
    write_mdcr_el2(read_mdcr_el2() | mdcr::TDE);
    g_owned[p.id] = true;
}

void give_hardware(Pcpu& p)
{
    write_mdcr_el2(read_mdcr_el2() & ~mdcr::TDE);
    g_owned[p.id] = false;
    if (p.vcpu) {
        hw_load_guest(dbg(*p.vcpu).guest);
    } else {
        const GuestDebugRegs reset{.oslk = true};
        hw_load_guest(reset);
    }
}

// Leaving a stop: the debugger's settings for this pCPU and its vCPUs.
void unpark(Pcpu& p)
{
    if (p.arch.vm)
        write_cntvoff_el2(p.arch.vm->cntvoff);
    if (g_ctl.attached && !g_owned[p.id])
        take_hardware(p);
    else if (!g_ctl.attached && g_owned[p.id])
        give_hardware(p);
    if (g_owned[p.id])
        load_breakpoints();
    Vcpu* offline_step = nullptr;
    for (u32 i = 0; i < p.nrun; i++) {
        Vcpu& v = *p.runq[i];
        VcpuDebug& d = dbg(v);
        const gdb::Action a = g_ctl.attached ? g_ctl.action[slot(v)] : gdb::Action::Continue;
        v.held = a == gdb::Action::Stop;
        d.step = a == gdb::Action::Step;
        if (!d.step) {
            v.regs.spsr &= ~spsr::SS;
            continue;
        }
        // PSTATE.SS = 1 at the ERET: one instruction, then the step exception.
        v.regs.spsr |= spsr::SS;
        // A WFI may end early; a vCPU waiting in one steps now.
        if (v.state == RunState::Blocked)
            v.state = RunState::Runnable;
        if (v.state == RunState::Off)
            offline_step = &v;
    }
    if (g_owned[p.id] && p.vcpu)
        write_mdscr_el1(debugger_mdscr(*p.vcpu));
    isb();
    if (offline_step) {
        // A powered-off vCPU cannot execute its step: it stops again where
        // it is, rather than leaving gdb waiting for ever.
        dbg(*offline_step).step = false;
        offline_step->regs.spsr &= ~spsr::SS;
        halt(gdb::StopEvent{offline_step->id, gdb::StopReason::Step});
    }
}

void stop_here(Pcpu& p)
{
    Vcpu* v = p.vcpu;
    if (v)
        context_save_el1(*v);
    for (;;) {
        const u32 s = __atomic_load_n(&g_ctl.state, __ATOMIC_ACQUIRE);
        if (!is_halted(s))
            break;
        const u32 e = epoch_of(s);
        if (__atomic_load_n(&g_ctl.parked[p.id], __ATOMIC_RELAXED) != e) {
            __atomic_store_n(&g_ctl.parked[p.id], e, __ATOMIC_RELEASE);
            if (p.id != kStubPcpu)
                gic::send_sgi(gic::kKickSgi, g_pcpus[kStubPcpu].mpidr);
        }
        if (p.id == kStubPcpu && g_reported != e && all_parked(e)) {
            g_reported = e;
            gdb_stub_stopped(g_ctl.event); // may resume at once (detach)
            continue;
        }
        // The stub runs from here too: the channel's interrupt on pCPU 0.
        cpu_wait_interrupt();
        handle_physical_irqs();
    }
    if (v)
        context_load_el1(*v);
    unpark(p);
}

} // namespace

const char* debug_setup(const HostPlatform& host)
{
    const u64 dfr0 = read_id_aa64dfr0_el1();
    const unsigned brps = static_cast<unsigned>(bits(dfr0, 15, 12)) + 1;
    const unsigned wrps = static_cast<unsigned>(bits(dfr0, 23, 20)) + 1;
    g_pairs.brps = brps < GuestDebugRegs::kMaxPairs ? brps : GuestDebugRegs::kMaxPairs;
    g_pairs.wrps = wrps < GuestDebugRegs::kMaxPairs ? wrps : GuestDebugRegs::kMaxPairs;
    for (u32 m = 0; m < g_nvms; m++) {
        for (u32 i = 0; i < g_vms[m].nvcpus; i++) {
            const Vcpu& v = g_vms[m].vcpus[i];
            dbg(v).guest.oslk = true; // as after a cold reset
            g_ctl.pcpus |= 1u << v.pcpu;
            g_ctl.action[slot(v)] = gdb::Action::Continue;
        }
    }
    if (!g_options.gdb)
        return nullptr;
    return gdb_channel_setup(host);
}

void debug_check_stop(Pcpu& p)
{
    // Relaxed: stop_here() reads the state again with acquire.
    while (is_halted(__atomic_load_n(&g_ctl.state, __ATOMIC_RELAXED)))
        stop_here(p);
}

bool debug_stepping(const Vcpu& v) { return dbg(v).step; }

void debug_before_entry(const Vcpu& v)
{
    // With En clear the virtual CPU interface signals nothing; the list
    // registers keep their state for the next ordinary entry.
    if (dbg(v).step)
        vif_write_hcr(this_pcpu(), v.lrs.hcr & ~kIchHcrEn);
}

void debug_context_save(Vcpu& v)
{
    if (!g_owned[this_pcpu_id()])
        hw_save_guest(dbg(v).guest);
}

void debug_context_load(const Vcpu& v)
{
    if (g_owned[this_pcpu_id()])
        write_mdscr_el1(debugger_mdscr(v));
    else
        hw_load_guest(dbg(v).guest);
}

void handle_brk(Vcpu& v, u64 esr)
{
    const u32 imm = static_cast<u32>(esr & kBrkImmMask);
    if (g_owned[this_pcpu_id()] && imm == gdb::Stub::kBrkImm) {
        // ELR stays on the BRK: if this halt loses to another, the vCPU
        // takes the breakpoint again when it resumes.
        halt(gdb::StopEvent{v.id, gdb::StopReason::SwBreak});
        return;
    }
    // The guest's own BRK (BUG(), WARN(), kprobes): the exception it would
    // have taken without MDCR_EL2.TDE, at the BRK itself.
    inject_sync(v, (u64{static_cast<u8>(esr::Ec::Brk64)} << 26) | esr::IL | imm);
}

void handle_hw_breakpoint(Vcpu& v, u64 esr)
{
    if (g_owned[this_pcpu_id()]) {
        halt(gdb::StopEvent{v.id, gdb::StopReason::HwBreak});
        return;
    }
    // Not ours (without TDE the guest's breakpoints never reach EL2): give
    // it to the guest rather than trap on it for ever.
    const bool el0 = (v.regs.spsr & spsr::kModeMask) == spsr::EL0t;
    const esr::Ec ec = el0 ? esr::Ec::BreakpointLow : esr::Ec::BreakpointCur;
    inject_sync(v, (u64{static_cast<u8>(ec)} << 26) | esr::IL | esr::iss(esr));
}

void handle_software_step(Vcpu& v, u64)
{
    VcpuDebug& d = dbg(v);
    const bool ours = g_owned[this_pcpu_id()] && d.step;
    d.step = false;
    v.regs.spsr &= ~spsr::SS;
    if (g_owned[this_pcpu_id()])
        write_mdscr_el1(debugger_mdscr(v));
    // A step nobody waits for any more just ends.
    if (ours)
        halt(gdb::StopEvent{v.id, gdb::StopReason::Step});
}

bool debug_sysreg(Vcpu& v, u32 key, bool read, u64& val)
{
    if (!g_owned[this_pcpu_id()])
        return false;
    return emulate_debug_reg(dbg(v).guest, g_pairs, key, read, val) == DebugRegResult::Done;
}

u32 debug_hw_breakpoint_slots() { return g_pairs.brps; }

void debug_set_hw_breakpoints(const u64* addrs, u32 n)
{
    g_ctl.nhw = 0;
    for (u32 i = 0; i < n && i < g_pairs.brps; i++)
        g_ctl.hw[g_ctl.nhw++] = addrs[i];
}

void debug_set_attached(bool attached) { g_ctl.attached = attached; }

void debug_request_stop(gdb::StopReason why)
{
    // Reported on the vCPU the stub's pCPU was running.
    const Pcpu& p = this_pcpu();
    halt(gdb::StopEvent{p.vcpu ? p.vcpu->id : 0, why});
}

void debug_resume(const gdb::Action* per_vcpu)
{
    // The stub debugs VM 0: its vCPUs are the threads.
    for (u32 i = 0; i < g_vms[0].nvcpus; i++)
        g_ctl.action[slot(g_vms[0].vcpus[i])] = per_vcpu[i];
    const u32 s = __atomic_load_n(&g_ctl.state, __ATOMIC_ACQUIRE);
    if (!is_halted(s))
        return;
    const u64 stopped = read_cntpct_el0() - g_ctl.halt_start;
    for (u32 m = 0; m < g_nvms; m++)
        g_vms[m].cntvoff += stopped;
    __atomic_store_n(&g_ctl.state, epoch_of(s) << 1, __ATOMIC_RELEASE);
    kick_others(this_pcpu_id());
}
