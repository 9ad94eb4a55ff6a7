// The multiport virtio console driver (hyp/drivers/virtio/console) against
// a fake virtio-serial device that behaves like QEMU's: it answers
// DEVICE_READY with DEVICE_ADD, sends data only to an opened port, and
// reports the host side opening and closing.
#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "devices/virtqueue.h"
#include "drivers/virtio/console.h"
#include "virtio_driver_harness.h"

using namespace virtio;
using namespace virtio_console;

namespace {

class FakeSerial final : public RegWindow {
public:
    static constexpr u32 kQueues = 8;

    explicit FakeSerial(vd::DmaArena& a) : mem_(a.mem()) {}

    u64 features = kFVersion1 | kFMultiport | kFSize;
    u32 max_ports = 4;
    std::vector<u32> ports{1};       // ports the device announces
    bool host_connected = false;
    bool hold_tx = false;            // keep transmitted chains (device busy)

    // Observations.
    u32 status = 0;
    u64 driver_features = 0;
    std::vector<Control> from_driver;
    int port_ready[kQueues] = {-1, -1, -1, -1, -1, -1, -1, -1};
    bool guest_open[kQueues] = {};
    std::string host_rx;             // bytes the host side received
    u32 interrupt_status = 0;

    void connect(bool on)
    {
        host_connected = on;
        for (u32 p : ports)
            if (port_ready[p] == 1)
                push_control({p, kPortOpen, static_cast<u16>(on)});
    }
    // Host -> guest bytes on `port`, as far as the driver gave buffers.
    void host_send(u32 port, const std::string& s)
    {
        pending_data_ += s;
        data_port_ = port;
        deliver();
    }
    void release_tx()
    {
        for (u16 h : held_)
            q_[tx_queue(1)].push(mem_, h, 0);
        held_.clear();
        interrupt_status |= kIntUsedBuffer;
    }

    u32 read(u32 offset, u8 width) override
    {
        if (offset >= off(MmioReg::Config)) {
            const u32 o = offset - off(MmioReg::Config);
            u8 cfg[12] = {};
            const u16 cols = 80, rows = 25;
            std::memcpy(cfg, &cols, 2);
            std::memcpy(cfg + 2, &rows, 2);
            std::memcpy(cfg + 4, &max_ports, 4);
            u32 v = 0;
            if (o + width <= sizeof cfg)
                std::memcpy(&v, cfg + o, width);
            return v;
        }
        EXPECT_EQ(width, 4);
        switch (static_cast<MmioReg>(offset)) {
        case MmioReg::MagicValue: return kMagic;
        case MmioReg::Version: return kVersionModern;
        case MmioReg::DeviceId: return kDeviceConsole;
        case MmioReg::DeviceFeatures: return dev_sel_ < 2 ? static_cast<u32>(features >> (32 * dev_sel_)) : 0;
        case MmioReg::QueueNumMax: return sel_ < kQueues && sel_ < 2 + 2 * max_ports ? 64 : 0;
        case MmioReg::QueueReady: return sel_ < kQueues && q_[sel_].ready();
        case MmioReg::InterruptStatus: return interrupt_status;
        case MmioReg::Status: return status;
        default: return 0;
        }
    }

    void write(u32 offset, u8, u32 v) override
    {
        Virtqueue* q = sel_ < kQueues ? &q_[sel_] : nullptr;
        auto half = [](u64& r, bool high, u32 val) {
            r = high ? (r & 0xffff'ffffu) | (u64{val} << 32) : (r & ~u64{0xffff'ffffu}) | val;
        };
        switch (static_cast<MmioReg>(offset)) {
        case MmioReg::DeviceFeaturesSel: dev_sel_ = v; break;
        case MmioReg::DriverFeaturesSel: drv_sel_ = v; break;
        case MmioReg::DriverFeatures:
            if (drv_sel_ < 2)
                half(driver_features, drv_sel_ == 1, v);
            break;
        case MmioReg::QueueSel: sel_ = v; break;
        case MmioReg::QueueNum: q->size = v; break;
        case MmioReg::QueueDescLow:
        case MmioReg::QueueDescHigh: half(q->desc_addr, offset == off(MmioReg::QueueDescHigh), v); break;
        case MmioReg::QueueDriverLow:
        case MmioReg::QueueDriverHigh: half(q->avail_addr, offset == off(MmioReg::QueueDriverHigh), v); break;
        case MmioReg::QueueDeviceLow:
        case MmioReg::QueueDeviceHigh: half(q->used_addr, offset == off(MmioReg::QueueDeviceHigh), v); break;
        case MmioReg::QueueReady:
            if (v & 1) {
                EXPECT_TRUE(q->enable(mem_, 64));
            }
            break;
        case MmioReg::QueueNotify: notify(v); break;
        case MmioReg::InterruptAck: interrupt_status &= ~v; break;
        case MmioReg::Status:
            status = v;
            if (v == 0)
                for (auto& qq : q_)
                    qq.reset();
            break;
        default: ADD_FAILURE() << "unexpected write 0x" << std::hex << offset;
        }
    }

private:
    void push_control(Control c)
    {
        pending_ctrl_.push_back(c);
        deliver();
    }

