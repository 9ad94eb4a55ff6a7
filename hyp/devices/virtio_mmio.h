// virtio-mmio transport, version 2 (virtio 1.x section 4.2): the register
// block the guest's virtio_mmio driver probes, feature negotiation, device
// status and reset, queue setup, notification and the interrupt. What the
// device *is* (its ID, features, config space and request handling) comes
// from a VirtioDevice.
//
// Shared by all vCPUs: one ticket lock guards the transport, its queues and
// the device model (and whatever backend the model drives), and is held
// while the device processes a notification or its backend's completions.
// A device may finish requests later (service()): its backend's interrupt
// handler calls service(), on whichever pCPU that interrupt is routed to.
// Lock order: this lock -> (the IrqLine's locks, i.e. the vGIC's).
#pragma once
#include "devices/irq_line.h"
#include "devices/virtqueue.h"
#include "mmio.h"
#include "spinlock.h"
#include "stat_counter.h"
#include "types.h"
#include "virtio/spec.h"

namespace virtio {
constexpr u32 kVendorId = 0x5650'5948; // "HYPV": the emulated devices' VendorID
} // namespace virtio

// The device type behind the transport. Called with the transport lock held.
class VirtioDevice {
public:
    virtual u32 device_id() const = 0;
    // Offered features, including virtio::kFVersion1.
    virtual u64 features() const = 0;
    virtual u32 num_queues() const = 0;
    virtual u32 queue_max_size() const = 0;  // power of two, <= Virtqueue::kMaxSize
    // Config space access at `offset` (from 0x100), width 1, 2 or 4,
    // naturally aligned. Unimplemented bytes read as zero, writes ignored.
    virtual u32 config_read(u32 offset, u8 width) = 0;
    virtual void config_write(u32 offset, u8 width, u32 value) = 0;
    // Device-specific reset (the transport resets itself and the queues).
    // True when done. False while work the device handed to a backend is
    // still in flight and may still touch guest memory: the transport then
    // calls settle() until it returns true, and the driver's reset is not
    // complete (Status reads non-zero) until then. Never waits.
    virtual bool reset() = 0;
    // The driver disables queue `q`: as reset(), for that queue's work
    // (QueueReady reads 1 until it is done).
    virtual bool quiesce(u32 /*q*/) { return true; }
    // A reset or a queue disable is not complete: drop whatever finished,
    // give up on work the backend cannot finish. True once nothing is in
    // flight. Called on every register access and service() meanwhile.
    virtual bool settle() { return true; }
    // The driver notified queue `q` (ready, DRIVER_OK set). Consume its
    // available chains, push() back those finished at once; returns how
    // many were pushed. Stop early if pop() reports Broken; mark_broken()
    // the queue if the driver broke the protocol in another way.
    virtual u32 process_queue(u32 q, Virtqueue& vq, const GuestMemory& mem) = 0;
    // Asynchronous devices: the backend signalled progress. Acknowledge it
    // (once per service()), then complete(): push() the chains of queue `q`
    // whose work finished. `vq` may be not ready (or broken): finished work
    // is then dropped. Returns how many were pushed.
    virtual void backend_interrupt() {}
    virtual u32 complete(u32 /*q*/, Virtqueue& /*vq*/, const GuestMemory& /*mem*/) { return 0; }

protected:
    ~VirtioDevice() = default;
};

class VirtioMmio final : public MmioDevice {
public:
    static constexpr u32 kMaxQueues = 2;

    struct Stats {
        u64 notifies;      // QueueNotify writes acted on
        u64 services;      // service() calls (backend completion interrupts)
        u64 completions;   // chains returned to the driver
        u64 interrupts;    // used-buffer interrupts raised (0 -> 1 edges)
        u64 resets;        // Status = 0 writes
        u64 needs_reset;   // times DEVICE_NEEDS_RESET was set
    };

    constexpr VirtioMmio(const char* name, VirtioDevice& dev, const GuestMemory& mem, IrqLine& irq)
        : MmioDevice(name), dev_(dev), mem_(mem), irq_(irq)
    {
    }

    MmioResult access(u32 vcpu, u64 offset, MmioAccess& a) override;

    // As a driver write of 0 to Status (system reset).
    void reset();
    // The device's backend made progress (its completion interrupt): push
    // what finished, start what waited, raise the interrupt. Any pCPU.
    void service();
    u32 status() const;
    Stats stats() const;

private:
    u32 read_reg(u32 reg);
    void write_reg(u32 reg, u32 v);
    void write_status(u32 v);
    void do_reset();
    void set_needs_reset();
    void notify(u32 q);
    bool live() const;
    void finish(Virtqueue& q, u32 pushed);
    void settle();
    bool quiescing(u32 q) const { return (quiescing_ >> q) & 1; }
    void update_irq();
    Virtqueue* selected();

    mutable Spinlock lock_;
    VirtioDevice& dev_;
    const GuestMemory& mem_;
    IrqLine& irq_;

    u32 status_ = 0;
    u32 device_features_sel_ = 0;
    u32 driver_features_sel_ = 0;
    u64 driver_features_ = 0;
    u32 queue_sel_ = 0;
    u32 interrupt_status_ = 0;
    bool irq_level_ = false;
    // A reset, or a queue disable (bit per queue), that waits for the
    // device's work in flight: see VirtioDevice::reset().
    bool resetting_ = false;
    u32 quiescing_ = 0;
    Virtqueue queues_[kMaxQueues]{};

    Stats stats_{};  // written under lock_, read lock-free by stats()
};
