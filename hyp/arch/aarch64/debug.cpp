// Guest debugging at EL2: stopping VMs for the debugger, the guest's debug
// exceptions, and who owns the debug hardware.
//
// A VM stops as a whole; the others run on. Per VM, g_ctl.vm[m].state =
// epoch << 1 | halted says whether it is stopped:
//   * A vCPU of the VM hits one of our breakpoints or finishes a step (any
//     pCPU), or the stub asks (gdb's Ctrl-C or a new connection: every VM
//     the client sees). A CAS from "running" to "halted, epoch+1" picks one
//     winner, which records the event and kicks the VM's other pCPUs. A
//     loser's event is dropped: a breakpoint traps again when its vCPU
//     resumes (the PC is still on it); a step that finished is simply done.
//   * Every pCPU the VM has vCPUs on, at its next exit or idle wake-up
//     (debug_check_stop), parks the VM: its vCPUs there become `held`, which
//     the scheduler honours (they do not run and their timers are not
//     looked at), and one that is loaded is unloaded (all its registers to
//     memory, so the stub can read and write any vCPU without touching
//     another pCPU's hardware). It records parked = epoch, kicks the stub's
//     pCPU, and goes on with the vCPUs of other VMs, or idles.
//   * The stub's pCPU (kStubPcpu, 0), once all the VM's pCPUs have parked,
//     hands the event to the stub, which sends the stop reply and serves
//     gdb from the channel's interrupt, while the other VMs run (on this
//     pCPU too). A stop the stub asked for is reported once every VM it
//     asked for has parked.
//   * debug_resume() stores each vCPU's action and, for each stopped VM
//     with a vCPU to run, moves its CNTVOFF on by the time it was stopped,
//     clears `halted` (release) and kicks. Each pCPU unparks it: a vCPU gdb
//     left stopped (vCont without an action for it) stays held.
// g_ctl.seq moves on with every change; a pCPU that has seen the current
// value has nothing to do (one load per exit).
//
// Virtual time stands still while a VM is stopped: its CNTVOFF grows by the
// stopped interval, as KVM's users see it (QEMU adjusts the virtual counter
// of a paused VM). Otherwise every timer would fire at once on continue and
// the kernel's watchdogs would report minutes-long stalls.
//
// Debug hardware. Per pCPU, g_owned says whether the debug registers hold
// the guest's values (not attached: MDCR_EL2.TDE clear, nothing traps) or
// the debugger's (attached: TDE set, so BRK, breakpoint and step exceptions
// and every guest access to a debug register come to EL2). While owned, the
// guest's own values live in g_vdbg[].guest and its accesses are emulated
// (hyp/debug/guest_debug_regs.h); they go back into the hardware at detach.
// Each pCPU changes ownership for itself, at an exit or idle wake-up after
// the stub changed the settings; the breakpoint registers hold the loaded
// vCPU's VM's breakpoints (loaded with the vCPU).
//
// Lock order: g_settings_lock only (nothing is taken while holding it).
#include "debug.h"

#include <cpu.h>

#include "context.h"
#include "debug/gdb_stub.h"
#include "debug/guest_debug_regs.h"
#include "debug_sysreg.h"
#include "gic.h"
#include "hw_regs.h"
#include "run.h"
#include "spinlock.h"
#include "sysreg.h"
#include "trap.h"
#include "vif.h"
#include "vm/arch.h"
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

struct VmHalt {
    u32 state;                // epoch << 1 | halted
    u32 parked[kMaxPcpus];    // the epoch each of its pCPUs last parked it for
    u32 pcpus;                // bit p: pCPU p runs vCPUs of this VM
    gdb::StopEvent event;     // the winner's
    u64 halt_start;           // CNTPCT when the halt began
};

struct Control {
    u32 seq;                  // moves on with every halt, park, resume and settings change
    VmHalt vm[kMaxVms];
    u32 pcpus;                // bit p: pCPU p runs vCPUs
    // Written by the stub, applied by each pCPU (g_settings_lock).
    bool attached;
    u64 hw[kMaxVms][GuestDebugRegs::kMaxPairs];
    u32 nhw[kMaxVms];
    // Written by the stub before a VM's resume (release), read as it unparks.
    gdb::Action action[kSlots];  // per vCPU slot (slot())
};

