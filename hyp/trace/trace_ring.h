// One pCPU's trace records, in a ring that keeps the newest: when it is
// full the oldest record is overwritten and counted as dropped. Written only
// by its own pCPU, without locks; read by a dump while its pCPU is stopped
// or by a debugger (hv-trace), which may see the record being written torn.
#pragma once
#include "trace/trace_format.h"
#include "types.h"

class TraceRing {
public:
    constexpr TraceRing() = default;
    // The storage: a fixed pool carved at boot (n records, a power of two).
    void init(TraceRecord* storage, u32 n);
    bool ready() const { return recs_ != nullptr; }

    // The record is stored before the head moves past it (release), so a
    // reader that loads the head (acquire) sees whole records below it.
    void push(const TraceRecord& r)
    {
        const u64 h = head_;
        recs_[h & mask_] = r;
        __atomic_store_n(&head_, h + 1, __ATOMIC_RELEASE);
    }

    u32 capacity() const { return mask_ + 1; }

    // What a reader on another pCPU works from: the head at one instant.
    struct Snapshot {
        u64 head;
        u64 dropped;  // overwritten before that instant
        u32 count;    // held, oldest at index 0
    };
    Snapshot snapshot() const
    {
        const u64 h = __atomic_load_n(&head_, __ATOMIC_ACQUIRE);
        const u64 d = h > capacity() ? h - capacity() : 0;
        return {h, d, static_cast<u32>(h - d)};
    }
    // The i-th oldest record of the snapshot (i < s.count).
    const TraceRecord& at(const Snapshot& s, u32 i) const { return recs_[(s.dropped + i) & mask_]; }
    // The records from the i-th oldest on that lie next to each other in
    // memory: sets `first`, returns how many (at least 1).
    u32 run(const Snapshot& s, u32 i, const TraceRecord*& first) const
    {
        const u32 slot = static_cast<u32>((s.dropped + i) & mask_);
        first = &recs_[slot];
        const u32 to_end = capacity() - slot;
        return s.count - i < to_end ? s.count - i : to_end;
    }

private:
    TraceRecord* recs_ = nullptr;
    u32 mask_ = 0;
    u64 head_ = 0;  // records ever written
};
