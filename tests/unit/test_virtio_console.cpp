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

// The register file is the driver harness's ScriptedMmio (4 queues: port
// 0's pair and the control pair); this adds what a virtio-serial device
// does when the driver notifies a queue.
class FakeSerial final : public RegWindow {
public:
    static constexpr u32 kQueues = 4;
    static constexpr u32 kPort = 0;

    explicit FakeSerial(vd::DmaArena& a) : mem_(a.mem())
    {
        regs.device_id = kDeviceConsole;
        regs.features = kFVersion1 | kFMultiport | kFSize;
        for (u32& n : regs.queue_num_max)
            n = 64;
        set_max_ports(2);
    }

    vd::ScriptedMmio regs;
    std::vector<u32> ports{kPort};   // ports the device announces
    bool host_connected = false;
    bool hold_tx = false;            // keep transmitted chains (device busy)

    // Observations.
    std::vector<Control> from_driver;
    int port_ready[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
    bool guest_open[8] = {};
    std::string host_rx;             // bytes the host side received

    void set_max_ports(u32 n) { regs.config[off(Config::MaxNrPorts) / 4] = n; }
    void connect(bool on)
    {
        host_connected = on;
        for (u32 p : ports)
            if (port_ready[p] == 1)
                push_control({p, kPortOpen, static_cast<u16>(on)});
    }
    // Host -> guest bytes on our port, as far as the driver gave buffers.
    void host_send(const std::string& s)
    {
        pending_data_ += s;
        deliver();
    }
    void release_tx()
    {
        for (u16 h : held_)
            vq(tx_queue(kPort)).push(mem_, h, 0);
        held_.clear();
        regs.interrupt_status |= kIntUsedBuffer;
    }

    u32 read(u32 offset, u8 width) override { return regs.read(offset, width); }
    void write(u32 offset, u8 width, u32 v) override
    {
        regs.write(offset, width, v);
        if (offset == off(MmioReg::Status) && v == 0)
            for (auto& q : q_)
                q.reset();
        if (offset == off(MmioReg::QueueNotify))
            notify(v);
    }

private:
    // The device side of queue i, from what the driver programmed.
    Virtqueue& vq(u32 i)
    {
        Virtqueue& q = q_[i];
        if (!q.ready() && regs.queue[i].ready) {
            q.size = regs.queue[i].num;
            q.desc_addr = regs.queue[i].desc;
            q.avail_addr = regs.queue[i].driver;
            q.used_addr = regs.queue[i].device;
            EXPECT_TRUE(q.enable(mem_, 64));
        }
        return q;
    }

    void push_control(Control c)
    {
        pending_ctrl_.push_back(c);
        deliver();
    }

    void deliver()
    {
        VqChain ch;
        while (!pending_ctrl_.empty() && vq(kControlRx).ready() && vq(kControlRx).pop(mem_, ch) == Virtqueue::Pop::Chain) {
            EXPECT_TRUE(ch.write_stream(0, &pending_ctrl_.front(), sizeof(Control)));
            vq(kControlRx).push(mem_, ch.head, sizeof(Control));
            pending_ctrl_.pop_front();
            regs.interrupt_status |= kIntUsedBuffer;
        }
        // QEMU sends data only to a port the guest opened.
        Virtqueue& rq = vq(rx_queue(kPort));
        while (!pending_data_.empty() && guest_open[kPort] && rq.ready() && rq.pop(mem_, ch) == Virtqueue::Pop::Chain) {
            const u64 n = std::min<u64>(ch.writable, pending_data_.size());
            EXPECT_TRUE(ch.write_stream(0, pending_data_.data(), n));
            rq.push(mem_, ch.head, static_cast<u32>(n));
            pending_data_.erase(0, n);
            regs.interrupt_status |= kIntUsedBuffer;
        }
    }

    void notify(u32 qi)
    {
        ASSERT_LT(qi, kQueues);
        ASSERT_TRUE(regs.status & kStatusDriverOk) << "notify before DRIVER_OK";
        VqChain ch;
        Virtqueue& q = vq(qi);
        if (qi == kControlTx) {
            while (q.pop(mem_, ch) == Virtqueue::Pop::Chain) {
                Control c{};
                EXPECT_TRUE(ch.read_stream(0, &c, sizeof c));
                from_driver.push_back(c);
                q.push(mem_, ch.head, 0);
                regs.interrupt_status |= kIntUsedBuffer;
                if (c.event == kDeviceReady && c.value == 1)
                    for (u32 p : ports)
                        push_control({p, kDeviceAdd, 0});
                if (c.event == kPortReady && c.id < 8) {
                    port_ready[c.id] = c.value;
                    if (c.value == 1 && host_connected)
                        push_control({c.id, kPortOpen, 1});
                }
                if (c.event == kPortOpen && c.id < 8)
                    guest_open[c.id] = c.value != 0;
            }
        } else if (qi == tx_queue(kPort)) {
            while (q.pop(mem_, ch) == Virtqueue::Pop::Chain) {
                std::string s(ch.readable, '\0');
                EXPECT_TRUE(ch.read_stream(0, s.data(), s.size()));
                host_rx += s;
                if (hold_tx) {
                    held_.push_back(ch.head);
                } else {
                    q.push(mem_, ch.head, 0);
                    regs.interrupt_status |= kIntUsedBuffer;
                }
            }
        }
        deliver(); // new receive buffers may unblock pending messages
    }

    GuestMemory mem_;
    Virtqueue q_[kQueues]{};
    std::deque<Control> pending_ctrl_;
    std::string pending_data_;
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
    explicit Rig(u32 nport = FakeSerial::kPort)
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
    EXPECT_EQ(r.dev.regs.driver_features, kFVersion1 | kFMultiport) << "only what the driver needs";
    EXPECT_TRUE(r.dev.regs.status & kStatusDriverOk);
    ASSERT_FALSE(r.dev.from_driver.empty());
    EXPECT_EQ(r.dev.from_driver[0].event, kDeviceReady);
    EXPECT_FALSE(r.port->opened()); // DEVICE_ADD is waiting in the control queue
    r.port->poll();
    EXPECT_TRUE(r.has(kPortReady, 0, 1));
    EXPECT_TRUE(r.has(kPortOpen, 0, 1));
    EXPECT_TRUE(r.port->opened());
    EXPECT_FALSE(r.port->host_connected());
    EXPECT_TRUE(r.ev.opens.empty());
    // Our replies completed after the acknowledgement and interrupted again;
    // with nothing new, the next poll leaves the line quiet.
    EXPECT_NE(r.dev.regs.interrupt_status, 0u);
    r.port->poll();
    EXPECT_EQ(r.dev.regs.interrupt_status, 0u);
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
    r.dev.host_send("$qSupported#37");
    r.port->poll();
    EXPECT_EQ(r.ev.data, "$qSupported#37");
    // Far more than the receive buffers hold at once, in pieces.
    std::string all;
    for (int i = 0; i < 60; i++) {
        const std::string s(300, static_cast<char>('a' + i % 26));
        all += s;
        r.dev.host_send(s);
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
    r.dev.ports = {0, 2};
    ASSERT_EQ(r.port->init(), Setup::Ok);
    r.port->poll();
    EXPECT_TRUE(r.has(kPortReady, 0, 1));
    EXPECT_TRUE(r.has(kPortReady, 2, 0));
    EXPECT_FALSE(r.has(kPortOpen, 2, 1));
    EXPECT_EQ(r.dev.port_ready[2], 0);
}

TEST(VirtioConsole, DeviceWithoutMultiportIsRejected)
{
    Rig r;
    r.dev.regs.features = kFVersion1 | kFSize;
    EXPECT_EQ(r.port->init(), Setup::MissingFeatures);
    EXPECT_TRUE(r.dev.regs.status & kStatusFailed);
}

TEST(VirtioConsole, PortBeyondTheDevicesPortsIsRejected)
{
    Rig r(3);
    r.dev.set_max_ports(2);
    EXPECT_EQ(r.port->init(), Setup::NoQueue);
    EXPECT_TRUE(r.dev.regs.status & kStatusFailed);
}

} // namespace
