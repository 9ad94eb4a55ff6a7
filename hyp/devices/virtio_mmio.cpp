// virtio-mmio transport, version 2. See virtio_mmio.h.
//
// Choices where the spec leaves room, aimed at Linux's virtio_mmio driver:
//  * Registers below 0x100 take 32-bit aligned accesses only; anything else
//    is refused (the core turns it into an external abort for the guest).
//    Config space takes 8-, 16- and 32-bit aligned accesses.
//  * Reserved offsets read as zero and ignore writes; so do write-only
//    registers on reads and read-only registers on writes.
//  * The driver cannot clear status bits except by writing 0 (reset), and
//    cannot set DEVICE_NEEDS_RESET. FEATURES_OK is refused (reads back clear)
//    unless the driver took VIRTIO_F_VERSION_1 and nothing we did not offer;
//    DRIVER_OK is refused without FEATURES_OK.
//  * Queue registers are frozen while the queue is ready. QueueReady=1 with
//    a bad size, misaligned or out-of-RAM rings leaves the queue not ready
//    and sets DEVICE_NEEDS_RESET, as does a driver breaking a live ring.
//  * Nothing is consumed before DRIVER_OK, nor after DEVICE_NEEDS_RESET.
//  * A reset (Status = 0) or a queue disable (QueueReady = 0) while the
//    device still has requests in a backend completes only once they have
//    finished (or the backend gave up on them), on a later register access
//    or service(): the backend may still write guest memory until then, and
//    nothing waits for it under the lock. Meanwhile Status keeps its value
//    and every other register write is ignored (a reset), or QueueReady
//    reads 1 and the queue stays frozen (a disable). The driver waits for
//    Status (QueueReady) to read 0, as virtio 1.x 4.2.2.1 asks.
//  * The interrupt line follows InterruptStatus != 0. The guest DTB declares
//    it edge-triggered, like QEMU's virt board; the vGIC counts our 0 -> 1
//    transitions as edges, and Linux ACKs before it scans the used ring, so
//    no completion can fall between an ACK and the scan.
#include "devices/virtio_mmio.h"

using namespace virtio;