    void deliver()
    {
        VqChain ch;
        while (!pending_ctrl_.empty() && q_[kControlRx].ready() &&
               q_[kControlRx].pop(mem_, ch) == Virtqueue::Pop::Chain) {
            EXPECT_TRUE(ch.write_stream(0, &pending_ctrl_.front(), sizeof(Control)));
            q_[kControlRx].push(mem_, ch.head, sizeof(Control));
            pending_ctrl_.pop_front();
            interrupt_status |= kIntUsedBuffer;
        }
        // QEMU sends data only to a port the guest opened.
        const u16 rq = rx_queue(data_port_);
        while (!pending_data_.empty() && guest_open[data_port_] && q_[rq].ready() &&
               q_[rq].pop(mem_, ch) == Virtqueue::Pop::Chain) {
            const u64 n = std::min<u64>(ch.writable, pending_data_.size());
            EXPECT_TRUE(ch.write_stream(0, pending_data_.data(), n));
            q_[rq].push(mem_, ch.head, static_cast<u32>(n));
            pending_data_.erase(0, n);
            interrupt_status |= kIntUsedBuffer;
        }
    }

    void notify(u32 qi)
    {
        ASSERT_LT(qi, kQueues);
        ASSERT_TRUE(status & kStatusDriverOk) << "notify before DRIVER_OK";
        VqChain ch;
        if (qi == kControlTx) {
            while (q_[qi].pop(mem_, ch) == Virtqueue::Pop::Chain) {
                Control c{};
                EXPECT_TRUE(ch.read_stream(0, &c, sizeof c));
                from_driver.push_back(c);
                q_[qi].push(mem_, ch.head, 0);
                interrupt_status |= kIntUsedBuffer;
                if (c.event == kDeviceReady && c.value == 1)
                    for (u32 p : ports)
                        push_control({p, kDeviceAdd, 0});
                if (c.event == kPortReady && c.id < kQueues) {
                    port_ready[c.id] = c.value;
                    if (c.value == 1 && host_connected)
                        push_control({c.id, kPortOpen, 1});
                }
                if (c.event == kPortOpen && c.id < kQueues)
                    guest_open[c.id] = c.value != 0;
            }
        } else if (qi >= 4 && (qi & 1)) {
            while (q_[qi].pop(mem_, ch) == Virtqueue::Pop::Chain) {
                std::string s(ch.readable, '\0');
                EXPECT_TRUE(ch.read_stream(0, s.data(), s.size()));
                host_rx += s;
                if (hold_tx) {
                    held_.push_back(ch.head);
                } else {
                    q_[qi].push(mem_, ch.head, 0);
                    interrupt_status |= kIntUsedBuffer;
                }
            }
        }
        deliver(); // new receive buffers may unblock pending messages
    }

    GuestMemory mem_;
    Virtqueue q_[kQueues]{};
    u32 sel_ = 0, dev_sel_ = 0, drv_sel_ = 0;
    std::deque<Control> pending_ctrl_;
    std::string pending_data_;
    u32 data_port_ = 1;
    std::vector<u16> held_;
};

class Recorder final : public ConsolePort::Events {
public:
    void rx(const u8* p, usize n) override { data.append(reinterpret_cast<const char*>(p), n); }
    void host_open(bool open) override { opens.push_back(open); }
    std::string data;
    std::vector<bool> opens;
};

struct Rig {
    vd::DmaArena arena{1 << 16};
    FakeSerial dev{arena};
    Transport t{dev};
    Recorder ev;
    // The port object holds its rings and buffers; bus addresses are host
    // pointers, so the fake device may only reach them through an arena
    // that contains them: place the port inside the arena.
    ConsolePort* port = nullptr;
    explicit Rig(u32 nport = 1)
    {
        static_assert(sizeof(ConsolePort) < (1 << 16));
        port = new (arena.alloc(sizeof(ConsolePort), 64)) ConsolePort(t, nport, ev);
    }
    ~Rig() { port->~ConsolePort(); }
    bool has(u16 event, u32 id, u16 value)
    {
        for (const Control& c : dev.from_driver)
            if (c.event == event && c.id == id && c.value == value)
                return true;
        return false;
    }
};

TEST(VirtioConsole, BringUpOpensOurPort)
{
    Rig r;
    ASSERT_EQ(r.port->init(), Setup::Ok);
    EXPECT_EQ(r.dev.driver_features, kFVersion1 | kFMultiport) << "only what the driver needs";
    EXPECT_TRUE(r.dev.status & kStatusDriverOk);
    ASSERT_FALSE(r.dev.from_driver.empty());
    EXPECT_EQ(r.dev.from_driver[0].event, kDeviceReady);
    EXPECT_FALSE(r.port->opened()); // DEVICE_ADD is waiting in the control queue
    r.port->poll();
    EXPECT_TRUE(r.has(kPortReady, 1, 1));
    EXPECT_TRUE(r.has(kPortOpen, 1, 1));
    EXPECT_TRUE(r.port->opened());
    EXPECT_FALSE(r.port->host_connected());
    EXPECT_TRUE(r.ev.opens.empty());
    // Our replies completed after the acknowledgement and interrupted again;
    // with nothing new, the next poll leaves the line quiet.
    EXPECT_NE(r.dev.interrupt_status, 0u);
    r.port->poll();
    EXPECT_EQ(r.dev.interrupt_status, 0u);
}

