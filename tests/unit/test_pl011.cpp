#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "devices/pl011.h"

using pl011::Reg;

namespace {

class StringSink final : public CharSink {
public:
    void put(char c) override { out.push_back(c); }
    std::string out;
};

class RecordingIrq final : public IrqLine {
public:
    void set_level(bool l) override
    {
        level = l;
        changes.push_back(l);
    }
    bool level = false;
    std::vector<bool> changes;
};

constexpr u32 kRxfe = pl011::kFrRxfe, kRxff = pl011::kFrRxff, kTxfe = pl011::kFrTxfe;
constexpr u32 kRx = pl011::kIntRx, kTx = pl011::kIntTx, kRt = pl011::kIntRt;
constexpr u32 kEnabled = pl011::kCrUarten | pl011::kCrTxe | pl011::kCrRxe;

class Pl011Test : public ::testing::Test {
protected:
    u32 rd(u64 off, u8 width = 4)
    {
        MmioAccess a{.addr = 0x0900'0000 + off, .width = width, .write = false, .reg = 0,
                     .sign_extend = false, .sf = false, .data = 0xDEAD'BEEF};
        EXPECT_EQ(uart.access(1, off, a), MmioResult::Handled) << std::hex << off;
        return static_cast<u32>(a.data);
    }
    void wr(u64 off, u32 v, u8 width = 4)
    {
        MmioAccess a{.addr = 0x0900'0000 + off, .width = width, .write = true, .reg = 0,
                     .sign_extend = false, .sf = false, .data = v & mask(width * 8u)};
        EXPECT_EQ(uart.access(2, off, a), MmioResult::Handled) << std::hex << off;
    }
    u32 rd(Reg r, u8 width = 4) { return rd(u64(r), width); }
    void wr(Reg r, u32 v, u8 width = 4) { wr(u64(r), v, width); }

    StringSink sink;
    RecordingIrq irq;
    Pl011 uart{sink, irq};
};

TEST_F(Pl011Test, TransmitGoesToSinkInOrder)
{
    wr(Reg::Dr, 'h');
    wr(Reg::Dr, 'i', 2);
    wr(Reg::Dr, '!', 1);
    wr(Reg::Dr, 0x100 | '\n');  // only the data byte is sent
    EXPECT_EQ(sink.out, "hi!\n");
    EXPECT_EQ(uart.stats().tx_bytes, 4u);
    EXPECT_EQ(rd(Reg::Fr) & (kTxfe | pl011::kFrTxff | pl011::kFrBusy), kTxfe);
}

TEST_F(Pl011Test, ResetValues)
{
    EXPECT_EQ(rd(Reg::Cr), 0x300u);
    EXPECT_EQ(rd(Reg::Ifls), 0x12u);
    EXPECT_EQ(rd(Reg::Imsc), 0u);
    EXPECT_EQ(rd(Reg::LcrH), 0u);
    EXPECT_EQ(rd(Reg::Fr), kRxfe | kTxfe | pl011::kFrCts | pl011::kFrDsr | pl011::kFrDcd);
    EXPECT_EQ(rd(Reg::Ris), 0u);
    EXPECT_TRUE(irq.changes.empty());
}

TEST_F(Pl011Test, StorageRegistersKeepImplementedBits)
{
    wr(Reg::Ibrd, 0x12345);
    wr(Reg::Fbrd, 0xFF);
    wr(Reg::LcrH, 0x170);
    wr(Reg::Cr, 0xFFFF);
    wr(Reg::Ifls, 0xFF);
    wr(Reg::Ilpr, 0x1FF);
    wr(Reg::Dmacr, 0xF);
    EXPECT_EQ(rd(Reg::Ibrd), 0x2345u);
    EXPECT_EQ(rd(Reg::Fbrd), 0x3Fu);
    EXPECT_EQ(rd(Reg::LcrH), 0x70u);
    EXPECT_EQ(rd(Reg::Cr), 0xFF87u);
    EXPECT_EQ(rd(Reg::Ifls), 0x3Fu);
    EXPECT_EQ(rd(Reg::Ilpr), 0xFFu);
    EXPECT_EQ(rd(Reg::Dmacr), 0x7u);
    EXPECT_EQ(rd(Reg::Cr, 2), 0xFF87u);  // Linux's 16-bit accessors
}

TEST_F(Pl011Test, ReceiveFifoOrderAndFlags)
{
    uart.receive('a');
    uart.receive('b');
    EXPECT_EQ(rd(Reg::Fr) & (kRxfe | kRxff), 0u);
    EXPECT_EQ(rd(Reg::Dr), u32('a'));
    EXPECT_EQ(rd(Reg::Dr, 2), u32('b'));
    EXPECT_EQ(rd(Reg::Fr) & kRxfe, kRxfe);
    EXPECT_EQ(rd(Reg::Dr), 0u);  // empty FIFO reads 0
    EXPECT_EQ(uart.stats().rx_bytes, 2u);
}

TEST_F(Pl011Test, OverflowDropsAndCounts)
{
    for (int i = 0; i < 40; i++)
        uart.receive(static_cast<char>('A' + i));
    EXPECT_EQ(rd(Reg::Fr) & (kRxfe | kRxff), kRxff);
    EXPECT_EQ(uart.stats().rx_bytes, 32u);
    EXPECT_EQ(uart.stats().rx_dropped, 8u);
    for (int i = 0; i < 32; i++)
        EXPECT_EQ(rd(Reg::Dr), u32('A' + i));
    EXPECT_EQ(rd(Reg::Fr) & (kRxfe | kRxff), kRxfe);
    // The ring wraps cleanly once drained.
    uart.receive('z');
    EXPECT_EQ(rd(Reg::Dr), u32('z'));
}

TEST_F(Pl011Test, ReceiveRaisesLineWhenUnmaskedAndDrainLowersIt)
{
    wr(Reg::Imsc, kRx);
    uart.receive('x');
    uart.receive('y');
    EXPECT_TRUE(irq.level);
    EXPECT_EQ(irq.changes, std::vector<bool>{true});  // only on change
    rd(Reg::Dr);
    EXPECT_TRUE(irq.level);
    rd(Reg::Dr);
    EXPECT_FALSE(irq.level);
    EXPECT_EQ(irq.changes, (std::vector<bool>{true, false}));
}

TEST_F(Pl011Test, ReceiveTimeoutAloneAlsoRaisesLine)
{
    wr(Reg::Imsc, kRt);
    uart.receive('x');
    EXPECT_TRUE(irq.level);
    EXPECT_EQ(rd(Reg::Mis), kRt);
}

TEST_F(Pl011Test, MaskedReceiveKeepsLineLow)
{
    uart.receive('x');
    EXPECT_TRUE(irq.changes.empty());
    EXPECT_EQ(rd(Reg::Ris), kRx | kRt);
    EXPECT_EQ(rd(Reg::Mis), 0u);
    wr(Reg::Imsc, kRx | kRt);  // unmasking a pending source raises at once
    EXPECT_TRUE(irq.level);
    wr(Reg::Imsc, 0);
    EXPECT_FALSE(irq.level);
}

TEST_F(Pl011Test, IcrCannotClearALevelThatStillHolds)
{
    wr(Reg::Imsc, kRx | kRt);
    uart.receive('x');
    wr(Reg::Icr, 0x7FF);
    EXPECT_EQ(rd(Reg::Ris), kRx | kRt);
    EXPECT_EQ(rd(Reg::Mis), kRx | kRt);
    EXPECT_TRUE(irq.level);
    rd(Reg::Dr);
    EXPECT_EQ(rd(Reg::Ris), 0u);
    EXPECT_EQ(rd(Reg::Mis), 0u);
    EXPECT_FALSE(irq.level);
    EXPECT_EQ(rd(Reg::Icr), 0u);  // write-only
}

TEST_F(Pl011Test, TxInterruptFollowsTransmitterEnable)
{
    EXPECT_EQ(rd(Reg::Ris) & kTx, 0u);  // UARTEN clear at reset
    wr(Reg::Cr, kEnabled);
    EXPECT_EQ(rd(Reg::Ris), kTx);
    EXPECT_TRUE(irq.changes.empty());
    wr(Reg::Imsc, kTx);
    EXPECT_TRUE(irq.level);
    EXPECT_EQ(rd(Reg::Mis), kTx);
    wr(Reg::Dr, 'a');  // the FIFO drains instantly: still asserted
    wr(Reg::Icr, kTx);
    EXPECT_TRUE(irq.level);
    wr(Reg::Imsc, 0);  // what Linux does once it has nothing to send
    EXPECT_FALSE(irq.level);
    wr(Reg::Imsc, kTx);
    wr(Reg::Cr, pl011::kCrUarten | pl011::kCrRxe);
    EXPECT_FALSE(irq.level);
    EXPECT_EQ(irq.changes, (std::vector<bool>{true, false, true, false}));
}

TEST_F(Pl011Test, IdRegisters)
{
    const u32 expect[8] = {0x11, 0x10, 0x14, 0x00, 0x0D, 0xF0, 0x05, 0xB1};
    for (unsigned i = 0; i < 8; i++) {
        EXPECT_EQ(rd(0xFE0 + 4 * i), expect[i]);
        EXPECT_EQ(rd(0xFE0 + 4 * i, 1), expect[i]);
    }
    wr(Reg::PeriphId0, 0);  // read-only
    EXPECT_EQ(rd(Reg::PeriphId0), 0x11u);
}

TEST_F(Pl011Test, ReservedOffsetsAreRazWi)
{
    for (u64 off : {0x008, 0x00C, 0x01C, 0x04C, 0x100, 0xFDC}) {
        wr(off, 0xFFFF'FFFF);
        EXPECT_EQ(rd(off), 0u) << std::hex << off;
    }
    wr(Reg::RsrEcr, 0xFF);
    EXPECT_EQ(rd(Reg::RsrEcr), 0u);
    EXPECT_TRUE(sink.out.empty());
    EXPECT_EQ(rd(Reg::Cr), 0x300u);
}

TEST_F(Pl011Test, UpperByteLanesAreRazWi)
{
    uart.receive('q');
    EXPECT_EQ(rd(0x001, 1), 0u);
    EXPECT_EQ(rd(0x002, 2), 0u);
    wr(0x001, 'x', 1);
    EXPECT_TRUE(sink.out.empty());
    EXPECT_EQ(rd(Reg::Dr), u32('q'));  // the lane reads did not pop it
}

TEST_F(Pl011Test, RejectsWideAndMisalignedAccesses)
{
    MmioAccess a{.addr = 0, .width = 8, .write = false, .reg = 0, .sign_extend = false, .sf = true, .data = 0};
    EXPECT_EQ(uart.access(0, 0x000, a), MmioResult::Unhandled);
    a.width = 4;
    EXPECT_EQ(uart.access(0, 0x002, a), MmioResult::Unhandled);
    a.width = 2;
    EXPECT_EQ(uart.access(0, 0x001, a), MmioResult::Unhandled);
}

TEST_F(Pl011Test, ResetClearsFifoAndLowersLine)
{
    wr(Reg::Cr, kEnabled);
    wr(Reg::Imsc, kRx);
    wr(Reg::Ibrd, 13);
    uart.receive('x');
    ASSERT_TRUE(irq.level);
    uart.reset();
    EXPECT_FALSE(irq.level);
    EXPECT_EQ(rd(Reg::Fr) & kRxfe, kRxfe);
    EXPECT_EQ(rd(Reg::Cr), 0x300u);
    EXPECT_EQ(rd(Reg::Imsc), 0u);
    EXPECT_EQ(rd(Reg::Ibrd), 0u);
    EXPECT_EQ(uart.stats().rx_bytes, 1u);  // statistics survive
}

// The physical RX interrupt and a guest vCPU draining the FIFO run on
// different pCPUs; with the producer respecting RXFF nothing may be lost or
// reordered.
TEST_F(Pl011Test, ConcurrentReceiveAndDrainLoseNothing)
{
    constexpr int kBytes = 100000;
    std::string got;
    got.reserve(kBytes);

    std::thread producer([&] {
        for (int i = 0; i < kBytes; i++) {
            while (rd(Reg::Fr) & kRxff)
                std::this_thread::yield();
            uart.receive(static_cast<char>(i * 7));
        }
    });
    std::thread consumer([&] {
        while (got.size() < size_t{kBytes}) {
            if (rd(Reg::Fr) & kRxfe) {
                std::this_thread::yield();
                continue;
            }
            got.push_back(static_cast<char>(rd(Reg::Dr)));
        }
    });
    producer.join();
    consumer.join();

    ASSERT_EQ(got.size(), size_t{kBytes});
    for (int i = 0; i < kBytes; i++)
        ASSERT_EQ(got[i], static_cast<char>(i * 7)) << i;
    EXPECT_EQ(uart.stats().rx_bytes, u64{kBytes});
    EXPECT_EQ(uart.stats().rx_dropped, 0u);
}

} // namespace
