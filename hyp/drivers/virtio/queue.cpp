// Split virtqueue, driver side. See queue.h.
//
// Ordering (virtio 1.2 section 2.7.13): descriptors and the avail entry are
// written, then avail->idx with release semantics, so a device that sees the
// new index sees the chain. Before deciding whether to notify, a full
// barrier orders that index store before the load of used->flags (else the
// device could set "no notify", finish, and clear it again unseen by both
// sides). used->idx is read with acquire before the used entries it covers.
// The register write that notifies orders itself after the ring stores
// (RegWindow).
#include "drivers/virtio/queue.h"

#include "drivers/virtio/dma.h"
#include "stat_counter.h"

namespace virtio {

namespace {
constexpr bool is_pow2(u32 v) { return v && !(v & (v - 1)); }
} // namespace

bool DriverQueue::init(u32 size, void* ring)
{
    size_ = 0;
    if (!is_pow2(size) || size > kMaxSize || !ring || (reinterpret_cast<uptr>(ring) & (kRingAlign - 1)))
        return false;
    u8* base = static_cast<u8*>(ring);
    __builtin_memset(base, 0, ring_bytes(size));
    desc_ = reinterpret_cast<virtq::Desc*>(base);
    avail_ = reinterpret_cast<u16*>(base + avail_offset(size));
    used_ = base + used_offset(size);
    for (u32 i = 0; i < size; i++) {
        desc_[i].next = static_cast<u16>(i + 1 < size ? i + 1 : 0);
        chain_len_[i] = 0;
        chain_writable_[i] = 0;
        token_[i] = 0;
    }
    free_head_ = 0;
    nfree_ = size;
    avail_idx_ = 0;
    last_used_ = 0;
    chains_ = 0;
    bogus_ = 0;
    size_ = size;
    return true;
}

u64 DriverQueue::desc_bus() const { return dma_addr(desc_); }
u64 DriverQueue::avail_bus() const { return dma_addr(avail_); }
u64 DriverQueue::used_bus() const { return dma_addr(used_); }

bool DriverQueue::add(const DmaBuf* bufs, u32 n, u64 token)
{
    if (n == 0 || n > nfree_)
        return false;
    u32 writable = 0;
    for (u32 i = 0; i < n; i++) {
        if (bufs[i].len == 0 || (!bufs[i].device_writable && i > 0 && bufs[i - 1].device_writable))
            return false;
        if (bufs[i].device_writable)
            writable += bufs[i].len;
    }
    // The free list is linked through `next`, so its first n entries already
    // form a chain in order: fill them in and cut the list after the last.
    const u16 head = free_head_;
    u16 idx = head;
    for (u32 i = 0; i < n; i++) {
        virtq::Desc& d = desc_[idx];
        d.addr = bufs[i].addr;
        d.len = bufs[i].len;
        const bool last = i + 1 == n;
        d.flags = static_cast<u16>((last ? 0 : virtq::kDescNext) | (bufs[i].device_writable ? virtq::kDescWrite : 0));
        if (last)
            free_head_ = d.next;
        else
            idx = d.next;
    }
    nfree_ -= n;
    chain_len_[head] = static_cast<u16>(n);
    chain_writable_[head] = writable;
    token_[head] = token;
    chains_++;

    avail_[virtq::avail_entry(avail_idx_ & (size_ - 1)) / 2] = head;
    avail_idx_++;
    __atomic_store_n(&avail_[virtq::kRingIdx / 2], avail_idx_, __ATOMIC_RELEASE);
    return true;
}

bool DriverQueue::needs_notify() const
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    const u16 flags = __atomic_load_n(reinterpret_cast<const u16*>(used_ + virtq::kRingFlags), __ATOMIC_RELAXED);
    return !(flags & virtq::kUsedNoNotify);
}

u16 DriverQueue::used_idx_acquire() const
{
    return __atomic_load_n(reinterpret_cast<const u16*>(used_ + virtq::kRingIdx), __ATOMIC_ACQUIRE);
}

DriverQueue::Reap DriverQueue::reap(u64& token, u32& written)
{
    if (size_ == 0 || used_idx_acquire() == last_used_)
        return Reap::Empty;
    const auto* elem = reinterpret_cast<const virtq::UsedElem*>(used_ + virtq::used_entry(last_used_ & (size_ - 1)));
    const u32 id = __atomic_load_n(&elem->id, __ATOMIC_RELAXED);
    const u32 len = __atomic_load_n(&elem->len, __ATOMIC_RELAXED);
    last_used_++;
    if (id >= size_ || chain_len_[id] == 0) {
        stat_add(bogus_);
        return Reap::Bogus;
    }
    // Give the chain back to the free list: its last descriptor points at
    // the old head of the list.
    u16 last = static_cast<u16>(id);
    for (u32 i = 1; i < chain_len_[id]; i++)
        last = desc_[last].next;
    desc_[last].next = free_head_;
    free_head_ = static_cast<u16>(id);
    nfree_ += chain_len_[id];
    chain_len_[id] = 0;
    chains_--;
    token = token_[id];
    written = len < chain_writable_[id] ? len : chain_writable_[id];
    return Reap::Chain;
}

void DriverQueue::set_interrupts(bool on)
{
    __atomic_store_n(&avail_[virtq::kRingFlags / 2], static_cast<u16>(on ? 0 : virtq::kAvailNoInterrupt),
                     __ATOMIC_RELAXED);
}

} // namespace virtio
