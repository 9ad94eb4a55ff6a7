// virtio-mmio transport, driver side (virtio 1.2 sections 3.1 and 4.2.3):
// probing a slot, the status handshake with feature negotiation, queue
// setup, notifications, the interrupt and config space. Device types build
// on it (drivers/virtio/blk.h); the register window is an interface so the
// host tests can put a fake device behind it.
//
// Bring-up, as a device driver does it:
//     Transport t(window);
//     if (t.probe() != Probe::Device || t.device_id() != kDeviceBlock) ...
//     t.negotiate(wanted, required);            // steps 1-6, FEATURES_OK checked
//     t.setup_queue(0, rxq, rx_ring, 64);        // step 7, per queue
//     t.driver_ok();                             // step 8
// and on any failure the device is left FAILED (or reset).
//
// Not thread-safe: the owning driver's lock guards the transport.
#pragma once
#include "drivers/virtio/queue.h"
#include "drivers/virtio/regs.h"
#include "types.h"
#include "virtio/spec.h"

namespace virtio {

enum class Probe : u8 {
    Device,      // a modern device: device_id() says which
    Empty,       // a transport without a device behind it (DeviceID 0)
    NotVirtio,   // wrong MagicValue
    Legacy,      // Version 1: QEMU needs -global virtio-mmio.force-legacy=false
    BadVersion,  // any other Version
};
const char* probe_name(Probe p);

enum class Setup : u8 {
    Ok,
    NotReset,         // Status did not read back 0 after a reset
    MissingFeatures,  // the device lacks a required feature
    FeaturesRefused,  // FEATURES_OK did not stick
    NoQueue,          // QueueNumMax is 0: the device has no such queue
    QueueInUse,       // QueueReady was already set
    BadRing,          // the ring memory or size is unusable (DriverQueue::init)
};
const char* setup_name(Setup s);

class Transport {
public:
    explicit constexpr Transport(RegWindow& regs) : regs_(regs) {}

    Probe probe();
    u32 device_id();

    // Steps 1-6 of 3.1.1: reset; ACKNOWLEDGE; DRIVER; read the offered
    // features; accept offered & (wanted | required); FEATURES_OK, read back.
    // VIRTIO_F_VERSION_1 is always required. On failure the device is left
    // with FAILED set.
    Setup negotiate(u64 wanted, u64 required);
    u64 offered() const { return offered_; }
    u64 features() const { return features_; }  // negotiated
    bool has(u64 feature) const { return (features_ & feature) == feature; }

    // Step 7 for queue `index`: sizes it min(QueueNumMax, max_size), rounded
    // down to a power of two, lays out `q` in `ring` (at least
    // DriverQueue::ring_bytes(max_size) bytes, DMA-visible) and enables it.
    Setup setup_queue(u16 index, DriverQueue& q, void* ring, u32 max_size);
    // Step 8.
    void driver_ok();
    // The driver gave up on the device.
    void fail();
    // Status = 0, then waits for it to read back 0. False if it never does.
    bool reset();
    u32 status();
    bool needs_reset() { return (status() & kStatusNeedsReset) != 0; }

    void notify(u16 queue);
    // Reads InterruptStatus and acknowledges the bits it had; returns them.
    // Acknowledge before reaping used rings: a completion after the ack
    // raises the interrupt again instead of being lost.
    u32 ack_interrupt();

    // Device-specific configuration space, `offset` bytes from its start,
    // naturally aligned. config64 reads two words and retries until
    // ConfigGeneration shows both came from one version of the config.
    u8 config8(u32 offset);
    u16 config16(u32 offset);
    u32 config32(u32 offset);
    u64 config64(u32 offset);

private:
    u32 rd(MmioReg r) { return regs_.read(off(r), 4); }
    void wr(MmioReg r, u32 v) { regs_.write(off(r), 4, v); }
    void wr64(MmioReg low, MmioReg high, u64 v);
    void set_status_bits(u32 bits);

    RegWindow& regs_;
    u64 offered_ = 0;
    u64 features_ = 0;
};

} // namespace virtio
