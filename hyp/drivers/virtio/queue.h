// Split virtqueue, driver side (virtio 1.2 section 2.7): the hypervisor owns
// the rings, in memory its caller provides, and offers a device chains of
// buffers it chose. The other half of devices/virtqueue.h (the device side
// of the queues the guest drives); both use the layout in virtio/spec.h.
//
// The device is trusted to follow the protocol but its answers are checked
// anyway: a used entry that names no chain in flight is skipped (counted in
// bogus()), and a used length larger than the chain's device-writable bytes
// is clipped, so a confused device cannot make the driver free descriptors
// twice or read past a buffer.
//
// Not thread-safe: one lock of the caller's guards a queue and its device.
#pragma once
#include "stat_counter.h"
#include "types.h"
#include "virtio/spec.h"

namespace virtio {

// One buffer of a chain: its bus address (dma_addr()), length and
// direction. Device-readable buffers come first in a chain.
struct DmaBuf {
    u64 addr;
    u32 len;
    bool device_writable;
};

class DriverQueue {
public:
    static constexpr u32 kMaxSize = 256;
    static constexpr u64 kRingAlign = virtq::kDescAlign;

    // Bytes of ring memory for `size` entries: descriptor table, available
    // ring, used ring, each aligned as the spec asks.
    static constexpr u64 avail_offset(u32 size) { return virtq::desc_table_bytes(size); }
    static constexpr u64 used_offset(u32 size)
    {
        return align_up(avail_offset(size) + virtq::avail_ring_bytes(size), virtq::kUsedAlign);
    }
    static constexpr u64 ring_bytes(u32 size) { return used_offset(size) + virtq::used_ring_bytes(size); }

    constexpr DriverQueue() = default;
    DriverQueue(const DriverQueue&) = delete;
    DriverQueue& operator=(const DriverQueue&) = delete;

    // Lays the rings out in `ring` (ring_bytes(size) bytes, kRingAlign
    // aligned, memory the device can reach) and zeroes them. `size` must be
    // a power of two in 1..kMaxSize. False (and the queue unusable) otherwise.
    bool init(u32 size, void* ring);

    u32 size() const { return size_; }
    u32 free_descs() const { return nfree_; }
    u32 in_flight() const { return chains_; }  // chains added and not yet reaped
    // Bus addresses for the transport's QueueDesc/QueueDriver/QueueDevice.
    u64 desc_bus() const;
    u64 avail_bus() const;
    u64 used_bus() const;

    // Offers the chain bufs[0..n) to the device, remembered with `token`.
    // False, with nothing changed, if n is 0 or more than free_descs(), a
    // buffer is empty, or a device-readable buffer follows a writable one.
    // The device learns of it at the next notification (see needs_notify).
    bool add(const DmaBuf* bufs, u32 n, u64 token);
    // After add()s: whether the device asked to be notified (it clears the
    // wish with VIRTQ_USED_F_NO_NOTIFY while it is busy with the queue).
    bool needs_notify() const;

    enum class Reap : u8 {
        Empty,  // nothing new in the used ring
        Chain,  // token and written are set; the chain's descriptors are free again
        Bogus,  // the device named a chain not in flight; the entry was skipped
    };
    // Takes the next used entry: the chain's token, and the bytes the device
    // wrote into its writable buffers.
    Reap reap(u64& token, u32& written);

    // VIRTQ_AVAIL_F_NO_INTERRUPT: a polling driver asks for no interrupts.
    void set_interrupts(bool on);

    u64 bogus() const { return stat_read(bogus_); }  // may be read unlocked

private:
    u16 used_idx_acquire() const;

    virtq::Desc* desc_ = nullptr;
    u16* avail_ = nullptr;  // flags, idx, ring[size], used_event
    u8* used_ = nullptr;    // flags, idx, elems[size], avail_event
    u32 size_ = 0;
    u32 nfree_ = 0;
    u16 free_head_ = 0;  // free descriptors, linked through Desc::next
    u16 avail_idx_ = 0;  // our copy of avail->idx
    u16 last_used_ = 0;  // used entries consumed
    u32 chains_ = 0;
    u64 bogus_ = 0;
    // Per head of a chain in flight: descriptors in it (0: none in flight),
    // device-writable bytes, and the caller's token.
    u16 chain_len_[kMaxSize]{};
    u32 chain_writable_[kMaxSize]{};
    u64 token_[kMaxSize]{};
};

} // namespace virtio
