// The physical PL011: the hypervisor's console, and the source of the bytes
// a person types at the guest's shell.
#include "uart.h"

#include "mmio_io.h"

namespace {
// PL011 register offsets (ARM PrimeCell UART TRM) used by the polled driver.
enum class Reg : u64 {
    Dr = 0x000,    // UARTDR
    Fr = 0x018,    // UARTFR
    Imsc = 0x038,  // UARTIMSC
};
constexpr u32 kFrRxfe = bit(4);
constexpr u32 kFrTxff = bit(5);
constexpr u32 kIntRx = bit(4);
constexpr u32 kIntRt = bit(6);

u64 g_base = 0x0900'0000; // QEMU virt; replaced by the DTB value at boot

u64 reg(Reg r) { return g_base + static_cast<u64>(r); }
} // namespace

void uart_set_base(u64 base) { g_base = base; }

void uart_putc(char c)
{
    while (mmio_read32(reg(Reg::Fr)) & kFrTxff) {
    }
    mmio_write32(reg(Reg::Dr), static_cast<u8>(c));
}

bool uart_rx_ready() { return !(mmio_read32(reg(Reg::Fr)) & kFrRxfe); }

void uart_disable_rx_irq() { mmio_write32(reg(Reg::Imsc), 0); }

int uart_getc()
{
    if (mmio_read32(reg(Reg::Fr)) & kFrRxfe)
        return -1;
    return static_cast<int>(mmio_read32(reg(Reg::Dr)) & 0xff);
}

// Only the mask changes: clearing the raw status (UARTICR) would lose a
// byte that waits while input is throttled, since no new byte can arrive to
// raise the interrupt again.
void uart_enable_rx_irq() { mmio_write32(reg(Reg::Imsc), kIntRx | kIntRt); }
