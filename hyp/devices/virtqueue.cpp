// Split virtqueue, device side. See virtqueue.h.
//
// Memory ordering (virtio 1.x section 2.7.13): the driver writes a ring
// entry, then avail->idx with release semantics; we read avail->idx with
// acquire before any entry or descriptor it covers. We write the used entry,
// then used->idx with release. Before reading the driver's "no interrupt"
// flag we need a full barrier so that our used->idx store is visible before
// the flag load (otherwise both sides may decide the other will act).
#include "devices/virtqueue.h"

namespace {

constexpr bool is_pow2(u32 v) { return v && !(v & (v - 1)); }

} // namespace

// ---- GuestMemory ------------------------------------------------------------

bool GuestMemory::read(u64 gpa, void* dst, u64 len) const
{
    if (len == 0)
        return true;
    const u8* src = map(gpa, len);
    if (!src)
        return false;
    __builtin_memcpy(dst, src, len);
    return true;
}

bool GuestMemory::write(u64 gpa, const void* src, u64 len) const
{
    if (len == 0)
        return true;
    u8* dst = map(gpa, len);
    if (!dst)
        return false;
    __builtin_memcpy(dst, src, len);
    return true;
}

bool GuestMemory::load16(u64 gpa, u16& out, bool acquire) const
{
    const u16* p = at<u16>(gpa);
    if (!p)
        return false;
    out = acquire ? __atomic_load_n(p, __ATOMIC_ACQUIRE) : __atomic_load_n(p, __ATOMIC_RELAXED);
    return true;
}

bool GuestMemory::load32(u64 gpa, u32& out) const
{
    const u32* p = at<u32>(gpa);
    if (!p)
        return false;
    out = __atomic_load_n(p, __ATOMIC_RELAXED);
    return true;
}

bool GuestMemory::load64(u64 gpa, u64& out) const
{
    const u64* p = at<u64>(gpa);
    if (!p)
        return false;
    out = __atomic_load_n(p, __ATOMIC_RELAXED);
    return true;
}

bool GuestMemory::store16(u64 gpa, u16 v, bool release) const
{
    u16* p = at<u16>(gpa);
    if (!p)
        return false;
    if (release)
        __atomic_store_n(p, v, __ATOMIC_RELEASE);
    else
        __atomic_store_n(p, v, __ATOMIC_RELAXED);
    return true;
}

bool GuestMemory::store32(u64 gpa, u32 v) const
{
    u32* p = at<u32>(gpa);
    if (!p)
        return false;
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
    return true;
}

// ---- VqChain ----------------------------------------------------------------

const char* chain_error_name(ChainError e)
{
    switch (e) {
    case ChainError::None: return "none";
    case ChainError::OutsideRam: return "buffer outside guest RAM";
    case ChainError::TooLong: return "chain longer than the queue (loop)";
    case ChainError::BadIndex: return "next index out of range";
    case ChainError::Indirect: return "indirect descriptor (not negotiated)";
    case ChainError::ReadAfterWrite: return "device-readable buffer after a writable one";
    }
    return "?";
}

bool VqChain::read_stream(u64 off, void* dst, u64 len) const
{
    u8* out = static_cast<u8*>(dst);
    return for_each_piece(false, off, len, [&](u8* host, u64 n, u64) {
        __builtin_memcpy(out, host, n);
        out += n;
        return true;
    });
}

bool VqChain::write_stream(u64 off, const void* src, u64 len) const
{
    const u8* in = static_cast<const u8*>(src);
    return for_each_piece(true, off, len, [&](u8* host, u64 n, u64) {
        __builtin_memcpy(host, in, n);
        in += n;
        return true;
    });
}

// ---- Virtqueue --------------------------------------------------------------

void Virtqueue::reset()
{
    size = 0;
    desc_addr = avail_addr = used_addr = 0;
    ready_ = false;
    broken_ = false;
    last_avail_ = 0;
    used_idx_ = 0;
}

