// Split virtqueues (virtio 1.x, section 2.7) as a device sees them, and the
// one way device models reach guest memory.
//
// Every guest-physical access goes through GuestMemory, which checks it
// against guest RAM: an address the guest wrote into a ring or a descriptor
// is never dereferenced before that check. Descriptors are read once into a
// VqChain snapshot, so the guest rewriting a descriptor while the device
// works cannot change what was validated (the data buffers themselves stay
// guest memory: a guest racing with its own I/O only corrupts its own data).
//
// Not thread-safe: a Virtqueue and its VqChain are guarded by the lock of the
// transport that owns them (VirtioMmio).
#pragma once
#include "types.h"
#include "virtio/spec.h"


// Guest RAM: one contiguous IPA range backed by contiguous host memory.
class GuestMemory {
public:
    constexpr GuestMemory() = default;
    constexpr GuestMemory(u64 ipa_base, u8* host_base, u64 size) : base_(ipa_base), host_(host_base), size_(size) {}

    // Set once at boot, before any device can be reached.
    void init(u64 ipa_base, u8* host_base, u64 size)
    {
        base_ = ipa_base;
        host_ = host_base;
        size_ = size;
    }

    // [gpa, gpa+len) lies wholly in guest RAM (len 0: gpa is in RAM or at its end).
    bool contains(u64 gpa, u64 len) const
    {
        return host_ && gpa >= base_ && len <= size_ && gpa - base_ <= size_ - len;
    }
    // Host view of [gpa, gpa+len), or nullptr if any byte is outside guest RAM
    // or len is 0. For bulk data (block payloads) only.
    u8* map(u64 gpa, u64 len) const { return len && contains(gpa, len) ? host_ + (gpa - base_) : nullptr; }

    // The host range [p, p+len) lies wholly in guest RAM: a second check,
    // for code handed host pointers that map() produced.
    bool holds(const void* p, u64 len) const
    {
        const uptr a = reinterpret_cast<uptr>(p), base = reinterpret_cast<uptr>(host_);
        return host_ && a >= base && len <= size_ && a - base <= size_ - len;
    }

    bool read(u64 gpa, void* dst, u64 len) const;
    bool write(u64 gpa, const void* src, u64 len) const;

    // Naturally aligned, single-copy-atomic accesses for the ring fields the
    // driver updates concurrently. False if outside RAM or misaligned.
    bool load16(u64 gpa, u16& out, bool acquire = false) const;
    bool load32(u64 gpa, u32& out) const;
    bool load64(u64 gpa, u64& out) const;
    bool store16(u64 gpa, u16 v, bool release = false) const;
    bool store32(u64 gpa, u32 v) const;

    u64 base() const { return base_; }
    u64 size() const { return size_; }

private:
    template <typename T>
    T* at(u64 gpa) const
    {
        if ((gpa & (sizeof(T) - 1)) || !contains(gpa, sizeof(T)))
            return nullptr;
        return reinterpret_cast<T*>(host_ + (gpa - base_));
    }

    u64 base_ = 0;
    u8* host_ = nullptr;
    u64 size_ = 0;
};


// Why a descriptor chain cannot be used as a whole.
enum class ChainError : u8 {
    None,
    OutsideRam,     // a buffer is (partly) outside guest RAM; the chain shape is known
    TooLong,        // more descriptors than the queue has: a loop
    BadIndex,       // a next index beyond the table
    Indirect,       // VIRTQ_DESC_F_INDIRECT without the feature
    ReadAfterWrite, // a device-readable buffer after a device-writable one
};
const char* chain_error_name(ChainError e);

struct VqSegment {
    u8* host;      // nullptr when outside guest RAM (chain error OutsideRam) or len 0
    u32 len;
    bool writable;
};

// One descriptor chain, validated and copied out of the guest's table.
// The device-readable segments form one byte stream, the writable ones
// another; requests are parsed as streams, whatever the guest's split.
struct VqChain {
    static constexpr u32 kMaxSegments = 256;

    u16 head = 0;
    u32 nseg = 0;
    ChainError error = ChainError::None;
    u64 readable = 0;  // bytes
    u64 writable = 0;
    VqSegment seg[kMaxSegments]{};

    // True when the chain's shape is known (no structural error), so offsets
    // into its streams mean something even if some buffer is unmapped.
    bool shaped() const { return error == ChainError::None || error == ChainError::OutsideRam; }
    // Copy bytes [off, off+len) of the readable stream out / into the
    // writable stream. False if the range is not wholly present and mapped.
    bool read_stream(u64 off, void* dst, u64 len) const;
    bool write_stream(u64 off, const void* src, u64 len) const;

    // Calls fn(u8* host, u64 n, u64 stream_pos) over the pieces of
    // [off, off+len) of one stream, in order; stops and returns false at the
    // first unmapped piece or when fn returns false.
    template <typename Fn>
    bool for_each_piece(bool writable_stream, u64 off, u64 len, Fn&& fn) const
    {
        u64 pos = 0;  // stream offset of segment i
        for (u32 i = 0; i < nseg && len > 0; i++) {
            const VqSegment& s = seg[i];
            if (s.writable != writable_stream)
                continue;
            const u64 end = pos + s.len;
            if (off < end) {
                const u64 skip = off - pos;
                const u64 n = (s.len - skip) < len ? (s.len - skip) : len;
                if (!s.host || !fn(s.host + skip, n, off))
                    return false;
                off += n;
                len -= n;
            }
            pos = end;
        }
        return len == 0;
    }
};

class Virtqueue {
public:
    static constexpr u32 kMaxSize = VqChain::kMaxSegments;

    constexpr Virtqueue() = default;

    // Driver-visible configuration (the transport's queue registers).
    u32 size = 0;
    u64 desc_addr = 0;
    u64 avail_addr = 0;
    u64 used_addr = 0;

    bool ready() const { return ready_; }
    bool broken() const { return broken_; }

    // Back to reset state: not ready, no rings, indices at 0.
    void reset();
    // QueueReady=1: checks size (power of two, 1..max_size), alignment (16,
    // 2, 4) and that the three areas lie in guest RAM. On success the queue
    // is ready with its indices at 0; on failure it stays not ready.
    bool enable(const GuestMemory& mem, u32 max_size);
    void disable() { ready_ = false; }
    // The device found the driver breaking the protocol beyond one chain
    // (e.g. offering a chain that is still in flight): as pop()'s Broken.
    void mark_broken() { broken_ = true; }

    enum class Pop : u8 { Empty, Chain, Broken };
    // Takes the next available chain into `out` (which may carry a
    // ChainError the request must be failed with). Broken: the driver broke
    // the ring itself (avail idx ran more than `size` ahead, head index out of
    // range, ring unreadable); the queue then stays broken until reset and
    // the transport signals DEVICE_NEEDS_RESET.
    Pop pop(const GuestMemory& mem, VqChain& out);
    // Returns the chain `head` to the driver with `len` bytes written.
    bool push(const GuestMemory& mem, u16 head, u32 len);
    // After push()es: false if the driver asked for no interrupt.
    bool wants_interrupt(const GuestMemory& mem) const;

    u16 last_avail() const { return last_avail_; }
    u16 used_idx() const { return used_idx_; }

private:
    void walk(const GuestMemory& mem, u16 head, VqChain& out) const;

    bool ready_ = false;
    bool broken_ = false;
    u16 last_avail_ = 0;
    u16 used_idx_ = 0;
};
