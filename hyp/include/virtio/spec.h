// virtio 1.x definitions shared by both halves of the hypervisor's virtio
// code: the devices it emulates for the guest (hyp/devices/virtio_*) and the
// drivers it runs for QEMU's own devices (hyp/drivers/virtio/). Section
// numbers are those of the virtio 1.2 specification. Device types add their
// own header next to this one (virtio/blk.h).
//
// Everything is little-endian on the wire, like the hosts this compiles for.
#pragma once
#include "types.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtio structures are little-endian; so must the host be");

namespace virtio {

// ---- virtio-mmio transport (4.2.2) -------------------------------------------

constexpr u32 kMagic = 0x7472'6976;  // "virt"
constexpr u32 kVersionModern = 2;    // the register layout below
constexpr u32 kVersionLegacy = 1;    // QEMU's default on virt (force-legacy=true); not supported

enum class MmioReg : u32 {
    MagicValue = 0x000,        // MagicValue: 0x74726976
    Version = 0x004,           // Version: 2 for this layout
    DeviceId = 0x008,          // DeviceID: 0 = no device behind the transport
    VendorId = 0x00c,          // VendorID
    DeviceFeatures = 0x010,    // DeviceFeatures: 32 feature bits, word DeviceFeaturesSel
    DeviceFeaturesSel = 0x014, // DeviceFeaturesSel
    DriverFeatures = 0x020,    // DriverFeatures: word DriverFeaturesSel
    DriverFeaturesSel = 0x024, // DriverFeaturesSel
    QueueSel = 0x030,          // QueueSel: the queue the Queue* registers address
    QueueNumMax = 0x034,       // QueueNumMax: 0 = no such queue
    QueueNum = 0x038,          // QueueNum
    QueueReady = 0x044,        // QueueReady
    QueueNotify = 0x050,       // QueueNotify: write the queue index
    InterruptStatus = 0x060,   // InterruptStatus
    InterruptAck = 0x064,      // InterruptACK
    Status = 0x070,            // Status: device status (2.1); write 0 to reset
    QueueDescLow = 0x080,      // QueueDescLow: descriptor table address
    QueueDescHigh = 0x084,     // QueueDescHigh
    QueueDriverLow = 0x090,    // QueueDriverLow: available ring address
    QueueDriverHigh = 0x094,   // QueueDriverHigh
    QueueDeviceLow = 0x0a0,    // QueueDeviceLow: used ring address
    QueueDeviceHigh = 0x0a4,   // QueueDeviceHigh
    ConfigGeneration = 0x0fc,  // ConfigGeneration
    Config = 0x100,            // Config: device-specific configuration space
};
constexpr u32 off(MmioReg r) { return static_cast<u32>(r); }

constexpr u32 kMmioSize = 0x200;  // registers + 256 bytes of config space, one virt slot

// InterruptStatus bits (4.2.2).
constexpr u32 kIntUsedBuffer = 1;    // Used Buffer Notification
constexpr u32 kIntConfigChange = 2;  // Configuration Change Notification

// ---- device status (2.1) -------------------------------------------------------

constexpr u32 kStatusAcknowledge = 1;  // ACKNOWLEDGE
constexpr u32 kStatusDriver = 2;       // DRIVER
constexpr u32 kStatusDriverOk = 4;     // DRIVER_OK
constexpr u32 kStatusFeaturesOk = 8;   // FEATURES_OK
constexpr u32 kStatusNeedsReset = 0x40; // DEVICE_NEEDS_RESET
constexpr u32 kStatusFailed = 0x80;    // FAILED

// ---- device IDs (5) -------------------------------------------------------------

constexpr u32 kDeviceNone = 0;     // reserved: an empty virtio-mmio slot reads this
constexpr u32 kDeviceBlock = 2;    // block device
constexpr u32 kDeviceConsole = 3;  // console

// ---- reserved feature bits (6) ----------------------------------------------------

constexpr u64 kFRingIndirectDesc = bit(28);  // VIRTIO_F_INDIRECT_DESC
constexpr u64 kFRingEventIdx = bit(29);      // VIRTIO_F_EVENT_IDX
constexpr u64 kFVersion1 = bit(32);          // VIRTIO_F_VERSION_1
constexpr u64 kFAccessPlatform = bit(33);    // VIRTIO_F_ACCESS_PLATFORM

} // namespace virtio

// ---- split virtqueues (2.7) -----------------------------------------------------

namespace virtq {

// struct virtq_desc
struct Desc {
    u64 addr;   // addr: buffer bus address
    u32 len;    // len
    u16 flags;  // flags: kDesc*
    u16 next;   // next: index of the next descriptor when flags has kDescNext
};
static_assert(sizeof(Desc) == 16 && offsetof(Desc, len) == 8 && offsetof(Desc, next) == 14);

// struct virtq_used_elem
struct UsedElem {
    u32 id;   // id: head index of the chain
    u32 len;  // len: bytes the device wrote into the chain
};
static_assert(sizeof(UsedElem) == 8);

// Descriptor flags.
constexpr u16 kDescNext = 1;      // VIRTQ_DESC_F_NEXT
constexpr u16 kDescWrite = 2;     // VIRTQ_DESC_F_WRITE: device-writable
constexpr u16 kDescIndirect = 4;  // VIRTQ_DESC_F_INDIRECT: never negotiated here
// Ring flags.
constexpr u16 kAvailNoInterrupt = 1;  // VIRTQ_AVAIL_F_NO_INTERRUPT
constexpr u16 kUsedNoNotify = 1;      // VIRTQ_USED_F_NO_NOTIFY

// struct virtq_avail { le16 flags; le16 idx; le16 ring[n]; le16 used_event; }
// struct virtq_used  { le16 flags; le16 idx; virtq_used_elem ring[n]; le16 avail_event; }
// Byte offsets of the fields common to both rings.
constexpr u64 kRingFlags = 0;
constexpr u64 kRingIdx = 2;
constexpr u64 kRingEntries = 4;

constexpr u64 kDescSize = sizeof(Desc);
constexpr u64 desc_table_bytes(u32 n) { return kDescSize * n; }
constexpr u64 avail_ring_bytes(u32 n) { return kRingEntries + 2ull * n + 2; }
constexpr u64 used_ring_bytes(u32 n) { return kRingEntries + sizeof(UsedElem) * n + 2; }
constexpr u64 avail_entry(u32 i) { return kRingEntries + 2ull * i; }
constexpr u64 used_entry(u32 i) { return kRingEntries + sizeof(UsedElem) * i; }

// Alignment of the three areas (2.7, table "Virtqueue Part Alignment").
constexpr u64 kDescAlign = 16;
constexpr u64 kAvailAlign = 2;
constexpr u64 kUsedAlign = 4;

} // namespace virtq
