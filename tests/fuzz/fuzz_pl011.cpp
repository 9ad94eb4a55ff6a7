// The emulated PL011: guest register accesses of any width and alignment,
// bytes arriving from the physical UART, resets.
//
// A reference model (a 32-byte FIFO, the storage registers with their
// implemented bits) predicts every read. Invariants: the guest reads the
// received bytes in order, each once, and bytes beyond a full FIFO are
// counted as dropped; every DR write reaches the sink, in order; the
// interrupt line always equals (RIS & IMSC) != 0 and the device reports
// only changes of it; only 8/16/32-bit aligned accesses are handled.
#include <deque>
#include <string>

#include "devices/pl011.h"
#include "fuzz.h"

using pl011::Reg;

namespace {

struct Sink final : CharSink {
    void put(char c) override { out.push_back(c); }
    void rx_space() override { spaces++; }
    std::string out;
    u32 spaces = 0;
};

struct Line final : IrqLine {
    void set_level(bool l) override
    {
        FUZZ_CHECK(l != level); // only changes are reported
        level = l;
    }
    bool level = false;
};

struct Model {
    std::deque<u8> rx;
    u32 ilpr, ibrd, fbrd, lcr_h, cr, ifls, imsc, dmacr;
    void reset()
    {
        rx.clear();
        ilpr = ibrd = fbrd = lcr_h = imsc = dmacr = 0;
        cr = pl011::kCrReset;
        ifls = pl011::kIflsReset;
    }
    u32 ris() const
    {
        u32 r = rx.empty() ? 0 : pl011::kIntRx | pl011::kIntRt;
        if ((cr & (pl011::kCrUarten | pl011::kCrTxe)) == (pl011::kCrUarten | pl011::kCrTxe))
            r |= pl011::kIntTx;
        return r;
    }
    u32 fr() const
    {
        return pl011::kFrTxfe | pl011::kFrCts | pl011::kFrDsr | pl011::kFrDcd | (rx.empty() ? pl011::kFrRxfe : 0) |
               (rx.size() == Pl011::kRxFifoDepth ? pl011::kFrRxff : 0);
    }
};

constexpr u64 kOffsets[] = {0x000, 0x004, 0x018, 0x020, 0x024, 0x028, 0x02c, 0x030, 0x034, 0x038, 0x03c,
                            0x040, 0x044, 0x048, 0x04c, 0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size)
{
    fuzz::Input in(data, size);
    Sink sink;
    Line line;
    Pl011 uart(sink, line);
    Model m;
    m.reset();
    std::string sent;
    u64 rx_bytes = 0, dropped = 0;
    u32 pops = 0;

    while (!in.done()) {
        const u32 op = in.below(8);
        if (op < 5) { // a guest access
            u64 offset = in.below(0x1000);
            if (in.below(4)) { // mostly a register, now and then one of its upper bytes
                offset = in.pick(kOffsets);
                if (in.below(4) == 0)
                    offset += in.below(4);
            }
            constexpr u8 kWidths[] = {4, 4, 4, 2, 1, 8, 3};
            MmioAccess a{};
            a.addr = 0x0900'0000 + offset;
            a.width = in.pick(kWidths);
            a.write = in.flag();
            a.data = a.write ? in.u32le() & mask(a.width * 8u) : 0xdead'beef;
            const u64 wdata = a.data;
            const MmioResult r = uart.access(in.below(4), offset, a);
            if ((a.width != 1 && a.width != 2 && a.width != 4) || offset % a.width) {
                FUZZ_CHECK(r == MmioResult::Unhandled);
                continue;
            }
            FUZZ_CHECK(r == MmioResult::Handled);
            if (offset & 3) {
                if (!a.write)
                    FUZZ_CHECK(a.data == 0);
                continue;
            }
            const u32 v = static_cast<u32>(wdata);
            if (a.write) {
                switch (static_cast<Reg>(offset)) {
                case Reg::Dr: sent.push_back(static_cast<char>(v)); break;
                case Reg::Ilpr: m.ilpr = v & 0xff; break;
                case Reg::Ibrd: m.ibrd = v & 0xffff; break;
                case Reg::Fbrd: m.fbrd = v & 0x3f; break;
                case Reg::LcrH: m.lcr_h = v & 0xff; break;
                case Reg::Cr: m.cr = v & 0xff87; break;
                case Reg::Ifls: m.ifls = v & 0x3f; break;
                case Reg::Imsc: m.imsc = v & 0x7ff; break;
                case Reg::Dmacr: m.dmacr = v & 7; break;
                default: break;
                }
            } else {
                u32 want = 0;
                switch (static_cast<Reg>(offset)) {
                case Reg::Dr:
                    if (!m.rx.empty()) {
                        want = m.rx.front();
                        m.rx.pop_front();
                        pops++;
                    }
                    break;
                case Reg::Fr: want = m.fr(); break;
                case Reg::Ilpr: want = m.ilpr; break;
                case Reg::Ibrd: want = m.ibrd; break;
                case Reg::Fbrd: want = m.fbrd; break;
                case Reg::LcrH: want = m.lcr_h; break;
                case Reg::Cr: want = m.cr; break;
                case Reg::Ifls: want = m.ifls; break;
                case Reg::Imsc: want = m.imsc; break;
                case Reg::Ris: want = m.ris(); break;
                case Reg::Mis: want = m.ris() & m.imsc; break;
                case Reg::Dmacr: want = m.dmacr; break;
                default:
                    if (offset >= 0xfe0)
                        want = pl011::kIdRegs[(offset - 0xfe0) / 4];
                    break;
                }
                FUZZ_CHECK(a.data == (want & mask(a.width * 8u)));
            }
        } else if (op < 7) { // input from the physical UART
            const u32 n = 1 + in.below(40);
            for (u32 i = 0; i < n; i++) {
                const u8 c = in.byte();
                FUZZ_CHECK(uart.rx_room() == Pl011::kRxFifoDepth - m.rx.size());
                uart.receive(static_cast<char>(c));
                if (m.rx.size() == Pl011::kRxFifoDepth) {
                    dropped++;
                } else {
                    m.rx.push_back(c);
                    rx_bytes++;
                }
            }
        } else if (in.below(4) == 0) {
            uart.reset();
            m.reset();
        }
        FUZZ_CHECK(line.level == ((m.ris() & m.imsc) != 0));
        FUZZ_CHECK(sink.out == sent);
        FUZZ_CHECK(sink.spaces == pops);
        const Pl011::Stats st = uart.stats();
        FUZZ_CHECK(st.tx_bytes == sent.size() && st.rx_bytes == rx_bytes && st.rx_dropped == dropped);
    }
    return 0;
}
