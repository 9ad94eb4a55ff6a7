// See consoles.h. Typed input reaches the focused VM's UART through a
// throttle that leaves bytes in the physical UART while the guest's FIFO is
// full; a port's input waits in a small ring for room. Output goes to the
// VM's port (if it has one), into its history, and to the physical UART
// while it has the focus.
//
// Lock order: Pl011 lock -> VmConsole::lock -> console lock (log.cpp);
//             VmConsole::feed_lock -> Pl011 lock, VmConsole::lock;
//             g_throttle_lock -> Pl011 lock.
// The guest UART calls put() with its lock held and rx_space() after
// releasing it; a port's events come from poll() under VmConsole::lock, so
// they only queue bytes, and the UART is fed after that lock is released.
#include "consoles.h"

#include <cpu.h>

#include "console.h"
#include "core/format.h"
#include "log.h"
#include "serial_ports.h"
#include "spinlock.h"
#include "sysreg.h"
#include "uart.h"
#include "vm/arch.h"
#include "vm/console.h"
#include "vm/stats.h"
#include "vm/vm.h"

u32 g_host_uart_intid;

namespace {

constexpr u32 kHistory = 4096;   // bytes of output kept per VM
constexpr u32 kReplay = 1024;    // ... replayed on focus
constexpr u32 kInput = 1024;     // bytes from a port waiting for the guest

class VmConsole final : public SerialPortUser {
public:
    void rx(const u8* p, usize n) override
    {
        // Under lock (from poll): queue only.
        for (usize i = 0; i < n; i++) {
            if (in_count == kInput) {
                dropped++;
                continue;
            }
            input[(in_head + in_count) % kInput] = p[i];
            in_count++;
        }
    }
    void host_open(bool open) override
    {
        if (open)
            replay_to_port = true;
    }
    void irq(virtio::ConsolePort& p) override;

