// Fake implementations of the arch's lowest layer for host tests: the
// physical GIC driver, the physical UART, firmware calls, FP/SIMD save and
// restore, stage 2, and the guest-debug hooks the exit path calls.
#include "fake_hw.h"

#include <cstdio>
#include <cstdlib>

#include "context.h"
#include "debug.h"
#include "firmware.h"
#include "gic.h"
#include "hyp_stop.h"
#include "serial_ports.h"
#include "stage2.h"
#include "sysreg.h"
#include "trace/trace.h"
#include "uart.h"
#include "vm/vm.h"
#include "vm/vm_disk.h"
#include "vm/vm_setup.h"
#include "vm/arch.h"

namespace fake {
namespace {
Hw g_hw;
unsigned me() { return static_cast<unsigned>(&cpu() - &cpu(0)); }
} // namespace
Hw& hw() { return g_hw; }
void reset_hw() { g_hw = Hw{}; }
} // namespace fake

using fake::hw;

// ---- physical GIC -----------------------------------------------------------
namespace gic {
void init_distributor(u64) {}
void init_cpu(u64, u64, u64) {}
void enable_private(u32, u8) {}
void route_spi(u32, u64, u8) {}
void clear_active_private(u32 intid) { hw().active_ppis[fake::me()] &= ~(1u << intid); }
void set_active_private(u32 intid) { hw().active_ppis[fake::me()] |= 1u << intid; }
bool private_active(u32 intid) { return (hw().active_ppis[fake::me()] >> intid) & 1; }
void send_sgi(u32 intid, u64 target_mpidr) { hw().sgis.push_back({fake::me(), intid, target_mpidr}); }
u32 ack()
{
    auto& q = hw().pending[fake::me()];
    if (q.empty())
        return 1023;
    const u32 id = q.front();
    q.pop_front();
    return id;
}
void eoi(u32) {}
void deactivate(u32 intid) { hw().deactivated[fake::me()].push_back(intid); }
u32 num_list_regs() { return 4; }
} // namespace gic

// ---- physical UART ----------------------------------------------------------
void uart_set_base(u64) {}
void uart_putc(char c) { hw().uart_tx.push_back(c); }
int uart_getc()
{
    if (hw().uart_rx.empty())
        return -1;
    const char c = hw().uart_rx.front();
    hw().uart_rx.pop_front();
    return static_cast<unsigned char>(c);
}
bool uart_rx_ready() { return !hw().uart_rx.empty(); }
void uart_enable_rx_irq() { hw().uart_rx_irq = true; }
void uart_disable_rx_irq()
{
    if (hw().on_uart_disable_rx)
        hw().on_uart_disable_rx();
    hw().uart_rx_irq = false;
}

// ---- firmware, FP/SIMD, stage 2, the guest entry ------------------------------
namespace firmware {
i64 cpu_on(u64, u64, u64) { return 0; }
void system_off()
{
    hw().system_off_calls++;
    std::abort();
}
void system_reset() { std::abort(); }
} // namespace firmware

extern "C" void fpsimd_save(FpContext*) {}
extern "C" void fpsimd_restore(const FpContext*) {}
extern "C" void sve_save(SveContext*) {}
extern "C" void sve_restore(const SveContext*) {}
extern "C" [[noreturn]] void guest_enter(GuestRegs*) { std::abort(); }

const char* stage2_create(Stage2& s2, u16 vmid, u64, u64, u64)
{
    s2.vttbr = u64{vmid} << 48;
    return nullptr;
}
void stage2_load(const Stage2& s2) { write_vttbr_el2(s2.vttbr); }
void stage2_flush_tlbs(const Stage2& s2) { hw().tlb_flushes.push_back(s2.vmid()); }

void vm_disk_print_stats(const Vm&) {}

// ---- guest debugging: never attached in these tests -----------------------------
void debug_check_stop(Pcpu&) {}
bool debug_stepping(const Vcpu&) { return false; }
void debug_before_entry(const Vcpu&) {}
void debug_context_save(Vcpu&) {}
void debug_context_load(const Vcpu&) {}
void handle_brk(Vcpu&, u64) { std::abort(); }
void handle_hw_breakpoint(Vcpu&, u64) { std::abort(); }
void handle_software_step(Vcpu&, u64) { std::abort(); }
bool debug_sysreg(Vcpu&, u32, bool, u64&) { return false; }

// ---- the physical console (log.cpp on the target) -------------------------------
void console_guest_putc(char c) { hw().uart_tx.push_back(c); }

// ---- QEMU's virtio-serial ports: none in these tests ---------------------------
virtio::ConsolePort* serial_port_open(const char*, SerialPortUser&, u32) { return nullptr; }

// ---- the event trace's storage and channel (trace_storage.cpp, trace_port.cpp) ----
TraceRecord* arch::trace_storage(u32 pcpu, u32& n)
{
    auto& st = hw().trace_storage[pcpu];
    st.assign(hw().trace_records, TraceRecord{});
    n = hw().trace_records;
    return st.data();
}

void arch::trace_dump(const char*)
{
    struct Out final : trace::Sink {
        bool put(const void* p, usize n) override
        {
            const u8* b = static_cast<const u8*>(p);
            hw().trace_out.insert(hw().trace_out.end(), b, b + n);
            return true;
        }
    } out;
    hw().trace_dumps++;
    const trace::DumpResult r = trace::dump(out);
    // Seen by death tests (the machine's power-off aborts the process).
    std::fprintf(stderr, "fake: trace dumped, %llu records\n", static_cast<unsigned long long>(r.records));
}

// ---- VM life cycle ------------------------------------------------------------
bool vm_reload_images(Vm&) { return true; }
void vm_disk_reset(Vm&) {}

// ---- the panic's machine stop (panic.cpp): never raised in these tests ----------
u32 g_hyp_stop;
void hyp_stop_park() { std::abort(); }
