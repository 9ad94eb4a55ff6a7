// The per-pCPU run loop: enter the guest, take an exit, handle it, re-enter.
// A vCPU that waits (WFI, CPU_SUSPEND, powered off) waits on its own pCPU in
// WFI, which costs the host nothing under TCG, and is woken by a physical
// interrupt: its virtual timer, the UART, or a kick SGI from another pCPU
// that made an interrupt pending for it.
#include "console.h"
#include <cpu.h>
#include "firmware.h"
#include "core/format.h"
#include "debug.h"
#include "frame.h"
#include "gic.h"
#include "host_irq.h"
#include "hyp_stop.h"
#include "hw_regs.h"
#include "log.h"
#include "mmu.h"
#include "pcpu.h"
#include "sched.h"
#include "sysreg.h"
#include "trap.h"
#include "uart.h"
#include "vif.h"
#include "vm.h"
#include "vgic/regs.h"

extern "C" [[noreturn]] void guest_enter(GuestRegs* regs);

namespace {

// Placement of vCPUs on pCPUs, per mode. Multi: vCPU n on pCPU n. Single:
// everything on pCPU 0.
constexpr u32 kPlacement[2][kMaxVcpus] = {
    {0, 1, 2, 3},
    {0, 0, 0, 0},
};

// Set while typed input waits in the physical UART because the guest's
// FIFO is full; the physical RX interrupt is masked meanwhile.
bool g_rx_throttled;

class UartSink final : public CharSink {
public:
    void put(char c) override { console_guest_putc(c); }
    void rx_space() override
    {
        if (__atomic_exchange_n(&g_rx_throttled, false, __ATOMIC_ACQ_REL))
            uart_enable_rx_irq();
    }
};

// Console debug keys: Ctrl-] then a letter talks to the hypervisor instead
// of the guest (Ctrl-] twice sends one Ctrl-] to the guest).
constexpr char kDebugEscape = 0x1d;
bool g_escape_seen;

// Ctrl-] c: a deliberate panic with the vGIC distributor lock held (a test
// and debug aid, like Linux's sysrq-c). It holds the lock for 100 ms first,
// so that pCPUs wanting it are spinning on it, interrupts masked, when the
// panic has to stop them (tests/system/test_panic.py).
[[noreturn]] void crash_key()
{
    g_vm.vgic.with_dist_lock([] {
        const u64 end = read_cntpct_el0() + read_cntfrq_el0() / 10;
        while (read_cntpct_el0() < end)
            cpu_relax();
        hyp_panic("crash requested on the console (Ctrl-] c), vGIC distributor lock held");
    });
    __builtin_unreachable();
}

// Returns true when the byte was for the hypervisor.
bool debug_key(char c)
{
    if (!g_escape_seen) {
        g_escape_seen = c == kDebugEscape;
        return g_escape_seen;
    }
    g_escape_seen = false;
    switch (c) {
    case kDebugEscape: return false;
    case 's': print_exit_stats(); return true;
    case 'c': crash_key();
    default:
        hyp_log("debug keys: Ctrl-] s = exit statistics, Ctrl-] c = panic (test aid), "
                "Ctrl-] Ctrl-] = send Ctrl-] to the guest");
        return true;
    }
}

// Move typed bytes from the physical UART into the guest's FIFO, no more
// than it has room for (QEMU holds the rest back, like a real line would
// with flow control).
void drain_physical_uart()
{
    for (;;) {
        u32 room = g_uart.rx_room();
        for (int c; room > 0 && (c = uart_getc()) >= 0;) {
            if (debug_key(static_cast<char>(c)))
                continue;
            g_uart.receive(static_cast<char>(c));
            room--;
        }
        if (!uart_rx_ready())
            return;
        __atomic_store_n(&g_rx_throttled, true, __ATOMIC_RELEASE);
        uart_disable_rx_irq();
        if (g_uart.rx_room() == 0)
            return; // the guest's next DR read calls rx_space()
        // The guest made room between our two looks: take it back.
        if (__atomic_exchange_n(&g_rx_throttled, false, __ATOMIC_ACQ_REL))
            uart_enable_rx_irq();
    }
}

class UartIrq final : public IrqLine {
public:
    void set_level(bool level) override { g_vm.vgic.set_spi_level(kGuestLayout.uart_spi, level); }
};

class Hooks final : public vgic::Notifier, public psci::Host {
public:
    void kick(u32 vcpu) override { vcpu_kick(vcpu); }
    bool valid_entry(u64 ipa) override { return g_vm.ipa_in_ram(ipa) && (ipa & 3) == 0; }
    void wake(u32 vcpu) override { vcpu_kick(vcpu); }
};

constinit UartSink g_uart_sink;
constinit UartIrq g_uart_irq;

GuestRegs* prepare_entry(Vcpu& v)
{
    g_vm.vgic.flush(v.id, v.lrs);
    vif_load(this_pcpu(), v);
    debug_before_entry(v);
    return &v.regs;
}

// EL2 state for running this VM's vCPUs on this pCPU.
void enter_vm_context(Pcpu& p)
{
    u64 hcr = hcr::VM | hcr::SWIO | hcr::FMO | hcr::IMO | hcr::AMO | hcr::FB | hcr::BSU_IS | hcr::TWI |
              hcr::TSC | hcr::RW;
    // Pointer authentication (e.g. -cpu max): let the guest use its keys.
    if (bits(read_id_aa64isar1_el1(), 11, 4) != 0)
        hcr |= hcr::API | hcr::APK;
    // Sharing a pCPU, a vCPU spinning in WFE on a lock held by a descheduled
    // vCPU should give way; alone on its pCPU there is nobody to give way to.
    if (p.nrun > 1)
        hcr |= hcr::TWE;
    write_hcr_el2(hcr);
    stage2_enable(1);
    // EL1 may read the physical counter; the EL1 physical timer traps
    // (the guest is given the virtual timer only).
    write_cnthctl_el2(bit(0));
    write_cntvoff_el2(g_vm.cntvoff);
    // RES1 bits only: no FP/SIMD (TFP) or SVE (TZ) trap. The guest sees the
    // CPU's features; SVE predicate state is not switched between vCPUs
    // (docs/modes.md: known limitation with CPU=max in single mode).
    write_cptr_el2(0x32ff);
    write_vpidr_el2(read_midr_el1());
    write_ich_vmcr_el2(0);
    vif_init(p);
    isb();
}

[[noreturn]] void park_forever()
{
    for (;;) {
        cpu_wait_interrupt();
        handle_physical_irqs();
    }
}

} // namespace