constinit Control g_ctl{};
constinit Spinlock g_settings_lock;
constinit VcpuDebug g_vdbg[kSlots]{};
constinit bool g_owned[kMaxPcpus]{};
constinit u32 g_seen[kMaxPcpus]{};              // per pCPU: the g_ctl.seq it acted on
constinit u32 g_unparked[kMaxPcpus][kMaxVms]{}; // per pCPU: the epoch of each VM it last unparked
constinit DebugRegCount g_pairs{};
// Stub pCPU only.
constinit u32 g_reported[kMaxVms]{};  // the epoch of each VM the stub was told about
constinit u32 g_wait_mask = 0;        // a stop the stub asked for: these VMs
constinit gdb::StopEvent g_wait_event{};

// Per-vCPU debug state is kept by slot: VM id * kMaxVcpus + vCPU id.
u32 slot(const Vcpu& v) { return v.vm->id * kMaxVcpus + v.id; }
VcpuDebug& dbg(const Vcpu& v) { return g_vdbg[slot(v)]; }

// The stub's thread index: VM 0's vCPUs first, then VM 1's, ...
u32 flat_thread(const Vcpu& v)
{
    u32 t = v.id;
    for (u32 m = 0; m < v.vm->id; m++)
        t += g_vms[m].nvcpus;
    return t;
}

bool is_halted(u32 s) { return (s & 1) != 0; }
u32 epoch_of(u32 s) { return s >> 1; }
u32 load_state(u32 m) { return __atomic_load_n(&g_ctl.vm[m].state, __ATOMIC_ACQUIRE); }

void bump() { __atomic_add_fetch(&g_ctl.seq, 1, __ATOMIC_RELEASE); }

void kick(u32 pcpus)
{
    const u32 self = this_pcpu_id();
    for (u32 i = 0; i < kMaxPcpus; i++)
        if ((pcpus & (1u << i)) && i != self)
            arch::kick_pcpu(i);
}

// Any pCPU. False if VM m is already halted (the event is dropped).
bool halt(u32 m, const gdb::StopEvent& e)
{
    VmHalt& h = g_ctl.vm[m];
    u32 s = __atomic_load_n(&h.state, __ATOMIC_ACQUIRE);
    do {
        if (is_halted(s))
            return false;
    } while (!__atomic_compare_exchange_n(&h.state, &s, ((epoch_of(s) + 1) << 1) | 1, false, __ATOMIC_ACQ_REL,
                                          __ATOMIC_ACQUIRE));
    // Published by this pCPU's own store-release to parked[], which the
    // stub waits for before it reads them.
    h.event = e;
    h.halt_start = read_cntpct_el0();
    bump();
    kick(h.pcpus);
    return true;
}

bool all_parked(u32 m, u32 epoch)
{
    const VmHalt& h = g_ctl.vm[m];
    for (u32 i = 0; i < kMaxPcpus; i++)
        if ((h.pcpus & (1u << i)) && __atomic_load_n(&h.parked[i], __ATOMIC_ACQUIRE) != epoch)
            return false;
    return true;
}

