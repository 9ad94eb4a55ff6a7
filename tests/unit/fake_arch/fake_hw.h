// Controls and records of the fake hardware behind the arch code compiled for
// host tests: the physical GIC (SGIs sent, interrupts to acknowledge, active
// PPIs), the physical UART, firmware calls.
#pragma once
#include <deque>
#include <functional>
#include <vector>

#include "trace/trace_format.h"
#include "types.h"

namespace fake {

struct SentSgi {
    unsigned from_cpu;
    u32 intid;
    u64 target_mpidr;
};

struct Hw {
    // GIC
    std::vector<SentSgi> sgis;
    std::deque<u32> pending[4];      // per pCPU: INTIDs gic::ack() returns, in order
    u32 active_ppis[4] = {};         // per pCPU: GICR_ISACTIVER0
    std::vector<u32> deactivated[4];
    // UART
    std::deque<char> uart_rx;        // bytes typed, not yet read
    bool uart_rx_irq = false;        // RX interrupt unmasked (UARTIMSC)
    std::function<void()> on_uart_disable_rx;  // called inside uart_disable_rx_irq(), before the mask
    std::vector<char> uart_tx;
    // Firmware, VM resets
    unsigned system_off_calls = 0;
    std::vector<u32> tlb_flushes;    // VMIDs whose TLB entries were invalidated
    // Event trace (hyp/trace)
    u32 trace_records = 64;          // ring size per pCPU, a power of two (before trace::start)
    std::vector<TraceRecord> trace_storage[4];
    std::vector<u8> trace_out;       // what arch::trace_dump wrote, dumps back to back
    unsigned trace_dumps = 0;
};

Hw& hw();
void reset_hw();

} // namespace fake
