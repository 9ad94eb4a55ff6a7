// The gdb stub on the target: the protocol engine (hyp/debug/gdb_stub) over
// every VM (a process) and its vCPUs (threads), talking through a
// virtio-serial port that QEMU connects to a TCP socket
// (scripts/run-qemu.sh, GDB=1).
//
// Everything here runs on kStubPcpu: the channel's interrupt is routed
// there, so bytes from gdb arrive in its handle_physical_irqs (at a guest
// exit or an idle wake-up). The engine reads and writes the vCPU state of
// a stopped VM from the copies debug.cpp made in memory when it parked it
// (GuestRegs, El1Context, FpContext). A VM that runs (gdb's all-stop view
// takes it as stopped) is shown as last saved: its registers as at its
// vCPU's last exit (read-only), its memory through the stage-1 registers
// its vCPU had at its last switch or stop.
//
// Guest memory is reached by a software walk of the vCPU's stage-1 tables
// (hyp/debug/s1_walk) and the stage-2 map (guest RAM only, Vm::ipa_in_ram),
// never through the guest's own mappings, so a bad address is an E14 reply
// and never an EL2 fault.
#include <cpu.h>

#include "debug.h"
#include "debug/gdb_stub.h"
#include "debug/s1_walk.h"
#include "core/format.h"
#include "drivers/virtio/console.h"
#include "hw_regs.h"
#include "log.h"
#include "sysreg.h"
#include "serial_ports.h"
#include "vm/vm.h"
#include "vm/vm_tables.h"

static_assert(kMaxVms * kMaxVcpus <= gdb::Stub::kMaxThreads, "one gdb thread per vCPU");
static_assert(kMaxVms <= gdb::Stub::kMaxProcesses, "one gdb process per VM");

namespace {

// The stub's flat thread index t: VM 0's vCPUs, then VM 1's, ...
Vcpu& vcpu_of(u32 t)
{
    for (u32 m = 0; m < g_nvms; m++) {
        if (t < g_vms[m].nvcpus)
            return g_vms[m].vcpus[t];
        t -= g_vms[m].nvcpus;
    }
    return g_vms[0].vcpus[0]; // the engine checks thread ids
}

constexpr u64 kTxTimeoutSeconds = 2;   // gdb not reading: give up on a reply after this


s1::Regs stage1_of(const Vcpu& v)
{
    return s1::Regs{.sctlr = v.arch.el1.sctlr_el1, .tcr = v.arch.el1.tcr_el1, .ttbr0 = v.arch.el1.ttbr0_el1, .ttbr1 = v.arch.el1.ttbr1_el1};
}

bool translate(const Vcpu& v, u64 va, s1::Result& r)
{
    Vm& vm = *v.vm;
    VmTables tables(vm);
    if (s1::translate(stage1_of(v), va, tables, &r))
        return true;
    // Kernel addresses (TTBR1) are shared by all vCPUs; one that is in user
    // space with the kernel unmapped (KPTI) or not started yet lacks them.
    if (!((va >> 55) & 1))
        return false;
    for (u32 i = 0; i < vm.nvcpus; i++)
        if (i != v.id && s1::translate(stage1_of(vm.vcpus[i]), va, tables, &r))
            return true;
    return false;
}

// Calls fn(host pointer, offset, n) for the guest RAM behind [va, va+len)
// as vCPU t sees it, mapping by mapping; returns the bytes covered.
template <typename Fn>
usize for_each_ram_piece(u32 t, u64 va, usize len, Fn fn)
{
    const Vcpu& v = vcpu_of(t);
    const Vm& vm = *v.vm;
    usize done = 0;
    while (done < len) {
        s1::Result r;
        if (!translate(v, va + done, r) || !vm.ipa_in_ram(r.ipa))
            break;
        const u64 ram_left = vm.ram_ipa + vm.ram_size - r.ipa;
        u64 n = len - done;
        if (n > r.size)
            n = r.size;
        if (n > ram_left)
            n = ram_left;
        fn(reinterpret_cast<u8*>(vm.ipa_to_pa(r.ipa)), done, static_cast<usize>(n));
        done += static_cast<usize>(n);
    }
    return done;
}

const char* el_name(u64 spsr)
{
    switch (spsr & spsr::kModeMask) {
    case spsr::EL1h: return "EL1h";
    case spsr::EL1t: return "EL1t";
    case spsr::EL0t: return "EL0";
    default: return "EL?";
    }
}

bool valid_guest_mode(u64 spsr)
{
    const u64 m = spsr & 0x1f; // M[4] = 0: AArch64
    return m == spsr::EL0t || m == spsr::EL1t || m == spsr::EL1h;
}

class HypTarget final : public gdb::Target {
public:
    u32 num_processes() override { return g_nvms; }
    u32 num_threads(u32 m) override { return m < g_nvms ? g_vms[m].nvcpus : 0; }

    void read_regs(u32 t, gdb::Regs& r) override
    {
        const Vcpu& v = vcpu_of(t);
        for (unsigned i = 0; i < 31; i++)
            r.x[i] = v.regs.x[i];
        r.sp = (v.regs.spsr & spsr::kModeMask) == spsr::EL1h ? v.arch.el1.sp_el1 : v.arch.el1.sp_el0;
        r.pc = v.regs.elr;
        r.cpsr = static_cast<u32>(v.regs.spsr);
        for (unsigned i = 0; i < 32; i++) {
            r.v[i][0] = v.arch.fp.q[2 * i];
            r.v[i][1] = v.arch.fp.q[2 * i + 1];
        }
        r.fpsr = static_cast<u32>(v.arch.fp.fpsr);
        r.fpcr = static_cast<u32>(v.arch.fp.fpcr);
    }