constinit Vm g_vm;
constinit Pl011 g_uart{g_uart_sink, g_uart_irq};
constinit Hooks g_hooks;

vgic::Notifier* vm_notifier() { return &g_hooks; }
psci::Host* vm_psci_host() { return &g_hooks; }

u32 vcpu_home_pcpu(u32 vcpu) { return kPlacement[static_cast<u32>(g_vm.opts.mode)][vcpu]; }

void vcpu_kick(u32 vcpu)
{
    const u32 target = vcpu_home_pcpu(vcpu);
    Pcpu& p = this_pcpu();
    if (target == p.id) {
        // Seen by this pCPU's next flush; if another vCPU has the pCPU, the
        // scheduler switches to the woken one.
        sched_wake(p, g_vm.vcpus[vcpu]);
        return;
    }
    if (p.vcpu)
        p.vcpu->stats.kicks_sent++;
    gic::send_sgi(gic::kKickSgi, g_vm.pcpu_mpidr[target]);
}

void handle_physical_irqs()
{
    if (hyp_stopping()) // another pCPU panicked and kicked this one
        hyp_stop_park();
    Pcpu& p = this_pcpu();
    p.wakes_preempt = true;
    for (;;) {
        const u32 id = gic::ack();
        if (id >= gic::kSpurious) {
            p.wakes_preempt = false;
            return;
        }
        gic::eoi(id);
        p.irqs++;
        if (id == gic::kKickSgi) {
            if (p.nrun) // not the boot-time release of a parked pCPU
                p.kicks_received++;
            gic::deactivate(id);
        } else if (id == kGuestLayout.vtimer_ppi && p.vcpu) {
            // Left active: the guest's EOI deactivates it through the
            // hardware list register, so it cannot fire again before that.
            g_vm.vgic.set_private_pending(p.vcpu->id, id, true);
        } else if (id == kHypTimerPpi) {
            // The scheduler's deadline passed; it re-arms before any entry.
            sched_hyp_timer_off(p);
            gic::deactivate(id);
        } else if (id == g_vm.host_uart_intid) {
            drain_physical_uart();
            gic::deactivate(id);
        } else if (host_irq_dispatch(id)) {
            gic::deactivate(id);
        } else {
            gic::deactivate(id);
            if (id != kGuestLayout.maintenance_ppi && id != kGuestLayout.vtimer_ppi)
                hyp_log("unexpected physical interrupt %u", id);
        }
    }
}

[[noreturn]] void system_off(bool reset)
{
    hyp_log("guest requested %s", reset ? "SYSTEM_RESET: restarting the machine" : "SYSTEM_OFF");
    print_exit_stats();
    if (reset)
        firmware::system_reset();
    firmware::system_off();
}

extern "C" GuestRegs* handle_guest_exit(u64 kind, GuestRegs* regs)
{
    Pcpu& p = this_pcpu();
    Vcpu& v = *p.vcpu;
    HYP_ASSERT(regs == &v.regs);
    v.stats.exits++;
    vif_save(p, v);
    g_vm.vgic.fold(v.id, v.lrs);
    vif_quiesce(p, v);
    switch (kind) {
    case EXIT_SYNC: handle_sync_exit(v, read_esr_el2()); break;
    case EXIT_IRQ:
        v.stats.irq++;
        handle_physical_irqs();
        break;
    default:
        // An SError or FIQ caused by the guest is reported and the guest
        // goes on; the hypervisor does not stop for it.
        hyp_log("vCPU%u: %s from guest at PC 0x%llx, ESR 0x%llx", v.id, kind == EXIT_FIQ ? "FIQ" : "SError",
                static_cast<unsigned long long>(v.regs.elr), static_cast<unsigned long long>(read_esr_el2()));
        break;
    }
    debug_check_stop(p);
    return prepare_entry(schedule(p));
}

void run_vcpus(u32 pcpu)
{
    Pcpu& p = this_pcpu();
    sched_init(p);
    if (p.nrun == 0)
        park_forever(); // single-pCPU mode: pCPUs 1-3 never run guest code
    enter_vm_context(p);
    for (u32 i = 0; i < p.nrun; i++) {
        Vcpu& v = *p.runq[i];
        v.lrs.num = gic::num_list_regs();
        // The boot vCPU starts at the kernel with x0 = its device tree; the
        // others wait, powered off, for the guest's PSCI CPU_ON.
        if (g_vm.psci.state(v.id) == psci::PowerState::On)
            vcpu_reset(p, v, g_vm.ram_ipa + kGuestLayout.kernel_offset, g_vm.ram_ipa + kGuestLayout.dtb_offset);
        else
            v.state = RunState::Off;
    }
    (void)pcpu;
    guest_enter(prepare_entry(schedule(p)));
}
