// virtio block device definitions (virtio 1.2 section 5.2), shared by the
// block device the hypervisor emulates and the driver for QEMU's.
#pragma once
#include "types.h"
#include "virtio/spec.h"

namespace virtio_blk {

constexpr u32 kDeviceId = virtio::kDeviceBlock;

// Feature bits (5.2.3).
constexpr u64 kFSizeMax = bit(1);  // VIRTIO_BLK_F_SIZE_MAX
constexpr u64 kFSegMax = bit(2);   // VIRTIO_BLK_F_SEG_MAX
constexpr u64 kFGeometry = bit(4); // VIRTIO_BLK_F_GEOMETRY
constexpr u64 kFRo = bit(5);       // VIRTIO_BLK_F_RO
constexpr u64 kFBlkSize = bit(6);  // VIRTIO_BLK_F_BLK_SIZE
constexpr u64 kFFlush = bit(9);    // VIRTIO_BLK_F_FLUSH

// Request types (5.2.6).
constexpr u32 kTIn = 0;     // VIRTIO_BLK_T_IN
constexpr u32 kTOut = 1;    // VIRTIO_BLK_T_OUT
constexpr u32 kTFlush = 4;  // VIRTIO_BLK_T_FLUSH
constexpr u32 kTGetId = 8;  // VIRTIO_BLK_T_GET_ID

// Request status byte.
constexpr u8 kSOk = 0;      // VIRTIO_BLK_S_OK
constexpr u8 kSIoErr = 1;   // VIRTIO_BLK_S_IOERR
constexpr u8 kSUnsupp = 2;  // VIRTIO_BLK_S_UNSUPP

constexpr u64 kSectorSize = 512;  // the unit of capacity and of sector numbers
constexpr u32 kIdBytes = 20;      // GET_ID answer

// The device-readable request header (struct virtio_blk_req, first part).
struct ReqHeader {
    u32 type;      // type: kT*
    u32 reserved;  // reserved
    u64 sector;    // sector
};
static_assert(sizeof(ReqHeader) == 16 && offsetof(ReqHeader, sector) == 8);
constexpr u64 kHeaderBytes = sizeof(ReqHeader);

// struct virtio_blk_config, byte offsets in the config space (5.2.4).
enum class Config : u32 {
    Capacity = 0,  // capacity: le64, in 512-byte sectors
    SizeMax = 8,   // size_max: le32, largest segment (kFSizeMax)
    SegMax = 12,   // seg_max: le32, most segments per request (kFSegMax)
    Geometry = 16, // geometry: cylinders le16, heads u8, sectors u8 (kFGeometry)
    BlkSize = 20,  // blk_size: le32, logical block size (kFBlkSize)
};
constexpr u32 off(Config c) { return static_cast<u32>(c); }
constexpr u32 kConfigModelled = 64;  // bytes the emulated device models; the rest reads as zero

} // namespace virtio_blk