namespace {

void set_half(u64& v, bool high, u32 half)
{
    if (high)
        v = (v & 0xffff'ffffull) | (u64{half} << 32);
    else
        v = (v & ~0xffff'ffffull) | half;
}

} // namespace

MmioResult VirtioMmio::access(u32, u64 offset, MmioAccess& a)
{
    if (offset >= kMmioSize)
        return MmioResult::Unhandled;
    if (offset >= off(MmioReg::Config)) {
        if ((a.width != 1 && a.width != 2 && a.width != 4) || (offset & (a.width - 1u)))
            return MmioResult::Unhandled;
        LockGuard g(lock_);
        const u32 coff = static_cast<u32>(offset - off(MmioReg::Config));
        if (a.write)
            dev_.config_write(coff, a.width, static_cast<u32>(a.data));
        else
            a.data = dev_.config_read(coff, a.width) & mask(a.width * 8u);
        return MmioResult::Handled;
    }
    if (a.width != 4 || (offset & 3))
        return MmioResult::Unhandled;
    LockGuard g(lock_);
    settle();
    if (a.write)
        write_reg(static_cast<u32>(offset), static_cast<u32>(a.data));
    else
        a.data = read_reg(static_cast<u32>(offset));
    return MmioResult::Handled;
}

Virtqueue* VirtioMmio::selected()
{
    return queue_sel_ < dev_.num_queues() && queue_sel_ < kMaxQueues ? &queues_[queue_sel_] : nullptr;
}

u32 VirtioMmio::read_reg(u32 reg)
{
    const Virtqueue* q = selected();
    switch (static_cast<MmioReg>(reg)) {
    case MmioReg::MagicValue: return kMagic;
    case MmioReg::Version: return kVersionModern;
    case MmioReg::DeviceId: return dev_.device_id();
    case MmioReg::VendorId: return kVendorId;
    case MmioReg::DeviceFeatures: {
        const u64 f = dev_.features();
        return device_features_sel_ == 0 ? static_cast<u32>(f)
               : device_features_sel_ == 1 ? static_cast<u32>(f >> 32)
                                           : 0;
    }
    case MmioReg::QueueNumMax: return q ? dev_.queue_max_size() : 0;
    case MmioReg::QueueNum: return q ? q->size : 0;
    case MmioReg::QueueReady: return q && (q->ready() || quiescing(queue_sel_)) ? 1 : 0;
    case MmioReg::InterruptStatus: return interrupt_status_;
    case MmioReg::Status: return status_;
    case MmioReg::QueueDescLow: return q ? static_cast<u32>(q->desc_addr) : 0;
    case MmioReg::QueueDescHigh: return q ? static_cast<u32>(q->desc_addr >> 32) : 0;
    case MmioReg::QueueDriverLow: return q ? static_cast<u32>(q->avail_addr) : 0;
    case MmioReg::QueueDriverHigh: return q ? static_cast<u32>(q->avail_addr >> 32) : 0;
    case MmioReg::QueueDeviceLow: return q ? static_cast<u32>(q->used_addr) : 0;
    case MmioReg::QueueDeviceHigh: return q ? static_cast<u32>(q->used_addr >> 32) : 0;
    case MmioReg::ConfigGeneration: return 0;  // the config space never changes
    default: return 0;  // write-only and reserved registers
    }
}

void VirtioMmio::write_reg(u32 reg, u32 v)
{
    if (resetting_)
        return;  // the reset is not complete: Status reads non-zero
    Virtqueue* q = selected();
    const bool q_writable = q && !q->ready() && !quiescing(queue_sel_);
    switch (static_cast<MmioReg>(reg)) {
    case MmioReg::DeviceFeaturesSel: device_features_sel_ = v; break;
    case MmioReg::DriverFeaturesSel: driver_features_sel_ = v; break;
    case MmioReg::DriverFeatures:
        // Frozen once FEATURES_OK was accepted; words beyond 1 are all zero.
        if (!(status_ & kStatusFeaturesOk) && driver_features_sel_ < 2)
            set_half(driver_features_, driver_features_sel_ == 1, v);
        break;
    case MmioReg::QueueSel: queue_sel_ = v; break;
    case MmioReg::QueueNum:
        if (q_writable)
            q->size = v;
        break;
    case MmioReg::QueueReady:
        if (!q)
            break;
        if (!(v & 1)) {
            // Whatever the device still does with this ring must end before
            // QueueReady reads 0: the driver may then set the queue up
            // somewhere else. Answers still to come are dropped.
            if (q->ready()) {
                q->disable();
                if (!dev_.quiesce(queue_sel_))
                    quiescing_ |= 1u << queue_sel_;
            }
        } else if (q_writable && !q->enable(mem_, dev_.queue_max_size())) {
            set_needs_reset();
        }
        break;
    case MmioReg::QueueNotify: notify(v); break;
    case MmioReg::InterruptAck:
        interrupt_status_ &= ~v;
        update_irq();
        break;
    case MmioReg::Status: write_status(v); break;
    case MmioReg::QueueDescLow:
    case MmioReg::QueueDescHigh:
        if (q_writable)
            set_half(q->desc_addr, reg == off(MmioReg::QueueDescHigh), v);
        break;
    case MmioReg::QueueDriverLow:
    case MmioReg::QueueDriverHigh:
        if (q_writable)
            set_half(q->avail_addr, reg == off(MmioReg::QueueDriverHigh), v);
        break;
    case MmioReg::QueueDeviceLow:
    case MmioReg::QueueDeviceHigh:
        if (q_writable)
            set_half(q->used_addr, reg == off(MmioReg::QueueDeviceHigh), v);
        break;
    default: break;  // read-only and reserved registers
    }
}

void VirtioMmio::write_status(u32 v)
{
    if (v == 0) {
        do_reset();
        return;
    }
    // Bits only accumulate; DEVICE_NEEDS_RESET is the device's alone.
    u32 next = status_ | (v & 0xffu & ~kStatusNeedsReset);
    const u32 added = next & ~status_;
    if (added & kStatusFeaturesOk) {
        const u64 offered = dev_.features();
        const bool ok = (driver_features_ & ~offered) == 0 && (driver_features_ & kFVersion1);
        if (!ok)
            next &= ~kStatusFeaturesOk;
    }
    if ((added & kStatusDriverOk) && !(next & kStatusFeaturesOk))
        next &= ~kStatusDriverOk;
    status_ = next;
}

// The registers and queues go back to their reset values at once (answers
// still to come are dropped); Status reads 0 once the device says nothing
// is in flight any more.
void VirtioMmio::do_reset()
{
    for (Virtqueue& q : queues_)
        q.reset();
    device_features_sel_ = 0;
    driver_features_sel_ = 0;
    driver_features_ = 0;
    queue_sel_ = 0;
    interrupt_status_ = 0;
    update_irq();
    stat_add(stats_.resets);
    quiescing_ = 0;
    resetting_ = !dev_.reset();
    if (!resetting_)
        status_ = 0;
}

void VirtioMmio::settle()
{
    if ((!resetting_ && !quiescing_) || !dev_.settle())
        return;
    if (resetting_)
        status_ = 0;
    resetting_ = false;
    quiescing_ = 0;
}

void VirtioMmio::set_needs_reset()
{
    if (status_ & kStatusNeedsReset)
        return;
    status_ |= kStatusNeedsReset;
    stat_add(stats_.needs_reset);
    // A configuration change notification tells a running driver (2.1.2).
    if (status_ & kStatusDriverOk) {
        interrupt_status_ |= kIntConfigChange;
        update_irq();
    }
}

bool VirtioMmio::live() const
{
    return !resetting_ && (status_ & (kStatusDriverOk | kStatusNeedsReset)) == kStatusDriverOk;
}

void VirtioMmio::notify(u32 qi)
{
    if (!live() || qi >= dev_.num_queues() || qi >= kMaxQueues || !queues_[qi].ready())
        return;
    Virtqueue& q = queues_[qi];
    stat_add(stats_.notifies);
    finish(q, dev_.complete(qi, q, mem_) + dev_.process_queue(qi, q, mem_));
}

void VirtioMmio::service()
{
    LockGuard g(lock_);
    stat_add(stats_.services);
    dev_.backend_interrupt();
    for (u32 qi = 0; qi < dev_.num_queues() && qi < kMaxQueues; qi++) {
        Virtqueue& q = queues_[qi];
        u32 pushed = dev_.complete(qi, q, mem_);
        // Chains that waited for the backend to have room start now.
        if (live() && q.ready())
            pushed += dev_.process_queue(qi, q, mem_);
        finish(q, pushed);
    }
    settle();
}

void VirtioMmio::finish(Virtqueue& q, u32 pushed)
{
    if (pushed) {
        stat_add(stats_.completions, pushed);
        if (q.wants_interrupt(mem_)) {
            interrupt_status_ |= kIntUsedBuffer;
            update_irq();
        }
    }
    if (q.broken())
        set_needs_reset();
}

void VirtioMmio::update_irq()
{
    const bool level = interrupt_status_ != 0;
    if (level == irq_level_)
        return;
    irq_level_ = level;
    if (level && (interrupt_status_ & kIntUsedBuffer))
        stat_add(stats_.interrupts);
    irq_.set_level(level);
}

void VirtioMmio::reset()
{
    LockGuard g(lock_);
    do_reset();
}

u32 VirtioMmio::status() const
{
    LockGuard g(lock_);
    return status_;
}

VirtioMmio::Stats VirtioMmio::stats() const { return stat_snapshot(stats_); }
