// The guest disk's backend when it is a real virtio-blk device: requests
// the emulated device (VirtioBlk) checked go to a virtio::BlkDriver, which
// runs them asynchronously on its own ring. The guest's ring is never shown
// to the real device; its data buffers are, by bus address, after a second
// check here that each lies in guest RAM. Completions come back through
// next_completion() when the driver's device interrupts.
//
// Guarded by the lock of the VirtioMmio transport whose device uses it.
#pragma once
#include "devices/virtio_blk.h"
#include "devices/virtqueue.h"
#include "drivers/virtio/blk.h"
#include "stat_counter.h"

class BlkForward final : public BlockBackend {
public:
    constexpr BlkForward(virtio::BlkDriver& drv, const GuestMemory& ram) : drv_(drv), ram_(ram) {}

    u64 sectors() const override { return drv_.capacity(); }
    u32 block_size() const override { return drv_.block_size(); }
    bool read_only() const override { return drv_.read_only(); }
    u32 max_segments() const override;
    Start start(const BlockRequest& r) override;
    void kick() override { drv_.kick(); }
    void ack_interrupt() override { drv_.ack_interrupt(); }
    bool next_completion(Completion& out) override;
    u32 in_flight() const override { return drv_.in_flight(); }
    void wait() override;

    u64 refused() const { return stat_read(refused_); }  // segments outside guest RAM

private:
    virtio::BlkDriver& drv_;
    const GuestMemory& ram_;
    virtio::DmaBuf bufs_[VqChain::kMaxSegments]{};
    u64 refused_ = 0;
};
