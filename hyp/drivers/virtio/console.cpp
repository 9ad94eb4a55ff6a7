// Multiport virtio console port, driver side. See console.h.
#include "drivers/virtio/console.h"

#include "drivers/virtio/dma.h"

namespace virtio {

using namespace virtio_console;

namespace {
constexpr u32 kBadId = 0xffff'ffff;  // "no port" for DEVICE_READY
} // namespace

bool ConsolePort::post_rx(u32 i)
{
    const DmaBuf b{dma_addr(rx_buf_[i]), kRxBufSize, true};
    return rxq_.add(&b, 1, i);
}

bool ConsolePort::post_control_rx(u32 i)
{
    const DmaBuf b{dma_addr(crx_buf_[i]), kCtrlBufSize, true};
    return crxq_.add(&b, 1, i);
}

Setup ConsolePort::init()
{
    opened_ = host_ = false;
    tx_busy_ = ctx_busy_ = 0;
    Setup s = t_.negotiate(0, kFMultiport);
    if (s != Setup::Ok)
        return s;
    if (port_ >= t_.config32(off(Config::MaxNrPorts))) {
        t_.fail();
        return Setup::NoQueue;
    }
    struct {
        u16 index;
        DriverQueue& q;
    } const queues[] = {{kControlRx, crxq_}, {kControlTx, ctxq_}, {rx_queue(port_), rxq_}, {tx_queue(port_), txq_}};
    for (u32 i = 0; i < 4; i++) {
        s = t_.setup_queue(queues[i].index, queues[i].q, rings_[i], kQueueSize);
        if (s != Setup::Ok) {
            t_.fail();
            return s;
        }
    }
    for (u32 i = 0; i < kCtrlBufs && i < crxq_.size(); i++)
        post_control_rx(i);
    for (u32 i = 0; i < kRxBufs && i < rxq_.size(); i++)
        post_rx(i);
    t_.driver_ok();
    t_.notify(kControlRx);
    t_.notify(rx_queue(port_));
    send_control(kBadId, kDeviceReady, 1);
    return Setup::Ok;
}

void ConsolePort::send_control(u32 id, u16 event, u16 value)
{
    reclaim();
    for (u32 i = 0; i < kCtrlBufs; i++) {
        if (ctx_busy_ & (1u << i))
            continue;
        ctx_buf_[i] = Control{.id = id, .event = event, .value = value};
        const DmaBuf b{dma_addr(&ctx_buf_[i]), sizeof(Control), false};
        if (!ctxq_.add(&b, 1, i))
            break;
        ctx_busy_ |= 1u << i;
        if (ctxq_.needs_notify())
            t_.notify(kControlTx);
        return;
    }
    stats_.control_lost++;
}

void ConsolePort::handle_control(const u8* msg, u32 len)
{
    if (len < sizeof(Control))
        return;
    Control c;
    __builtin_memcpy(&c, msg, sizeof c);
    stats_.control_in++;
    switch (c.event) {
    case kDeviceAdd:
        // Ports that are not ours are refused, so the device does not wait
        // for us to open them.
        send_control(c.id, kPortReady, c.id == port_ ? 1 : 0);
        if (c.id == port_) {
            send_control(c.id, kPortOpen, 1);
            opened_ = true;
        }
        break;
    case kDeviceRemove:
        if (c.id == port_) {
            opened_ = false;
            if (host_) {
                host_ = false;
                ev_.host_open(false);
            }
        }
        break;
    case kPortOpen:
        if (c.id == port_) {
            host_ = c.value != 0;
            ev_.host_open(host_);
        }
        break;
    case kPortName:
        // The name follows the message, not NUL-terminated.
        if (c.id == port_) {
            const u32 n = len - sizeof(Control) < kNameMax - 1 ? len - sizeof(Control) : kNameMax - 1;
            for (u32 i = 0; i < n; i++)
                name_[i] = static_cast<char>(msg[sizeof(Control) + i]);
            name_[n] = '\0';
        }
        break;
    default: break; // CONSOLE_PORT, RESIZE: nothing to do
    }
}

void ConsolePort::reclaim()
{
    u64 token;
    u32 written;
    for (DriverQueue::Reap r; (r = txq_.reap(token, written)) != DriverQueue::Reap::Empty;)
        if (r == DriverQueue::Reap::Chain)
            tx_busy_ &= ~(1u << token);
    for (DriverQueue::Reap r; (r = ctxq_.reap(token, written)) != DriverQueue::Reap::Empty;)
        if (r == DriverQueue::Reap::Chain)
            ctx_busy_ &= ~(1u << token);
}

void ConsolePort::poll()
{
    // Acknowledge first: a completion after this raises the interrupt again.
    t_.ack_interrupt();
    u64 token;
    u32 written;
    bool reposted = false;
    // Control before data: a close that arrived before some bytes of the
    // next connection must be seen first.
    for (DriverQueue::Reap r; (r = crxq_.reap(token, written)) != DriverQueue::Reap::Empty;) {
        if (r != DriverQueue::Reap::Chain)
            continue;
        handle_control(crx_buf_[token], written);
        reposted |= post_control_rx(static_cast<u32>(token));
    }
    if (reposted && crxq_.needs_notify())
        t_.notify(kControlRx);
    reposted = false;
    for (DriverQueue::Reap r; (r = rxq_.reap(token, written)) != DriverQueue::Reap::Empty;) {
        if (r != DriverQueue::Reap::Chain)
            continue;
        stats_.rx_bytes += written;
        ev_.rx(rx_buf_[token], written);
        reposted |= post_rx(static_cast<u32>(token));
    }
    if (reposted && rxq_.needs_notify())
        t_.notify(rx_queue(port_));
    reclaim();
}

usize ConsolePort::write(const u8* p, usize n)
{
    if (!opened_)
        return 0;
    reclaim();
    usize done = 0;
    for (u32 i = 0; i < kTxBufs && done < n; i++) {
        if (tx_busy_ & (1u << i))
            continue;
        const usize chunk = n - done < kTxBufSize ? n - done : kTxBufSize;
        __builtin_memcpy(tx_buf_[i], p + done, chunk);
        const DmaBuf b{dma_addr(tx_buf_[i]), static_cast<u32>(chunk), false};
        if (!txq_.add(&b, 1, i))
            break;
        tx_busy_ |= 1u << i;
        done += chunk;
    }
    if (done && txq_.needs_notify())
        t_.notify(tx_queue(port_));
    stats_.tx_bytes += done;
    return done;
}

} // namespace virtio
