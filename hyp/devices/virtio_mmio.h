// virtio-mmio transport, version 2 (virtio 1.x section 4.2): the register
// block the guest's virtio_mmio driver probes, feature negotiation, device
// status and reset, queue setup, notification and the interrupt. What the
// device *is* (its ID, features, config space and request handling) comes
// from a VirtioDevice.
//
// Shared by all vCPUs: one ticket lock guards the transport, its queues and
// the device model, and is held while the device processes a notification
// (so a slow backend serialises every vCPU touching this device).
// Lock order: this lock -> (the IrqLine's locks, i.e. the vGIC's).
#pragma once
#include "devices/irq_line.h"
#include "devices/virtqueue.h"
#include "mmio.h"
#include "spinlock.h"
#include "types.h"

namespace virtio {

constexpr u32 kMagic = 0x7472'6976;  // "virt"
constexpr u32 kVersion = 2;          // modern (non-legacy) register layout
constexpr u32 kVendorId = 0x5650'5948; // "HYPV"

// Device status bits (section 2.1).
constexpr u32 kStatusAcknowledge = 1;
constexpr u32 kStatusDriver = 2;
constexpr u32 kStatusDriverOk = 4;
constexpr u32 kStatusFeaturesOk = 8;
constexpr u32 kStatusNeedsReset = 0x40;
constexpr u32 kStatusFailed = 0x80;

// Transport-level feature bits.
constexpr u64 kFVersion1 = bit(32);

// InterruptStatus bits.
constexpr u32 kIntUsedBuffer = 1;
constexpr u32 kIntConfigChange = 2;

namespace reg {
constexpr u64 MagicValue = 0x000;
constexpr u64 Version = 0x004;
constexpr u64 DeviceId = 0x008;
constexpr u64 VendorId = 0x00c;
constexpr u64 DeviceFeatures = 0x010;
constexpr u64 DeviceFeaturesSel = 0x014;
constexpr u64 DriverFeatures = 0x020;
constexpr u64 DriverFeaturesSel = 0x024;
constexpr u64 QueueSel = 0x030;
constexpr u64 QueueNumMax = 0x034;
constexpr u64 QueueNum = 0x038;
constexpr u64 QueueReady = 0x044;
constexpr u64 QueueNotify = 0x050;
constexpr u64 InterruptStatus = 0x060;
constexpr u64 InterruptAck = 0x064;
constexpr u64 Status = 0x070;
constexpr u64 QueueDescLow = 0x080;
constexpr u64 QueueDescHigh = 0x084;
constexpr u64 QueueDriverLow = 0x090;
constexpr u64 QueueDriverHigh = 0x094;
constexpr u64 QueueDeviceLow = 0x0a0;
constexpr u64 QueueDeviceHigh = 0x0a4;
constexpr u64 ConfigGeneration = 0x0fc;
constexpr u64 Config = 0x100;
} // namespace reg

constexpr u64 kMmioSize = 0x200;  // registers + 256 bytes of config space

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
    virtual void reset() = 0;
    // The driver notified queue `q` (ready, DRIVER_OK set). Consume its
    // available chains and push() each one back; returns how many were
    // pushed. Stop early if pop() reports Broken.
    virtual u32 process_queue(u32 q, Virtqueue& vq, const GuestMemory& mem) = 0;

protected:
    ~VirtioDevice() = default;
};

class VirtioMmio final : public MmioDevice {
public:
    static constexpr u32 kMaxQueues = 2;

    struct Stats {
        u64 notifies;      // QueueNotify writes acted on
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
    u32 status() const;
    Stats stats() const;

private:
    u32 read_reg(u64 off);
    void write_reg(u64 off, u32 v);
    void write_status(u32 v);
    void do_reset();
    void set_needs_reset();
    void notify(u32 q);
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
    Virtqueue queues_[kMaxQueues]{};

    // Written under lock_, read lock-free by stats().
    u64 notifies_ = 0;
    u64 completions_ = 0;
    u64 interrupts_ = 0;
    u64 resets_ = 0;
    u64 needs_reset_ = 0;
};
