// The physical console's input side: typed bytes go to the guest UART of the
// VM that has the console (VM 0), through a throttle that leaves bytes in the
// physical UART while the guest's FIFO is full, and Ctrl-] debug keys go to
// the hypervisor. The output side is log.cpp.
#include "console_input.h"

#include "console.h"
#include "log.h"
#include "spinlock.h"
#include "uart.h"
#include "vm/console.h"
#include "vm/stats.h"
#include "vm/vm.h"

u32 g_host_uart_intid;

namespace {

// Set while typed input waits in the physical UART because the guest's
// FIFO is full; the physical RX interrupt is masked exactly while it is set.
// Both change together under g_throttle_lock: the flag alone (an atomic)
// left a window between publishing it and masking the interrupt in which a
// guest read on another pCPU unmasked first, and the mask then stuck with
// nobody left to undo it (typed input ignored for good).
// Lock order: g_throttle_lock -> the guest UART's lock (drain asks for room).
Spinlock g_throttle_lock;
bool g_rx_throttled;

// Console debug keys: Ctrl-] then a letter talks to the hypervisor instead
// of the guest (Ctrl-] twice sends one Ctrl-] to the guest).
constexpr char kDebugEscape = 0x1d;
bool g_escape_seen;

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
    default:
        hyp_log("debug keys: Ctrl-] s = exit statistics, Ctrl-] Ctrl-] = send Ctrl-] to the guest");
        return true;
    }
}

// The VM whose UART receives what is typed.
Vm& input_vm() { return g_vms[0]; }

} // namespace

void drain_physical_uart()
{
    Pl011& uart = input_vm().uart;
    for (;;) {
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
        if (uart.rx_room() > 0)
            continue;
        // Full: hold the rest back until the guest's next DR read, whose
        // rx_space() (after this lock is released) unmasks again.
        g_rx_throttled = true;
        uart_disable_rx_irq();
        return;
    }
}

void console_vm_output(Vm&, char c) { console_guest_putc(c); }

void console_vm_rx_space(Vm& vm)
{
    if (&vm != &input_vm())
        return;
    LockGuard g(g_throttle_lock);
    if (g_rx_throttled) {
        g_rx_throttled = false;
        uart_enable_rx_irq();
    }
}