// Halted and every pCPU of it parked: its vCPUs are all in memory.
bool vm_stopped(u32 m)
{
    const u32 s = load_state(m);
    return is_halted(s) && all_parked(m, epoch_of(s));
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

// The debugger's breakpoints of v's VM, and its step, for loaded vCPU v.
void load_debugger_state(const Vcpu& v)
{
    {
        LockGuard g(g_settings_lock);
        const u32 m = v.vm->id;
        for (unsigned i = 0; i < g_pairs.brps; i++) {
            if (i < g_ctl.nhw[m]) {
                write_dbgbvr(i, g_ctl.hw[m][i]);
                write_dbgbcr(i, kBcrExecute);
            } else {
                write_dbgbcr(i, 0);
            }
        }
    }
    for (unsigned i = 0; i < g_pairs.wrps; i++)
        write_dbgwcr(i, 0);
    write_mdscr_el1(debugger_mdscr(v));
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

// The stub's settings (attached, breakpoints) on this pCPU.
void apply_settings(Pcpu& p)
{
    const bool attached = __atomic_load_n(&g_ctl.attached, __ATOMIC_ACQUIRE);
    if (attached && !g_owned[p.id])
        take_hardware(p);
    else if (!attached && g_owned[p.id])
        give_hardware(p);
    if (g_owned[p.id] && p.vcpu)
        load_debugger_state(*p.vcpu);
    isb();
}

// VM vm stops on this pCPU: none of its vCPUs runs here until it resumes,
// and none stays loaded, so that all their state is in memory.
void park(Pcpu& p, Vm& vm, u32 epoch)
{
    for (u32 i = 0; i < p.nrun; i++)
        if (p.runq[i]->vm == &vm)
            p.runq[i]->held = true;
    if (p.vcpu && p.vcpu->vm == &vm) {
        context_save(*p.vcpu);
        p.vcpu = nullptr;
        // The next vCPU loads its VM's stage 2 and CNTVOFF (the latter
        // moves on while this VM is stopped).
        p.arch.vm = nullptr;
    }
    __atomic_store_n(&g_ctl.vm[vm.id].parked[p.id], epoch, __ATOMIC_RELEASE);
    bump();
    if (p.id != kStubPcpu)
        arch::kick_pcpu(kStubPcpu);
}

// VM vm resumes: each of its vCPUs here as gdb asked.
void unpark(Pcpu& p, Vm& vm)
{
    const bool attached = __atomic_load_n(&g_ctl.attached, __ATOMIC_ACQUIRE);
    Vcpu* offline_step = nullptr;
    for (u32 i = 0; i < p.nrun; i++) {
        Vcpu& v = *p.runq[i];
        if (v.vm != &vm)
            continue;
        VcpuDebug& d = dbg(v);
        const gdb::Action a = attached ? g_ctl.action[slot(v)] : gdb::Action::Continue;
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
    if (offline_step) {
        // A powered-off vCPU cannot execute its step: it stops again where
        // it is, rather than leaving gdb waiting for ever.
        dbg(*offline_step).step = false;
        offline_step->regs.spsr &= ~spsr::SS;
        halt(vm.id, gdb::StopEvent{flat_thread(*offline_step), gdb::StopReason::Step});
    }
}

// Stub pCPU: tell the stub about VMs that have stopped.
void report()
{
    if (g_wait_mask) {
        for (u32 m = 0; m < g_nvms; m++)
            if ((g_wait_mask & (1u << m)) && !vm_stopped(m))
                return;
        for (u32 m = 0; m < g_nvms; m++)
            if (g_wait_mask & (1u << m))
                g_reported[m] = epoch_of(load_state(m));
        g_wait_mask = 0;
        gdb_stub_stopped(g_wait_event); // may resume at once (detach)
        return;
    }
    for (u32 m = 0; m < g_nvms; m++) {
        const u32 s = load_state(m);
        if (!is_halted(s) || g_reported[m] == epoch_of(s) || !all_parked(m, epoch_of(s)))
            continue;
        g_reported[m] = epoch_of(s);
        // Ignored if the stub has stopped already (another VM's event came
        // first): this VM stays stopped until gdb resumes, and its
        // breakpoint traps again then.
        gdb_stub_stopped(g_ctl.vm[m].event);
    }
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
            g_ctl.vm[m].pcpus |= 1u << v.pcpu;
            g_ctl.action[slot(v)] = gdb::Action::Continue;
        }
    }
    if (!g_options.gdb)
        return nullptr;
    return gdb_channel_setup(host);
}

namespace {
void check_once(Pcpu& p);
} // namespace

void debug_check_stop(Pcpu& p)
{
    // Again while something changed meanwhile: the stub may resume a VM
    // from here (report(), a detach), and this pCPU must unpark its share
    // without waiting for an interrupt that nothing would send.
    for (;;) {
        const u32 seq = __atomic_load_n(&g_ctl.seq, __ATOMIC_ACQUIRE);
        if (seq == g_seen[p.id])
            return;
        g_seen[p.id] = seq;
        check_once(p);
    }
}

namespace {

void check_once(Pcpu& p)
{
    apply_settings(p);
    for (u32 m = 0; m < g_nvms; m++) {
        if (!(g_ctl.vm[m].pcpus & (1u << p.id)))
            continue;
        const u32 s = load_state(m);
        const u32 e = epoch_of(s);
        const bool parked = __atomic_load_n(&g_ctl.vm[m].parked[p.id], __ATOMIC_RELAXED) == e;
        if (is_halted(s) && !parked)
            park(p, g_vms[m], e);
        else if (!is_halted(s) && parked && g_unparked[p.id][m] != e) {
            g_unparked[p.id][m] = e;
            unpark(p, g_vms[m]);
        }
    }
    if (p.id == kStubPcpu)
        report();
}

} // namespace

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
        load_debugger_state(v);
    else
        hw_load_guest(dbg(v).guest);
}

