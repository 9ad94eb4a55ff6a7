// virtio-blk driver. See blk.h.
#include "drivers/virtio/blk.h"

#include "drivers/virtio/dma.h"
#include "stat_counter.h"

namespace virtio {

using namespace virtio_blk;

namespace {
constexpr u8 kStatusUnwritten = 0xff;
} // namespace

BlkDriver::Init BlkDriver::init(Transport& t, BlkDma& dma, Setup* why)
{
    t_ = nullptr;
    if (why)
        *why = Setup::Ok;
    if (t.probe() != Probe::Device || t.device_id() != kDeviceId)
        return Init::NotBlock;
    Setup s = t.negotiate(kFSegMax | kFBlkSize | kFRo, kFFlush);
    if (s == Setup::Ok) {
        s = t.setup_queue(0, q_, dma.ring, kQueueSize);
        if (s != Setup::Ok)
            t.fail();
    }
    if (s != Setup::Ok) {
        if (why)
            *why = s;
        return Init::Setup;
    }
    capacity_ = t.config64(off(Config::Capacity));
    block_size_ = t.has(kFBlkSize) ? t.config32(off(Config::BlkSize)) : static_cast<u32>(kSectorSize);
    // A request is header + data + status, all in the ring (no indirect
    // descriptors), whatever seg_max the device would take.
    const u32 ring_max = q_.size() > 2 ? q_.size() - 2 : 1;
    const u32 seg_max = t.has(kFSegMax) ? t.config32(off(Config::SegMax)) : ring_max;
    max_segments_ = seg_max == 0 ? 1 : seg_max < ring_max ? seg_max : ring_max;
    read_only_ = t.has(kFRo);
    for (u32 i = 0; i < kQueueSize; i++)
        free_slot_[i] = static_cast<u16>(kQueueSize - 1 - i);
    nfree_slots_ = kQueueSize;
    t_ = &t;
    dma_ = &dma;
    t.driver_ok();
    return Init::Ok;
}

BlkDriver::Submit BlkDriver::submit(u32 type, u64 sector, const DmaBuf* data, u32 n, u64 token)
{
    if (!t_ || n > max_segments_)
        return Submit::Invalid;
    const bool to_driver = type == kTIn || type == kTGetId;
    for (u32 i = 0; i < n; i++)
        if (data[i].len == 0)
            return Submit::Invalid;
    if (nfree_slots_ == 0 || n + 2 > q_.free_descs()) {
        stat_add(stats_.no_room);
        return Submit::NoRoom;
    }
    const u16 slot = free_slot_[--nfree_slots_];
    BlkDma::Slot& s = dma_->slot[slot];
    s.header = {.type = type, .reserved = 0, .sector = sector};
    s.status = kStatusUnwritten;
    chain_[0] = {dma_addr(&s.header), sizeof s.header, false};
    for (u32 i = 0; i < n; i++)
        chain_[1 + i] = {data[i].addr, data[i].len, to_driver};
    chain_[n + 1] = {dma_addr(&s.status), 1, true};
    if (!q_.add(chain_, n + 2, slot)) {  // cannot fail after the checks above
        free_slot_[nfree_slots_++] = slot;
        return Submit::Invalid;
    }
    token_[slot] = token;
    unkicked_ = true;
    stat_add(stats_.submitted);
    return Submit::Queued;
}

void BlkDriver::kick()
{
    if (!unkicked_)
        return;  // a notification costs a trap into QEMU: none without news
    unkicked_ = false;
    if (q_.needs_notify()) {
        t_->notify(0);
        stat_add(stats_.notifies);
    }
}

u32 BlkDriver::ack_interrupt()
{
    const u32 bits = t_ ? t_->ack_interrupt() : 0;
    if (bits)
        stat_add(stats_.interrupts);
    return bits;
}

bool BlkDriver::restart()
{
    if (!t_ || stuck_)
        return false;
    if (!t_->reset()) {
        stuck_ = true;  // each try is a long poll: do not try again
        return false;
    }
    bool free[kQueueSize] = {};
    for (u32 i = 0; i < nfree_slots_; i++)
        free[free_slot_[i]] = true;
    for (u32 slot = 0; slot < kQueueSize; slot++)
        if (!free[slot] && nabandoned_ < kQueueSize)
            abandoned_[nabandoned_++] = token_[slot];
    stat_add(stats_.restarts);
    unkicked_ = false;
    init(*t_, *dma_);
    return true;
}

bool BlkDriver::reap(u64& token, u8& status)
{
    if (nabandoned_ > 0) {
        token = abandoned_[--nabandoned_];
        status = kSIoErr;
        stat_add(stats_.completed);
        stat_add(stats_.failed);
        return true;
    }
    if (!t_)
        return false;
    for (;;) {
        u64 slot = 0;
        u32 written = 0;
        switch (q_.reap(slot, written)) {
        case DriverQueue::Reap::Empty: return false;
        case DriverQueue::Reap::Bogus: continue;
        case DriverQueue::Reap::Chain: break;
        }
        const u8 st = dma_->slot[slot].status;
        status = written == 0 || (st != kSOk && st != kSUnsupp) ? kSIoErr : st;
        token = token_[slot];
        free_slot_[nfree_slots_++] = static_cast<u16>(slot);
        stat_add(stats_.completed);
        if (status != kSOk)
            stat_add(stats_.failed);
        return true;
    }
}

BlkDriver::Stats BlkDriver::stats() const
{
    Stats s = stat_snapshot(stats_);
    s.bogus = q_.bogus();
    return s;
}

} // namespace virtio
