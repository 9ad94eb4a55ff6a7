// One port of a multiport virtio console (virtio-serial) device, driver side
// (virtio 1.2 section 5.3): the byte channel to a host character device
// that is not the guest's console. Multiport is required: the control
// queues are how the device says that the host side of the port (a TCP
// client of QEMU's socket chardev, say) connected or went away, which a
// single-port console never tells.
//
// Bring-up: init() negotiates, sets up the control queues and the port's
// data queues, posts receive buffers, sets DRIVER_OK and sends
// DEVICE_READY. The device answers with DEVICE_ADD for each port; poll()
// then replies PORT_READY and opens our port (PORT_OPEN 1, without which
// QEMU sends no data). Whenever the device interrupts, poll() takes what
// arrived: control events first (a host open/close is reported through
// Events::host_open), then data (Events::rx). write() copies bytes into
// transmit buffers and never waits; it returns how much it took.
//
// Everything lives in the object (rings and buffers in fixed arrays, which
// must be DMA-visible: on the target a global in the hypervisor's .bss).
// Not thread-safe: one pCPU owns the port. Events are called from poll()
// and may call write().
#pragma once
#include "drivers/virtio/queue.h"
#include "drivers/virtio/transport.h"
#include "types.h"
#include "virtio/console.h"

namespace virtio {

class ConsolePort {
public:
    static constexpr u32 kQueueSize = 16;
    static constexpr u32 kRxBufs = 16;
    static constexpr u32 kRxBufSize = 256;
    static constexpr u32 kTxBufs = 8;
    static constexpr u32 kTxBufSize = 1024;
    static constexpr u32 kCtrlBufs = 8;
    static constexpr u32 kCtrlBufSize = 64;  // a control message and a port name
    static constexpr u32 kNameMax = 32;      // port names kept, including the NUL

    class Events {
    public:
        virtual void rx(const u8* p, usize n) = 0;
        virtual void host_open(bool open) = 0;

    protected:
        ~Events() = default;
    };

    struct Stats {
        u64 rx_bytes;
        u64 tx_bytes;
        u64 control_in;     // control messages received
        u64 control_lost;   // control messages we could not send (no buffer)
    };

    constexpr ConsolePort(Transport& t, u32 port, Events& ev) : t_(t), port_(port), ev_(ev) {}
    ConsolePort(const ConsolePort&) = delete;
    ConsolePort& operator=(const ConsolePort&) = delete;

    // Setup::NoQueue also when the device has fewer ports than `port`+1.
    Setup init();
    void poll();
    usize write(const u8* p, usize n);
    // Takes back transmit buffers the device is done with.
    void reclaim();

    u32 port() const { return port_; }
    bool opened() const { return opened_; }          // the device added the port and we opened it
    bool host_connected() const { return host_; }
    // The name QEMU gave our port (virtserialport name=...), "" until the
    // device has sent it (after DEVICE_ADD).
    const char* name() const { return name_; }
    const Stats& stats() const { return stats_; }

private:
    static constexpr u64 kRingBytes = align_up(DriverQueue::ring_bytes(kQueueSize), DriverQueue::kRingAlign);

    bool post_rx(u32 i);
    bool post_control_rx(u32 i);
    void handle_control(const u8* msg, u32 len);
    void send_control(u32 id, u16 event, u16 value);

    Transport& t_;
    u32 port_;
    Events& ev_;
    bool opened_ = false;
    bool host_ = false;
    char name_[kNameMax]{};
    Stats stats_{};
    DriverQueue rxq_{};
    DriverQueue txq_{};
    DriverQueue crxq_{};
    DriverQueue ctxq_{};
    u32 tx_busy_ = 0;    // bit i: tx_buf_[i] is with the device
    u32 ctx_busy_ = 0;   // bit i: ctx_buf_[i] is with the device
    alignas(16) u8 rings_[4][kRingBytes]{};
    alignas(16) u8 rx_buf_[kRxBufs][kRxBufSize]{};
    alignas(16) u8 tx_buf_[kTxBufs][kTxBufSize]{};
    alignas(16) u8 crx_buf_[kCtrlBufs][kCtrlBufSize]{};
    alignas(16) virtio_console::Control ctx_buf_[kCtrlBufs]{};
    static_assert(kTxBufs <= 32 && kCtrlBufs <= 32);
};

} // namespace virtio