    bool write_regs(u32 t, const gdb::Regs& r) override
    {
        // The guest runs at EL1 or EL0 in AArch64 and nowhere else; the
        // step bit belongs to the stub.
        if (!valid_guest_mode(r.cpsr))
            return false;
        Vcpu& v = vcpu_of(t);
        // Its pCPU owns a vCPU of a VM that runs.
        if (!debug_vm_stopped(*v.vm))
            return false;
        for (unsigned i = 0; i < 31; i++)
            v.regs.x[i] = r.x[i];
        v.regs.elr = r.pc;
        v.regs.spsr = (v.regs.spsr & (~u64{0xffff'ffff} | spsr::SS)) | (r.cpsr & ~static_cast<u32>(spsr::SS));
        if ((v.regs.spsr & spsr::kModeMask) == spsr::EL1h)
            v.arch.el1.sp_el1 = r.sp;
        else
            v.arch.el1.sp_el0 = r.sp;
        for (unsigned i = 0; i < 32; i++) {
            v.arch.fp.q[2 * i] = r.v[i][0];
            v.arch.fp.q[2 * i + 1] = r.v[i][1];
        }
        v.arch.fp.fpsr = r.fpsr;
        v.arch.fp.fpcr = r.fpcr;
        return true;
    }

    usize read_memory(u32 t, u64 va, u8* buf, usize len) override
    {
        return for_each_ram_piece(t, va, len, [buf](u8* host, usize at, usize n) {
            for (usize i = 0; i < n; i++)
                buf[at + i] = host[i];
        });
    }

    usize write_memory(u32 t, u64 va, const u8* buf, usize len) override
    {
        return for_each_ram_piece(t, va, len, [buf](u8* host, usize at, usize n) {
            for (usize i = 0; i < n; i++)
                host[i] = buf[at + i];
            sync_icache(reinterpret_cast<u64>(host), n);
        });
    }

    u32 hw_breakpoint_slots() override { return debug_hw_breakpoint_slots(); }
    void set_hw_breakpoints(u32 m, const u64* addrs, u32 n) override { debug_set_hw_breakpoints(m, addrs, n); }
    void set_attached(bool attached) override
    {
        hyp_log("gdb: debugger %s", attached ? "attached, stopping the guest" : "detached, the guests run on");
        debug_set_attached(attached);
    }
    void request_stop(gdb::StopReason why, u32 vms) override { debug_request_stop(why, vms); }
    void resume(const gdb::Action* per_thread) override { debug_resume(per_thread); }

    void thread_info(u32 t, char* buf, usize len) override
    {
        const Vcpu& v = vcpu_of(t);
        if (!debug_vm_stopped(*v.vm)) {
            // gdb's all-stop view takes every thread as stopped; say so.
            fmt_snprintf(buf, len, "vCPU %u on pCPU %u, VM %u running", v.id, v.pcpu, v.vm->id);
            return;
        }
        const char* state = v.state == RunState::Off ? "powered off"
                            : v.state == RunState::Blocked ? "waiting (WFI)"
                                                            : "runnable";
        if (g_nvms > 1)
            fmt_snprintf(buf, len, "vCPU %u on pCPU %u, VM %u, %s, %s", v.id, v.pcpu, v.vm->id, state,
                         el_name(v.regs.spsr));
        else
            fmt_snprintf(buf, len, "vCPU %u on pCPU %u, %s, %s", v.id, v.pcpu, state, el_name(v.regs.spsr));
    }
};

class PortEvents final : public SerialPortUser {
public:
    void rx(const u8* p, usize n) override;
    void host_open(bool open) override;
    void irq(virtio::ConsolePort& port) override { port.poll(); }
};
constinit PortEvents g_events;
virtio::ConsolePort* g_port;

class PortChannel final : public gdb::Channel {
public:
    void write(const u8* p, usize n) override
    {
        // The device takes bytes as fast as the socket drains; if gdb stops
        // reading, the reply is dropped rather than the hypervisor stalled.
        const u64 deadline = read_cntpct_el0() + kTxTimeoutSeconds * read_cntfrq_el0();
        while (n > 0) {
            const usize k = g_port->write(p, n);
            p += k;
            n -= k;
            if (n > 0 && read_cntpct_el0() > deadline) {
                dropped_++;
                return;
            }
        }
    }

private:
    u64 dropped_ = 0;
};

constinit HypTarget g_target;
constinit PortChannel g_channel;
constinit gdb::Stub g_stub{g_target, g_channel};

void PortEvents::rx(const u8* p, usize n) { g_stub.receive(p, n); }

void PortEvents::host_open(bool open)
{
    // Either way the previous session, if any, is over.
    hyp_log("gdb: client %s", open ? "connected" : "disconnected");
    g_stub.disconnected();
}

} // namespace

void gdb_stub_stopped(const gdb::StopEvent& e) { g_stub.stopped(e); }

const char* gdb_channel_setup(const HostPlatform&)
{
    g_port = serial_port_open("hyp.gdb", g_events, kStubPcpu);
    if (!g_port)
        return "gdb=1 but QEMU has no virtio-serial port named hyp.gdb for the stub: use make run GDB=1 "
               "(scripts/run-qemu.sh adds it)";
    hyp_log("gdb: stub on virtio-serial port hyp.gdb, served by pCPU %u; the guest runs until gdb connects",
            kStubPcpu);
    return nullptr;
}