void handle_brk(Vcpu& v, u64 esr)
{
    const u32 imm = static_cast<u32>(esr & kBrkImmMask);
    if (g_owned[this_pcpu_id()] && imm == gdb::Stub::kBrkImm) {
        // ELR stays on the BRK: if this halt loses to another, the vCPU
        // takes the breakpoint again when it resumes.
        halt(v.vm->id, gdb::StopEvent{flat_thread(v), gdb::StopReason::SwBreak});
        return;
    }
    // The guest's own BRK (BUG(), WARN(), kprobes): the exception it would
    // have taken without MDCR_EL2.TDE, at the BRK itself.
    inject_sync(v, (u64{static_cast<u8>(esr::Ec::Brk64)} << 26) | esr::IL | imm);
}

void handle_hw_breakpoint(Vcpu& v, u64 esr)
{
    if (g_owned[this_pcpu_id()]) {
        halt(v.vm->id, gdb::StopEvent{flat_thread(v), gdb::StopReason::HwBreak});
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
        halt(v.vm->id, gdb::StopEvent{flat_thread(v), gdb::StopReason::Step});
}

bool debug_sysreg(Vcpu& v, u32 key, bool read, u64& val)
{
    if (!g_owned[this_pcpu_id()])
        return false;
    return emulate_debug_reg(dbg(v).guest, g_pairs, key, read, val) == DebugRegResult::Done;
}

u32 debug_hw_breakpoint_slots() { return g_pairs.brps; }

void debug_set_hw_breakpoints(u32 vm, const u64* addrs, u32 n)
{
    if (vm >= kMaxVms)
        return;
    {
        LockGuard g(g_settings_lock);
        g_ctl.nhw[vm] = 0;
        for (u32 i = 0; i < n && i < g_pairs.brps; i++)
            g_ctl.hw[vm][g_ctl.nhw[vm]++] = addrs[i];
    }
    // A VM that runs picks them up at its vCPUs' next exits.
    bump();
    kick(g_ctl.vm[vm].pcpus);
}

void debug_set_attached(bool attached)
{
    __atomic_store_n(&g_ctl.attached, attached, __ATOMIC_RELEASE);
    bump();
    kick(g_ctl.pcpus);
}

void debug_request_stop(gdb::StopReason why, u32 vms)
{
    vms &= static_cast<u32>(mask(g_nvms));
    if (!vms)
        return;
    // Reported on the vCPU the stub's pCPU was running, if it is one of
    // theirs, else on the first vCPU of the first of them.
    const Pcpu& p = this_pcpu();
    const u32 first = static_cast<u32>(__builtin_ctz(vms));
    u32 t = flat_thread(g_vms[first].vcpus[0]);
    if (p.vcpu && (vms & (1u << p.vcpu->vm->id)))
        t = flat_thread(*p.vcpu);
    g_wait_mask = vms;
    g_wait_event = gdb::StopEvent{t, why};
    for (u32 m = 0; m < g_nvms; m++)
        if (vms & (1u << m))
            halt(m, g_wait_event);
    // This pCPU parks its share at its next debug_check_stop.
    bump();
}

void debug_resume(const gdb::Action* per_thread)
{
    u32 t = 0;
    for (u32 m = 0; m < g_nvms; m++)
        for (u32 i = 0; i < g_vms[m].nvcpus; i++, t++)
            g_ctl.action[slot(g_vms[m].vcpus[i])] =
                t < gdb::Stub::kMaxThreads ? per_thread[t] : gdb::Action::Continue;
    const bool attached = __atomic_load_n(&g_ctl.attached, __ATOMIC_RELAXED);
    for (u32 m = 0; m < g_nvms; m++) {
        const u32 s = load_state(m);
        // Only a VM the stub knows is stopped: one still stopping will be
        // reported (its breakpoint is the next stop gdb sees).
        if (!is_halted(s) || g_reported[m] != epoch_of(s))
            continue;
        bool any = !attached;
        for (u32 i = 0; i < g_vms[m].nvcpus; i++)
            any |= g_ctl.action[slot(g_vms[m].vcpus[i])] != gdb::Action::Stop;
        if (!any)
            continue; // gdb keeps all of it stopped: it stays halted
        g_vms[m].cntvoff += read_cntpct_el0() - g_ctl.vm[m].halt_start;
        __atomic_store_n(&g_ctl.vm[m].state, epoch_of(s) << 1, __ATOMIC_RELEASE);
        kick(g_ctl.vm[m].pcpus);
    }
    bump();
}

bool debug_vm_stopped(const Vm& vm) { return vm_stopped(vm.id); }
