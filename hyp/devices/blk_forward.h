// The guest disk's backend when it is a real virtio-blk device: requests
// the emulated device (VirtioBlk) checked go to a virtio::BlkDriver, which
// runs them asynchronously on its own ring. The guest's ring is never shown
// to the real device; its data buffers are, by bus address, after a second
// check here that each lies in guest RAM. Completions come back through
// next_completion() when the driver's device interrupts.
//
// A device that gave up on its ring (DEVICE_NEEDS_RESET, which QEMU
// announces with a configuration change interrupt) never completes what it
// holds: the driver then resets it (abandon()), which ends its DMA, and each
// request in flight fails. The same happens when the guest resets its own
// device while a request has been in flight for kOverdueMs, so that a guest
// reset always completes.
//
// Guarded by the lock of the VirtioMmio transport whose device uses it.
#pragma once
#include "devices/virtio_blk.h"
#include "devices/virtqueue.h"
#include "drivers/virtio/blk.h"
#include "stat_counter.h"

// Milliseconds since any fixed point.
class MsClock {
public:
    virtual u64 now_ms() const = 0;

protected:
    ~MsClock() = default;
};

class BlkForward final : public BlockBackend {
public:
    // No progress for this long with requests in flight: overdue().
    static constexpr u64 kOverdueMs = 5000;

    constexpr BlkForward(virtio::BlkDriver& drv, const GuestMemory& ram, const MsClock& clock)
        : drv_(drv), ram_(ram), clock_(clock)
    {
    }

    u64 sectors() const override { return drv_.capacity(); }
    u32 block_size() const override { return drv_.block_size(); }
    bool read_only() const override { return drv_.read_only(); }
    u32 max_segments() const override;
    Start start(const BlockRequest& r) override;
    void kick() override { drv_.kick(); }
    void ack_interrupt() override;
    bool next_completion(Completion& out) override;
    u32 in_flight() const override { return drv_.in_flight(); }
    bool failed() override { return drv_.needs_reset(); }
    bool overdue() override;
    bool abandon() override;

    u64 refused() const { return stat_read(refused_); }  // segments outside guest RAM

private:
    virtio::BlkDriver& drv_;
    const GuestMemory& ram_;
    const MsClock& clock_;
    u64 progress_ms_ = 0;  // last completion, or the start of a busy spell
    virtio::DmaBuf bufs_[VqChain::kMaxSegments]{};
    u64 refused_ = 0;
};
