// virtio-mmio transport, driver side. See transport.h.
#include "drivers/virtio/transport.h"

namespace virtio {

namespace {
// Reads of Status after a reset before giving up. QEMU resets synchronously;
// the bound only keeps a broken device from hanging the hypervisor.
constexpr u32 kResetPolls = 100'000;  // also bounds config64's retries

u32 pow2_floor(u32 v)
{
    u32 p = 1;
    while (p <= v / 2)
        p *= 2;
    return v ? p : 0;
}
} // namespace

const char* probe_name(Probe p)
{
    switch (p) {
    case Probe::Device: return "device";
    case Probe::Empty: return "empty slot";
    case Probe::NotVirtio: return "no virtio magic";
    case Probe::Legacy: return "legacy (version 1) transport: run QEMU with -global virtio-mmio.force-legacy=false";
    case Probe::BadVersion: return "unknown transport version";
    }
    return "?";
}

const char* setup_name(Setup s)
{
    switch (s) {
    case Setup::Ok: return "ok";
    case Setup::NotReset: return "device did not reset";
    case Setup::MissingFeatures: return "device lacks a required feature";
    case Setup::FeaturesRefused: return "device refused the negotiated features";
    case Setup::NoQueue: return "device has no such queue";
    case Setup::QueueInUse: return "queue already enabled";
    case Setup::BadRing: return "unusable ring memory or size";
    }
    return "?";
}

Probe Transport::probe()
{
    if (rd(MmioReg::MagicValue) != kMagic)
        return Probe::NotVirtio;
    // An empty slot is empty whatever its register layout.
    if (rd(MmioReg::DeviceId) == kDeviceNone)
        return Probe::Empty;
    const u32 version = rd(MmioReg::Version);
    if (version == kVersionLegacy)
        return Probe::Legacy;
    return version == kVersionModern ? Probe::Device : Probe::BadVersion;
}

u32 Transport::device_id() { return rd(MmioReg::DeviceId); }

u32 Transport::status() { return rd(MmioReg::Status); }

void Transport::set_status_bits(u32 bits) { wr(MmioReg::Status, status() | bits); }

bool Transport::reset()
{
    wr(MmioReg::Status, 0);
    for (u32 i = 0; i < kResetPolls; i++)
        if (status() == 0)
            return true;
    return false;
}

void Transport::fail() { set_status_bits(kStatusFailed); }

Setup Transport::negotiate(u64 wanted, u64 required)
{
    offered_ = features_ = 0;
    if (!reset())
        return Setup::NotReset;
    set_status_bits(kStatusAcknowledge);
    set_status_bits(kStatusDriver);
    for (u32 word = 0; word < 2; word++) {
        wr(MmioReg::DeviceFeaturesSel, word);
        offered_ |= u64{rd(MmioReg::DeviceFeatures)} << (32 * word);
    }
    required |= kFVersion1;
    if ((offered_ & required) != required) {
        fail();
        return Setup::MissingFeatures;
    }
    const u64 accept = offered_ & (wanted | required);
    for (u32 word = 0; word < 2; word++) {
        wr(MmioReg::DriverFeaturesSel, word);
        wr(MmioReg::DriverFeatures, static_cast<u32>(accept >> (32 * word)));
    }
    set_status_bits(kStatusFeaturesOk);
    if (!(status() & kStatusFeaturesOk)) {
        fail();
        return Setup::FeaturesRefused;
    }
    features_ = accept;
    return Setup::Ok;
}

void Transport::wr64(MmioReg low, MmioReg high, u64 v)
{
    wr(low, static_cast<u32>(v));
    wr(high, static_cast<u32>(v >> 32));
}

Setup Transport::setup_queue(u16 index, DriverQueue& q, void* ring, u32 max_size)
{
    wr(MmioReg::QueueSel, index);
    if (rd(MmioReg::QueueReady) != 0)
        return Setup::QueueInUse;
    const u32 device_max = rd(MmioReg::QueueNumMax);
    if (device_max == 0)
        return Setup::NoQueue;
    const u32 size = pow2_floor(device_max < max_size ? device_max : max_size);
    if (!q.init(size, ring))
        return Setup::BadRing;
    wr(MmioReg::QueueNum, size);
    wr64(MmioReg::QueueDescLow, MmioReg::QueueDescHigh, q.desc_bus());
    wr64(MmioReg::QueueDriverLow, MmioReg::QueueDriverHigh, q.avail_bus());
    wr64(MmioReg::QueueDeviceLow, MmioReg::QueueDeviceHigh, q.used_bus());
    wr(MmioReg::QueueReady, 1);
    return rd(MmioReg::QueueReady) == 1 ? Setup::Ok : Setup::BadRing;
}

void Transport::driver_ok() { set_status_bits(kStatusDriverOk); }

void Transport::notify(u16 queue) { wr(MmioReg::QueueNotify, queue); }

u32 Transport::ack_interrupt()
{
    const u32 bits = rd(MmioReg::InterruptStatus);
    if (bits)
        wr(MmioReg::InterruptAck, bits);
    return bits;
}

u8 Transport::config8(u32 offset) { return static_cast<u8>(regs_.read(off(MmioReg::Config) + offset, 1)); }
u16 Transport::config16(u32 offset) { return static_cast<u16>(regs_.read(off(MmioReg::Config) + offset, 2)); }
u32 Transport::config32(u32 offset) { return regs_.read(off(MmioReg::Config) + offset, 4); }

u64 Transport::config64(u32 offset)
{
    u64 v = 0;
    for (u32 i = 0; i < kResetPolls; i++) {
        const u32 gen = rd(MmioReg::ConfigGeneration);
        v = config32(offset) | u64{config32(offset + 4)} << 32;
        if (rd(MmioReg::ConfigGeneration) == gen)
            break;
    }
    return v;
}

} // namespace virtio
