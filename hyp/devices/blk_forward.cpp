// See blk_forward.h.
#include "devices/blk_forward.h"

#include "drivers/virtio/dma.h"
#include "log.h"

u32 BlkForward::max_segments() const
{
    const u32 m = drv_.max_segments();
    return m < VqChain::kMaxSegments ? m : VqChain::kMaxSegments;
}

BlockBackend::Start BlkForward::start(const BlockRequest& r)
{
    if (r.nseg > max_segments())
        return Start::Failed;
    for (u32 i = 0; i < r.nseg; i++) {
        if (!ram_.holds(r.seg[i].host, r.seg[i].len)) {
            stat_add(refused_);
            return Start::Failed;
        }
        bufs_[i] = {virtio::dma_addr(r.seg[i].host), r.seg[i].len, false};
    }
    if (drv_.in_flight() == 0)
        progress_ms_ = clock_.now_ms();
    const u32 type = r.op == BlockRequest::Op::Read    ? virtio_blk::kTIn
                     : r.op == BlockRequest::Op::Write ? virtio_blk::kTOut
                                                       : virtio_blk::kTFlush;
    switch (drv_.submit(type, r.sector, bufs_, r.nseg, r.tag)) {
    case virtio::BlkDriver::Submit::Queued: return Start::Queued;
    case virtio::BlkDriver::Submit::NoRoom: return Start::Busy;
    case virtio::BlkDriver::Submit::Invalid: return Start::Failed;
    }
    return Start::Failed;
}

bool BlkForward::next_completion(Completion& out)
{
    u64 token = 0;
    u8 status = 0;
    if (!drv_.reap(token, status))
        return false;
    progress_ms_ = clock_.now_ms();
    out = {.tag = static_cast<u16>(token), .ok = status == virtio_blk::kSOk};
    return true;
}

void BlkForward::ack_interrupt()
{
    if ((drv_.ack_interrupt() & virtio::kIntConfigChange) && drv_.in_flight() > 0 && drv_.needs_reset())
        abandon();
}

bool BlkForward::overdue() { return drv_.in_flight() > 0 && clock_.now_ms() - progress_ms_ >= kOverdueMs; }

bool BlkForward::abandon()
{
    if (drv_.stuck())
        return false;  // said so the first time
    const u32 n = drv_.in_flight();
    const bool needed = drv_.needs_reset();
    if (!drv_.restart()) {
        hyp_log("disk backend: QEMU's virtio-blk did not reset: %u requests stay in flight", n);
        return false;
    }
    hyp_log("disk backend: QEMU's virtio-blk reset (%s): %u requests in flight failed",
            needed ? "it needed a reset" : "requests overdue", n);
    return true;
}
