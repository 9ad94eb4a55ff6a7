// virtio block device (virtio 1.x section 5.2) over a BlockBackend: the
// request parser and executor behind a VirtioMmio transport.
//
// Features offered: VIRTIO_F_VERSION_1, SEG_MAX, BLK_SIZE (512), FLUSH.
// Requests: IN, OUT, FLUSH, GET_ID; anything else completes UNSUPP.
// A request the guest got wrong completes with IOERR (or, when its chain has
// no usable status byte, with used.len 0): a header shorter than 16 bytes,
// a data length that is not a multiple of 512, a range past the end of the
// disk, a buffer outside guest RAM, a chain that loops or is malformed.
// The backend is never asked for a sector outside [0, capacity).
#pragma once
#include "devices/virtio_mmio.h"
#include "devices/virtqueue.h"
#include "types.h"
#include "virtio/blk.h"


// Where the disk's sectors live: 512-byte sectors, numbered from 0. The
// device never asks for a sector at or beyond sectors(); buffers are guest
// memory (or the device's bounce sector) and have no particular alignment.
class BlockBackend {
public:
    virtual u64 sectors() const = 0;
    virtual bool read(u64 sector, void* buf, u64 count) = 0;
    virtual bool write(u64 sector, const void* buf, u64 count) = 0;
    // Makes completed writes durable as far as the backend can.
    virtual bool flush() = 0;

protected:
    ~BlockBackend() = default;
};

// A disk in memory (host tests, RAM disks). Trailing bytes short of a
// whole sector are not part of the disk.
class MemoryBlockBackend final : public BlockBackend {
public:
    constexpr MemoryBlockBackend(u8* data, u64 bytes) : data_(data), sectors_(bytes / virtio_blk::kSectorSize) {}
    u64 sectors() const override { return sectors_; }
    bool read(u64 sector, void* buf, u64 count) override;
    bool write(u64 sector, const void* buf, u64 count) override;
    bool flush() override { return true; }

private:
    bool in_range(u64 sector, u64 count) const { return count <= sectors_ && sector <= sectors_ - count; }
    u8* data_;
    u64 sectors_;
};

class VirtioBlk final : public VirtioDevice {
public:
    static constexpr u32 kQueueSize = 256;
    // Data segments per request: a request is header + data + status, and
    // without indirect descriptors it must fit in the ring; leaving room for
    // two maximal requests keeps the driver from stalling on one.
    static constexpr u32 kSegMax = kQueueSize / 2 - 2;

    struct Stats {
        u64 reads, writes, flushes, get_ids;
        u64 bytes_read, bytes_written;
        u64 errors;       // completed IOERR or without a status byte
        u64 unsupported;  // completed UNSUPP
    };

    // `serial` is the GET_ID string (at most 20 bytes are used).
    constexpr VirtioBlk(BlockBackend& backend, const char* serial) : backend_(backend), serial_(serial) {}

    u32 device_id() const override { return virtio_blk::kDeviceId; }
    u64 features() const override;
    u32 num_queues() const override { return 1; }
    u32 queue_max_size() const override { return kQueueSize; }
    u32 config_read(u32 offset, u8 width) override;
    void config_write(u32, u8, u32) override {}  // nothing writable (no CONFIG_WCE)
    void reset() override {}
    u32 process_queue(u32 q, Virtqueue& vq, const GuestMemory& mem) override;

    // Executes one request; writes its status byte (when it has one) and
    // returns used.len: bytes written into the chain's writable part.
    u32 execute(const VqChain& c);

    u64 capacity() const { return backend_.sectors(); }
    Stats stats() const;  // read without the transport lock: values may lag

private:
    u8 do_request(const VqChain& c, u64& written);
    u8 transfer(const VqChain& c, bool to_guest, u64 sector, u64 bytes);
    bool read_piece(u8* dst, u64 n);
    bool write_piece(const u8* src, u64 n);

    BlockBackend& backend_;
    const char* serial_;
    VqChain chain_{};  // scratch for process_queue(); guarded by the transport lock
    // Transfer state: the next disk sector, and a bounce sector for data
    // split across buffers at offsets that are not multiples of 512.
    u64 cur_sector_ = 0;
    u8 bounce_[virtio_blk::kSectorSize]{};
    u32 bounce_pos_ = 0;   // bytes of bounce_ consumed (IN) or filled (OUT)
    bool bounce_full_ = false;  // IN: bounce_ holds sector cur_sector_-1
    Stats stats_{};
};
