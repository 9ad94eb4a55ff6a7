// PL011 UART as the guest sees it, shared by all vCPUs. Transmit is
// immediate (the TX FIFO is always empty); receive goes through a 32-byte
// FIFO filled by receive() from the physical UART's interrupt handler.
#pragma once
#include "devices/char_sink.h"
#include "devices/irq_line.h"
#include "devices/pl011_regs.h"
#include "mmio.h"
#include "spinlock.h"
#include "types.h"

class Pl011 final : public MmioDevice {
public:
    static constexpr u32 kRxFifoDepth = 32;

    struct Stats {
        u64 tx_bytes;    // written to DR and sent to the sink
        u64 rx_bytes;    // accepted into the RX FIFO
        u64 rx_dropped;  // lost because the RX FIFO was full
    };

    constexpr Pl011(CharSink& tx, IrqLine& irq) : MmioDevice("pl011"), tx_(tx), irq_(irq) {}

    MmioResult access(u32 vcpu, u64 offset, MmioAccess& a) override;

    // A byte from the physical UART; dropped (and counted) if the FIFO is full.
    void receive(char c);
    // Free places in the receive FIFO: callers that can hold input back
    // (the physical UART can) take no more than this.
    u32 rx_room() const;
    // Registers and FIFO to their reset state; statistics are kept.
    void reset();
    Stats stats() const;

private:
    u32 read_reg(pl011::Reg r);
    void write_reg(pl011::Reg r, u32 v);
    u32 raw_interrupts() const;
    u32 flags() const;
    void update_irq();

    mutable Spinlock lock_;
    CharSink& tx_;
    IrqLine& irq_;

    // RX FIFO ring; guarded by lock_ like every register below.
    u8 rx_[kRxFifoDepth]{};
    u32 rx_head_ = 0;
    u32 rx_count_ = 0;

    u32 ilpr_ = 0;
    u32 ibrd_ = 0;
    u32 fbrd_ = 0;
    u32 lcr_h_ = 0;
    u32 cr_ = pl011::kCrReset;
    u32 ifls_ = pl011::kIflsReset;
    u32 imsc_ = 0;
    u32 dmacr_ = 0;
    bool irq_level_ = false;  // last level given to irq_

    // Written under lock_, read lock-free by stats().
    u64 tx_bytes_ = 0;
    u64 rx_bytes_ = 0;
    u64 rx_dropped_ = 0;
};