TEST(VirtioConsole, HostConnectAndDisconnectAreReported)
{
    Rig r;
    ASSERT_EQ(r.port->init(), Setup::Ok);
    r.port->poll();
    r.dev.connect(true);
    r.port->poll();
    EXPECT_EQ(r.ev.opens, std::vector<bool>{true});
    EXPECT_TRUE(r.port->host_connected());
    r.dev.connect(false);
    r.dev.connect(true);
    r.port->poll();
    EXPECT_EQ(r.ev.opens, (std::vector<bool>{true, false, true}));
}

TEST(VirtioConsole, AlreadyConnectedHostIsReportedAtBringUp)
{
    Rig r;
    r.dev.host_connected = true;
    ASSERT_EQ(r.port->init(), Setup::Ok);
    r.port->poll(); // DEVICE_ADD -> PORT_READY -> the device's PORT_OPEN
    r.port->poll();
    EXPECT_EQ(r.ev.opens, std::vector<bool>{true});
}

TEST(VirtioConsole, ReceivesDataAcrossBuffersAndReusesThem)
{
    Rig r;
    ASSERT_EQ(r.port->init(), Setup::Ok);
    r.port->poll();
    r.dev.host_send(1, "$qSupported#37");
    r.port->poll();
    EXPECT_EQ(r.ev.data, "$qSupported#37");
    // Far more than the receive buffers hold at once, in pieces.
    std::string all;
    for (int i = 0; i < 60; i++) {
        const std::string s(300, static_cast<char>('a' + i % 26));
        all += s;
        r.dev.host_send(1, s);
        r.port->poll();
    }
    EXPECT_EQ(r.ev.data, "$qSupported#37" + all);
    EXPECT_EQ(r.port->stats().rx_bytes, 14u + all.size());
}

TEST(VirtioConsole, TransmitsAndNeverBlocks)
{
    Rig r;
    EXPECT_EQ(r.port->write(reinterpret_cast<const u8*>("x"), 1), 0u) << "not before the port is open";
    ASSERT_EQ(r.port->init(), Setup::Ok);
    r.port->poll();
    std::string big(5000, 'q');
    for (usize i = 0; i < big.size(); i++)
        big[i] = static_cast<char>('0' + i % 10);
    EXPECT_EQ(r.port->write(reinterpret_cast<const u8*>(big.data()), big.size()), big.size());
    EXPECT_EQ(r.dev.host_rx, big);
    // A busy device: once every buffer is out, write() takes nothing...
    r.dev.hold_tx = true;
    r.dev.host_rx.clear();
    const std::string more(3 * ConsolePort::kTxBufs * ConsolePort::kTxBufSize, 'z');
    const usize took = r.port->write(reinterpret_cast<const u8*>(more.data()), more.size());
    EXPECT_EQ(took, usize{ConsolePort::kTxBufs} * ConsolePort::kTxBufSize);
    EXPECT_EQ(r.port->write(reinterpret_cast<const u8*>("y"), 1), 0u);
    // ...until the device gives buffers back.
    r.dev.release_tx();
    r.dev.hold_tx = false;
    EXPECT_EQ(r.port->write(reinterpret_cast<const u8*>("y"), 1), 1u);
    EXPECT_EQ(r.dev.host_rx, more.substr(0, took) + "y");
}

TEST(VirtioConsole, OtherPortsAreRefused)
{
    Rig r;
    r.dev.ports = {1, 2};
    ASSERT_EQ(r.port->init(), Setup::Ok);
    r.port->poll();
    EXPECT_TRUE(r.has(kPortReady, 1, 1));
    EXPECT_TRUE(r.has(kPortReady, 2, 0));
    EXPECT_FALSE(r.has(kPortOpen, 2, 1));
    EXPECT_EQ(r.dev.port_ready[2], 0);
}

TEST(VirtioConsole, DeviceWithoutMultiportIsRejected)
{
    Rig r;
    r.dev.features = kFVersion1 | kFSize;
    EXPECT_EQ(r.port->init(), Setup::MissingFeatures);
    EXPECT_TRUE(r.dev.status & kStatusFailed);
}

TEST(VirtioConsole, PortBeyondTheDevicesPortsIsRejected)
{
    Rig r(3);
    r.dev.max_ports = 2;
    EXPECT_EQ(r.port->init(), Setup::NoQueue);
    EXPECT_TRUE(r.dev.status & kStatusFailed);
}

} // namespace
