// PL011 UART model.
//
// Lock order: Pl011 lock -> (vGIC locks | console lock). The sink and the
// interrupt line are called with the UART lock held so that the guest sees
// its bytes leave, and its interrupt level change, in register order; neither
// may therefore call back into the UART or hold its own lock while doing so.
//
// Modelling choices, all aimed at Linux's amba-pl011 driver:
//  * TX completes instantly, so the TX FIFO is always empty and never busy.
//  * Every interrupt source is a level: RX and receive-timeout while the RX
//    FIFO holds data (with no baud-rate timing, "timed out" and "data
//    present" are the same thing), TX while the transmitter is enabled. ICR
//    is accepted, but a condition that still holds asserts its bit again,
//    exactly as the hardware re-raises a still-valid level.
//  * The modem inputs read as a connected cable (CTS, DSR, DCD asserted):
//    a guest using hardware flow control or waiting for carrier would
//    otherwise never transmit or never finish opening the port.
//  * No receive errors: RSR reads 0 and DR never carries error flags.
#include "devices/pl011.h"

using pl011::Reg;

namespace {

constexpr bool id_reg(u64 off) { return off >= u64(Reg::PeriphId0) && off <= u64(Reg::PCellId3); }

} // namespace

MmioResult Pl011::access(u32, u64 offset, MmioAccess& a)
{
    // Registers are 32 bits wide; Linux uses 32- and 16-bit accessors and
    // some probes read bytes. A wider or misaligned access is a guest bug
    // the core reports as an abort.
    if ((a.width != 1 && a.width != 2 && a.width != 4) || (offset & (a.width - 1u)))
        return MmioResult::Unhandled;

    if (offset & 3) {
        // A narrow access to the upper part of a register: RAZ/WI rather than
        // giving a partial DR read the side effect of popping the FIFO.
        if (!a.write)
            a.data = 0;
        return MmioResult::Handled;
    }
    const Reg r = static_cast<Reg>(offset);
    bool made_room = false;
    {
        LockGuard g(lock_);
        if (a.write) {
            write_reg(r, static_cast<u32>(a.data));
        } else {
            const u32 before = rx_count_;
            a.data = read_reg(r) & mask(a.width * 8u);
            made_room = rx_count_ < before;
        }
        update_irq();
    }
    // Outside the lock: the sink may ask for room (rx_room) while it
    // decides whether to take throttled input back.
    if (made_room)
        tx_.rx_space();
    return MmioResult::Handled;
}

u32 Pl011::read_reg(Reg r)
{
    switch (r) {
    case Reg::Dr: {
        if (rx_count_ == 0)
            return 0;
        const u8 c = rx_[rx_head_];
        rx_head_ = (rx_head_ + 1) % kRxFifoDepth;
        rx_count_--;
        return c;
    }
    case Reg::Fr:
        return flags();
    case Reg::Ilpr:
        return ilpr_;
    case Reg::Ibrd:
        return ibrd_;
    case Reg::Fbrd:
        return fbrd_;
    case Reg::LcrH:
        return lcr_h_;
    case Reg::Cr:
        return cr_;
    case Reg::Ifls:
        return ifls_;
    case Reg::Imsc:
        return imsc_;
    case Reg::Ris:
        return raw_interrupts();
    case Reg::Mis:
        return raw_interrupts() & imsc_;
    case Reg::Dmacr:
        return dmacr_;
    default:
        if (id_reg(u64(r)))
            return pl011::kIdRegs[(u64(r) - u64(Reg::PeriphId0)) / 4];
        return 0;  // RSR, ICR (write-only) and reserved offsets
    }
}

void Pl011::write_reg(Reg r, u32 v)
{
    switch (r) {
    case Reg::Dr:
        // Sent even while UARTEN/TXE are clear: with no firmware to enable
        // the UART first, early console output must not depend on it.
        tx_.put(static_cast<char>(v & 0xFF));
        __atomic_store_n(&tx_bytes_, tx_bytes_ + 1, __ATOMIC_RELAXED);
        break;
    case Reg::Ilpr:
        ilpr_ = v & pl011::kIlprMask;
        break;
    case Reg::Ibrd:
        ibrd_ = v & pl011::kIbrdMask;
        break;
    case Reg::Fbrd:
        fbrd_ = v & pl011::kFbrdMask;
        break;
    case Reg::LcrH:
        lcr_h_ = v & pl011::kLcrHMask;
        break;
    case Reg::Cr:
        cr_ = v & pl011::kCrMask;
        break;
    case Reg::Ifls:
        ifls_ = v & pl011::kIflsMask;
        break;
    case Reg::Imsc:
        imsc_ = v & pl011::kImscMask;
        break;
    case Reg::Dmacr:
        dmacr_ = v & pl011::kDmacrMask;
        break;
    default:
        // ECR clears error state we never record; ICR clears only latched
        // events and every source here is a level (see top of file); the
        // rest are read-only or reserved.
        break;
    }
}

u32 Pl011::raw_interrupts() const
{
    u32 ris = 0;
    if (rx_count_ != 0)
        ris |= pl011::kIntRx | pl011::kIntRt;
    // The TX FIFO is always empty, hence at or below any trigger level.
    const u32 tx_on = pl011::kCrUarten | pl011::kCrTxe;
    if ((cr_ & tx_on) == tx_on)
        ris |= pl011::kIntTx;
    return ris;
}

u32 Pl011::flags() const
{
    u32 fr = pl011::kFrTxfe | pl011::kFrCts | pl011::kFrDsr | pl011::kFrDcd;
    if (rx_count_ == 0)
        fr |= pl011::kFrRxfe;
    if (rx_count_ == kRxFifoDepth)
        fr |= pl011::kFrRxff;
    return fr;
}

void Pl011::update_irq()
{
    const bool level = (raw_interrupts() & imsc_) != 0;
    if (level == irq_level_)
        return;
    irq_level_ = level;
    irq_.set_level(level);
}

void Pl011::receive(char c)
{
    LockGuard g(lock_);
    if (rx_count_ == kRxFifoDepth) {
        __atomic_store_n(&rx_dropped_, rx_dropped_ + 1, __ATOMIC_RELAXED);
        return;
    }
    rx_[(rx_head_ + rx_count_) % kRxFifoDepth] = static_cast<u8>(c);
    rx_count_++;
    __atomic_store_n(&rx_bytes_, rx_bytes_ + 1, __ATOMIC_RELAXED);
    update_irq();
}

u32 Pl011::rx_room() const
{
    LockGuard g(lock_);
    return kRxFifoDepth - rx_count_;
}

void Pl011::reset()
{
    LockGuard g(lock_);
    rx_head_ = 0;
    rx_count_ = 0;
    ilpr_ = 0;
    ibrd_ = 0;
    fbrd_ = 0;
    lcr_h_ = 0;
    cr_ = pl011::kCrReset;
    ifls_ = pl011::kIflsReset;
    imsc_ = 0;
    dmacr_ = 0;
    update_irq();
}

Pl011::Stats Pl011::stats() const
{
    return {
        .tx_bytes = __atomic_load_n(&tx_bytes_, __ATOMIC_RELAXED),
        .rx_bytes = __atomic_load_n(&rx_bytes_, __ATOMIC_RELAXED),
        .rx_dropped = __atomic_load_n(&rx_dropped_, __ATOMIC_RELAXED),
    };
}