    Vm* vm = nullptr;
    Spinlock lock;       // the port, the rings
    Spinlock feed_lock;  // one feeder at a time (feed())
    virtio::ConsolePort* port = nullptr;
    char history[kHistory]{};
    u32 hist_end = 0;  // bytes ever written; the ring holds the last kHistory
    u8 input[kInput]{};
    u32 in_head = 0;
    u32 in_count = 0;
    u64 dropped = 0;
    bool replay_to_port = false;
};

constinit VmConsole g_consoles[kMaxVms];
u32 g_focus;

// Set while typed input waits in the physical UART because the focused
// VM's FIFO is full; the physical RX interrupt is masked exactly while it
// is set. Both change together under g_throttle_lock: the flag alone (an
// atomic) left a window between publishing it and masking the interrupt in
// which a guest read on another pCPU unmasked first, and the mask then
// stuck with nobody left to undo it (typed input ignored for good).
Spinlock g_throttle_lock;
bool g_rx_throttled;

Vm& focused() { return g_vms[__atomic_load_n(&g_focus, __ATOMIC_ACQUIRE)]; }

// The last `max` bytes of v's history, from a line start where possible.
void history_tail(const VmConsole& c, u32 max, void (*out)(const char*, u32, void*), void* ctx)
{
    const u32 have = c.hist_end < kHistory ? c.hist_end : kHistory;
    u32 n = have < max ? have : max;
    u32 start = c.hist_end - n;
    for (u32 k = 0; k < n && n - k > max / 2; k++)
        if (c.history[(start + k) % kHistory] == '\n') {
            start += k + 1;
            n -= k + 1;
            break;
        }
    char chunk[64];
    u32 len = 0;
    for (u32 k = 0; k < n; k++) {
        chunk[len++] = c.history[(start + k) % kHistory];
        if (len == sizeof chunk) {
            out(chunk, len, ctx);
            len = 0;
        }
    }
    if (len)
        out(chunk, len, ctx);
}

// Bytes a port queued, into the guest UART as far as it has room. Called
// without VmConsole::lock, which the UART's own lock may not be taken under
// (guest output holds the UART's lock and takes VmConsole::lock); feeders
// on several pCPUs take turns on feed_lock so none overfills the FIFO.
void feed(VmConsole& c)
{
    LockGuard f(c.feed_lock);
    Pl011& uart = c.vm->uart;
    for (;;) {
        u32 room = uart.rx_room();
        u8 buf[32];
        u32 n = 0;
        {
            LockGuard g(c.lock);
            while (n < sizeof buf && room > 0 && c.in_count > 0) {
                buf[n++] = c.input[c.in_head];
                c.in_head = (c.in_head + 1) % kInput;
                c.in_count--;
                room--;
            }
        }
        if (n == 0)
            return;
        for (u32 i = 0; i < n; i++)
            uart.receive(static_cast<char>(buf[i]));
    }
}

void VmConsole::irq(virtio::ConsolePort& p)
{
    {
        LockGuard g(lock);
        p.poll();
        if (replay_to_port) {
            // A client connected: show it what the VM printed recently.
            replay_to_port = false;
            history_tail(*this, kReplay, [](const char* s, u32 n, void* ctx) {
                static_cast<virtio::ConsolePort*>(ctx)->write(reinterpret_cast<const u8*>(s), n);
            }, &p);
        }
    }
    feed(*this);
}

void set_focus(u32 n)
{
    if (n >= g_nvms) {
        hyp_log("console: there is no VM %u (VMs 0-%u)", n, g_nvms - 1);
        return;
    }
    __atomic_store_n(&g_focus, n, __ATOMIC_RELEASE);
    {
        // Input held back for the old focus may go to the new one: the
        // next drain throttles again if it has no room either.
        LockGuard g(g_throttle_lock);
        if (g_rx_throttled) {
            g_rx_throttled = false;
            uart_enable_rx_irq();
        }
    }
    hyp_log("console: VM %u%s (Ctrl-] 0-%u switches; its recent output follows)", n,
            g_vms[n].console_port ? ", also on its port" : "", g_nvms - 1);
    VmConsole& c = g_consoles[n];
    LockGuard g(c.lock);
    history_tail(c, kReplay, [](const char* s, u32 len, void*) {
        for (u32 i = 0; i < len; i++)
            console_guest_putc(s[i]);
    }, nullptr);
}

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
    focused().vgic.with_dist_lock([] {
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
    if (c >= '0' && c <= '9') {
        set_focus(static_cast<u32>(c - '0'));
        return true;
    }
    switch (c) {
    case kDebugEscape: return false;
    case 's': print_exit_stats(); return true;
    case 't': arch::trace_dump("Ctrl-] t"); return true;
    case 'c': crash_key();
    default:
        hyp_log("debug keys: Ctrl-] s = exit statistics, Ctrl-] t = dump the trace (TRACE=1), Ctrl-] 0-%u = "
                "console of VM n, Ctrl-] c = panic (test aid), Ctrl-] Ctrl-] = send Ctrl-] to the guest",
                g_nvms ? g_nvms - 1 : 0);
        return true;
    }
}

} // namespace

u32 console_focus() { return __atomic_load_n(&g_focus, __ATOMIC_ACQUIRE); }

const char* console_attach(Vm& vm)
{
    VmConsole& c = g_consoles[vm.id];
    c.vm = &vm;
    if (!vm.console_port)
        return nullptr;
    char name[16];
    fmt_snprintf(name, sizeof name, "hyp.vm%u", vm.id);
    // Its port's interrupt goes to a pCPU of its own: the bytes it brings
    // are its business, and the placement gives it only its own pCPU time.
    c.port = serial_port_open(name, c, vm.vcpus[0].pcpu);
    if (!c.port)
        return "a VM's console port is missing: QEMU needs -device virtserialport,name=hyp.vm<N> "
               "(scripts/machine.py adds it)";
    return nullptr;
}

void drain_physical_uart()
{
    for (;;) {
        Pl011& uart = focused().uart;
        u32 room = uart.rx_room();
        for (int c; room > 0 && (c = uart_getc()) >= 0;) {
            if (debug_key(static_cast<char>(c)))
                continue;
            uart.receive(static_cast<char>(c));
            room--;
        }
        if (!uart_rx_ready())
            return;
        LockGuard g(g_throttle_lock);
        // A guest read between the two looks made room: keep moving.
        if (focused().uart.rx_room() > 0)
            continue;
        // Full: hold the rest back until the guest's next DR read, whose
        // rx_space() (after the UART's lock is released) unmasks again.
        g_rx_throttled = true;
        uart_disable_rx_irq();
        return;
    }
}

void console_vm_output(Vm& vm, char c)
{
    VmConsole& con = g_consoles[vm.id];
    {
        LockGuard g(con.lock);
        con.history[con.hist_end % kHistory] = c;
        con.hist_end++;
        if (con.port)
            con.port->write(reinterpret_cast<const u8*>(&c), 1);
    }
    if (vm.id == console_focus())
        console_guest_putc(c);
}

void console_vm_rx_space(Vm& vm)
{
    if (vm.id == console_focus()) {
        LockGuard g(g_throttle_lock);
        if (g_rx_throttled) {
            g_rx_throttled = false;
            uart_enable_rx_irq();
        }
    }
    if (g_consoles[vm.id].in_count)
        feed(g_consoles[vm.id]);
}
