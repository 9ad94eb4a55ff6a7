// Driver for a virtio-blk device (virtio 1.2 section 5.2) over the generic
// transport and queue: one request queue, requests submitted with a token
// and reaped asynchronously. What the hypervisor uses as the guest disk's
// backend (devices/blk_forward.h), with QEMU's virtio-blk-device behind it.
//
// Negotiated: VERSION_1 and FLUSH (required: a FLUSH must reach the host
// file), SEG_MAX, BLK_SIZE and RO when offered. Not negotiated: indirect
// descriptors and event index (each request takes header + data + status
// descriptors of the ring; notifications follow the used ring's flags).
//
// Each request's header and status byte live in the driver's DMA area
// (BlkDma), never in memory anyone else can write, so the device sees the
// header the driver validated and the driver reads the status the device
// wrote. Data buffers are the caller's (bus addresses it vouches for).
//
// Not thread-safe: the caller's lock guards the driver, its transport and queue.
#pragma once
#include "drivers/virtio/queue.h"
#include "drivers/virtio/transport.h"
#include "types.h"
#include "virtio/blk.h"

namespace virtio {

// Memory the device reads and writes besides the data buffers; must be
// DMA-visible (on the target: any hypervisor global).
struct BlkDma {
    static constexpr u32 kQueueSize = DriverQueue::kMaxSize;
    struct Slot {
        virtio_blk::ReqHeader header;
        u8 status;
    };
    alignas(DriverQueue::kRingAlign) u8 ring[DriverQueue::ring_bytes(kQueueSize)];
    Slot slot[kQueueSize];
};

class BlkDriver {
public:
    static constexpr u32 kQueueSize = BlkDma::kQueueSize;

    enum class Init : u8 { Ok, NotBlock, Setup };
    struct Stats {
        u64 submitted;   // requests given to the device
        u64 notifies;    // QueueNotify writes
        u64 completed;   // requests reaped
        u64 failed;      // ... with a status other than OK
        u64 no_room;     // submit() refused for lack of descriptors or slots
        u64 interrupts;  // ack_interrupt() calls that found the device's interrupt raised
        u64 bogus;       // used entries naming no request (DriverQueue::bogus)
        u64 restarts;    // restart() calls that reset the device
    };

    constexpr BlkDriver() = default;
    BlkDriver(const BlkDriver&) = delete;
    BlkDriver& operator=(const BlkDriver&) = delete;

    // Brings the device behind `t` up: negotiation, the request queue, the
    // configuration, DRIVER_OK. On failure the device is left FAILED and
    // *why says which step (Setup::Ok if the device is no block device).
    Init init(Transport& t, BlkDma& dma, Setup* why = nullptr);

    u64 capacity() const { return capacity_; }      // 512-byte sectors
    u32 block_size() const { return block_size_; }  // logical block size
    bool read_only() const { return read_only_; }
    u32 max_segments() const { return max_segments_; }  // data buffers per request
    u32 queue_size() const { return q_.size(); }

    enum class Submit : u8 {
        Queued,   // reap() reports it later with `token`
        NoRoom,   // not enough free descriptors now: retry after a reap
        Invalid,  // never acceptable: more than max_segments() buffers, empty buffer, or not initialised
    };
    // One request: `type` (virtio_blk::kT*), `sector`, and n data buffers,
    // device-readable for OUT and device-writable for IN (their
    // device_writable flags are set here). Call kick() after a batch.
    Submit submit(u32 type, u64 sector, const DmaBuf* data, u32 n, u64 token);
    // Notifies the device of the requests submitted since the last kick, if
    // it wants to be told.
    void kick();
    // Acknowledges the device's interrupt: call before reap() in the
    // interrupt path. Returns the InterruptStatus bits it had.
    u32 ack_interrupt();
    // Takes one finished request: its token and status byte (IOERR when the
    // device wrote none, or the request was given up by restart()).
    bool reap(u64& token, u8& status);
    // Requests submitted and not reaped yet.
    u32 in_flight() const { return q_.in_flight() + nabandoned_; }
    bool needs_reset() { return t_ && t_->needs_reset(); }
    // Gives up on every request in flight: resets the device, which ends
    // its use of the rings and buffers (a reset is complete only when the
    // device has stopped; QEMU finishes its own I/O first), and brings it
    // up again. Each request that was in flight is then reaped with IOERR.
    // False if the device did not reset: everything stays as it was. If it
    // does not come up again, submit() refuses everything after this.
    bool restart();
    bool stuck() const { return stuck_; }  // a restart() found it would not reset

    Stats stats() const;  // relaxed reads: values may lag

private:
    Transport* t_ = nullptr;
    BlkDma* dma_ = nullptr;
    DriverQueue q_{};
    u64 capacity_ = 0;
    u32 block_size_ = virtio_blk::kSectorSize;
    u32 max_segments_ = 0;
    bool read_only_ = false;
    bool unkicked_ = false;  // requests added since the last kick()
    bool stuck_ = false;     // a restart() found that the device does not reset
    // Slots not in flight (a stack), and each slot's caller token.
    u16 free_slot_[kQueueSize]{};
    u32 nfree_slots_ = 0;
    u64 token_[kQueueSize]{};
    // Tokens of requests restart() gave up on, not reaped yet.
    u64 abandoned_[kQueueSize]{};
    u32 nabandoned_ = 0;
    DmaBuf chain_[kQueueSize]{};  // scratch for submit()
    Stats stats_{};
};

} // namespace virtio
