// virtio block device (virtio 1.x section 5.2) over a BlockBackend: the
// request parser and executor behind a VirtioMmio transport.
//
// Features offered: VIRTIO_F_VERSION_1, SEG_MAX, BLK_SIZE, FLUSH, and RO
// when the backend is read-only. Requests: IN, OUT, FLUSH, GET_ID (answered
// here); anything else completes UNSUPP.
//
// A request the guest got wrong completes with IOERR (or, when its chain has
// no usable status byte, with used.len 0) and never reaches the backend: a
// header shorter than 16 bytes, a data length that is not a multiple of 512,
// a range past the end of the disk, a buffer outside guest RAM, more data
// buffers than seg_max, a chain that loops or is malformed. A chain offered
// again while it is still in flight breaks the queue (DEVICE_NEEDS_RESET).
//
// Requests run synchronously or asynchronously, as the backend decides:
// BlockBackend::start() finishes one at once or queues it, and queued ones
// come back through complete() when the backend signals (VirtioMmio::
// service()). A chain the backend has no room for waits, consumed from the
// ring but not started, until a completion makes room. A device reset (or
// queue disable) is complete only once the backend has finished everything
// in flight, or given up on it (abandon()), so no backend request touches
// guest memory after the driver reclaimed it; nothing waits for that.
#pragma once
#include "devices/virtio_mmio.h"
#include "devices/virtqueue.h"
#include "types.h"
#include "virtio/blk.h"

// One data buffer of a request: guest memory the device checked with
// GuestMemory (host pointer, length).
struct BlockSeg {
    u8* host;
    u32 len;
};

struct BlockRequest {
    enum class Op : u8 { Read, Write, Flush };
    Op op;
    u64 sector;          // first 512-byte sector (Read, Write)
    u64 bytes;           // sum of the segments: a non-zero multiple of 512 (0 for Flush)
    const BlockSeg* seg;
    u32 nseg;            // <= max_segments()
    u16 tag;             // the device's name for the request, given back on completion
};

// Where the disk's sectors live. The device only asks for whole sectors in
// [0, sectors()), never writes a read_only() disk, and passes at most
// max_segments() buffers, which have no particular alignment.
class BlockBackend {
public:
    virtual u64 sectors() const = 0;
    virtual u32 block_size() const { return virtio_blk::kSectorSize; }
    virtual bool read_only() const { return false; }
    virtual u32 max_segments() const = 0;

    enum class Start : u8 {
        Done,    // finished now, successfully
        Failed,  // finished now, with an error
        Queued,  // next_completion() will report it
        Busy,    // not started, nothing changed: retry after a completion
    };
    virtual Start start(const BlockRequest& r) = 0;
    // After a batch of start()s: let queued requests go (one notification).
    virtual void kick() {}
    // Acknowledge the backend's completion interrupt, before next_completion().
    virtual void ack_interrupt() {}
    struct Completion {
        u16 tag;
        bool ok;
    };
    virtual bool next_completion(Completion& /*out*/) { return false; }
    virtual u32 in_flight() const { return 0; }
    // What is in flight cannot finish by itself: the backend's device asks
    // to be reset (failed), or has held a request longer than any healthy
    // one takes (overdue).
    virtual bool failed() { return false; }
    virtual bool overdue() { return false; }
    // Gives up on everything in flight. True when no request in flight can
    // touch memory any more: each then comes back failed from
    // next_completion(). False: nothing changed.
    virtual bool abandon() { return false; }

protected:
    ~BlockBackend() = default;
};

// A disk in memory (host tests, RAM disks): every request is Done or
// Failed at once. Trailing bytes short of a whole sector are not part of
// the disk.
class MemoryBlockBackend final : public BlockBackend {
public:
    constexpr MemoryBlockBackend(u8* data, u64 bytes) : data_(data), sectors_(bytes / virtio_blk::kSectorSize) {}
    u64 sectors() const override { return sectors_; }
    u32 max_segments() const override { return VqChain::kMaxSegments; }
    Start start(const BlockRequest& r) override;

private:
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
        u64 queued;       // requests the backend ran asynchronously
        u64 waits;        // times a chain waited for room in the backend
        u64 max_in_flight;
    };

    // `serial` is the GET_ID string (at most 20 bytes are used).
    constexpr VirtioBlk(BlockBackend& backend, const char* serial) : backend_(backend), serial_(serial) {}

    u32 device_id() const override { return virtio_blk::kDeviceId; }
    u64 features() const override;
    u32 num_queues() const override { return 1; }
    u32 queue_max_size() const override { return kQueueSize; }
    u32 config_read(u32 offset, u8 width) override;
    void config_write(u32, u8, u32) override {}  // nothing writable (no CONFIG_WCE)
    bool reset() override;
    bool quiesce(u32) override { return reset(); }  // one queue: the whole device's work
    bool settle() override;
    u32 process_queue(u32 q, Virtqueue& vq, const GuestMemory& mem) override;
    void backend_interrupt() override { backend_.ack_interrupt(); }
    u32 complete(u32 q, Virtqueue& vq, const GuestMemory& mem) override;

    u64 capacity() const { return backend_.sectors(); }
    u32 seg_max() const;
    u32 in_flight() const { return in_flight_; }
    Stats stats() const;  // read without the transport lock: values may lag

private:
    enum class Outcome : u8 { Complete, Started, Wait, BreaksQueue };
    struct Pending;
    Pending* retire(const BlockBackend::Completion& c);
    void drop_finished();
    Outcome start(const VqChain& c, u32& used_len);
    u8 start_io(const VqChain& c, u32 type, u64 sector, u8* status, Outcome& out, u32& used_len, u64& bytes);
    void account(u32 type, u8 status, u64 bytes);

    struct Pending {
        u8* status;     // the guest's status byte (checked when the chain was popped)
        u32 used_len;   // used.len on success
        u64 bytes;
        u32 type;
        bool busy;
    };

    BlockBackend& backend_;
    const char* serial_;
    // Scratch for process_queue(), and a chain popped but not yet started
    // because the backend was busy. Guarded by the transport lock.
    VqChain chain_{};
    bool held_ = false;
    BlockSeg seg_[VqChain::kMaxSegments]{};
    Pending pending_[kQueueSize]{};  // by head index of the guest's chain
    u32 in_flight_ = 0;
    Stats stats_{};
};