bool Virtqueue::enable(const GuestMemory& mem, u32 max_size)
{
    ready_ = false;
    if (!is_pow2(size) || size > max_size || size > kMaxSize)
        return false;
    if ((desc_addr & 15) || (avail_addr & 1) || (used_addr & 3))
        return false;
    if (!mem.contains(desc_addr, virtq::desc_table_bytes(size)) ||
        !mem.contains(avail_addr, virtq::avail_ring_bytes(size)) ||
        !mem.contains(used_addr, virtq::used_ring_bytes(size)))
        return false;
    last_avail_ = 0;
    used_idx_ = 0;
    broken_ = false;
    ready_ = true;
    return true;
}

void Virtqueue::walk(const GuestMemory& mem, u16 head, VqChain& out) const
{
    out.head = head;
    out.nseg = 0;
    out.error = ChainError::None;
    out.readable = out.writable = 0;
    u32 idx = head;
    // Each descriptor is visited at most once in a chain that is not a loop,
    // so `size` steps bound any legal chain and catch every loop.
    for (u32 steps = 0;; steps++) {
        if (steps == size) {
            out.error = ChainError::TooLong;
            return;
        }
        const u64 d = desc_addr + virtq::kDescSize * idx;
        u64 addr = 0;
        u32 len = 0;
        u16 flags = 0, next = 0;
        // enable() checked the whole table is in RAM; a failure here would
        // mean the table moved, which it cannot: treat it as a loop-class error.
        if (!mem.load64(d + offsetof(virtq::Desc, addr), addr) || !mem.load32(d + offsetof(virtq::Desc, len), len) ||
            !mem.load16(d + offsetof(virtq::Desc, flags), flags) ||
            !mem.load16(d + offsetof(virtq::Desc, next), next)) {
            out.error = ChainError::BadIndex;
            return;
        }
        if (flags & virtq::kDescIndirect) {
            out.error = ChainError::Indirect;
            return;
        }
        const bool w = (flags & virtq::kDescWrite) != 0;
        if (!w && out.writable) {
            out.error = ChainError::ReadAfterWrite;
            return;
        }
        VqSegment& s = out.seg[out.nseg++];
        s.len = len;
        s.writable = w;
        s.host = mem.map(addr, len);
        if (len && !s.host)
            out.error = ChainError::OutsideRam;  // keep walking: the shape still counts
        (w ? out.writable : out.readable) += len;
        if (!(flags & virtq::kDescNext))
            return;
        if (next >= size) {
            out.error = ChainError::BadIndex;
            return;
        }
        idx = next;
    }
}

Virtqueue::Pop Virtqueue::pop(const GuestMemory& mem, VqChain& out)
{
    if (!ready_ || broken_)
        return Pop::Empty;
    u16 avail_idx = 0;
    if (!mem.load16(avail_addr + virtq::kRingIdx, avail_idx, true)) {
        broken_ = true;
        return Pop::Broken;
    }
    const u16 pending = static_cast<u16>(avail_idx - last_avail_);
    if (pending == 0)
        return Pop::Empty;
    if (pending > size) {
        broken_ = true;
        return Pop::Broken;
    }
    u16 head = 0;
    if (!mem.load16(avail_addr + virtq::avail_entry(last_avail_ & (size - 1)), head) || head >= size) {
        broken_ = true;
        return Pop::Broken;
    }
    last_avail_++;
    walk(mem, head, out);
    return Pop::Chain;
}

bool Virtqueue::push(const GuestMemory& mem, u16 head, u32 len)
{
    const u64 elem = used_addr + virtq::used_entry(used_idx_ & (size - 1));
    if (!mem.store32(elem + offsetof(virtq::UsedElem, id), head) ||
        !mem.store32(elem + offsetof(virtq::UsedElem, len), len))
        return false;
    used_idx_++;
    return mem.store16(used_addr + virtq::kRingIdx, used_idx_, true);
}

bool Virtqueue::wants_interrupt(const GuestMemory& mem) const
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    u16 flags = 0;
    if (!mem.load16(avail_addr + virtq::kRingFlags, flags))
        return true;
    return !(flags & virtq::kAvailNoInterrupt);
}
