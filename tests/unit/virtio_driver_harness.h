// Test-side pieces for the virtio *driver* layer (hyp/drivers/virtio):
//  * DmaArena: host memory standing in for physical memory. Bus addresses
//    are host pointers (dma_addr()), so a device-side GuestMemory whose
//    "IPA" base is the arena's own address lets the device models reach
//    exactly the arena and nothing else.
//  * ScriptedMmio: a register-level fake transport with knobs for the ways
//    a device can refuse a driver.
//  * LoopbackWindow: the driver's register window wired to one of the
//    hypervisor's own emulated devices (VirtioMmio), so driver and device
//    halves are tested against each other.
#pragma once
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <map>
#include <vector>

#include "devices/virtio_mmio.h"
#include "devices/virtqueue.h"
#include "drivers/virtio/dma.h"
#include "drivers/virtio/regs.h"
#include "drivers/virtio/transport.h"

namespace vd {

using virtio::MmioReg;
using virtio::off;

struct DmaArena {
    explicit DmaArena(u64 bytes = 1 << 20) : words(bytes / 8, 0), size(bytes) {}
    std::vector<u64> words;  // 8-byte aligned backing
    u64 size;
    u64 used = 0;

    u8* base() { return reinterpret_cast<u8*>(words.data()); }
    u64 bus() { return virtio::dma_addr(base()); }
    // Device-side view: "guest physical" == host address, bounded to the arena.
    GuestMemory mem() { return GuestMemory(bus(), base(), size); }
    u8* alloc(u64 n, u64 align = 16)
    {
        used = align_up(used, align);
        u8* p = base() + used;
        used += n;
        EXPECT_LE(used, size) << "arena too small";
        return p;
    }
};

// A virtio-mmio register file with a scripted device behind it.
class ScriptedMmio final : public virtio::RegWindow {
public:
    u32 magic = virtio::kMagic;
    u32 version = virtio::kVersionModern;
    u32 device_id = virtio::kDeviceConsole;
    u64 features = virtio::kFVersion1 | bit(0) | bit(1);
    bool refuse_features_ok = false;
    bool stuck_status = false;        // a reset never reads back 0
    u32 queue_num_max[4] = {64, 100, 0, 256};
    u32 generation = 0;
    int bump_generation_reads = 0;    // ConfigGeneration changes on this many reads
    u32 config[64] = {};
    u32 interrupt_status = 0;

    // Driver-visible state.
    u32 status = 0;
    u64 driver_features = 0;
    u32 queue_sel = 0;
    struct Queue {
        u32 num = 0;
        bool ready = false;
        u64 desc = 0, driver = 0, device = 0;
    } queue[4];
    std::vector<u32> status_writes;
    std::vector<u32> notifies;
    std::vector<u32> acks;

    u32 read(u32 offset, u8 width) override
    {
        if (offset >= off(MmioReg::Config)) {
            u32 v = 0;
            std::memcpy(&v, reinterpret_cast<const u8*>(config) + offset - off(MmioReg::Config), width);
            return v;
        }
        EXPECT_EQ(width, 4);
        const Queue* q = queue_sel < 4 ? &queue[queue_sel] : nullptr;
        switch (static_cast<MmioReg>(offset)) {
        case MmioReg::MagicValue: return magic;
        case MmioReg::Version: return version;
        case MmioReg::DeviceId: return device_id;
        case MmioReg::DeviceFeatures: return dev_sel_ < 2 ? static_cast<u32>(features >> (32 * dev_sel_)) : 0;
        case MmioReg::QueueNumMax: return q ? queue_num_max[queue_sel] : 0;
        case MmioReg::QueueReady: return q && q->ready;
        case MmioReg::InterruptStatus: return interrupt_status;
        case MmioReg::Status: return status;
        case MmioReg::ConfigGeneration:
            if (bump_generation_reads > 0) {
                bump_generation_reads--;
                generation++;
            }
            return generation;
        default: return 0;
        }
    }
    void write(u32 offset, u8 width, u32 v) override
    {
        EXPECT_EQ(width, 4);
        Queue* q = queue_sel < 4 ? &queue[queue_sel] : nullptr;
        auto half = [](u64& r, bool high, u32 val) {
            r = high ? (r & 0xffff'ffffu) | (u64{val} << 32) : (r & ~u64{0xffff'ffffu}) | val;
        };
        switch (static_cast<MmioReg>(offset)) {
        case MmioReg::DeviceFeaturesSel: dev_sel_ = v; break;
        case MmioReg::DriverFeaturesSel: drv_sel_ = v; break;
        case MmioReg::DriverFeatures:
            if (drv_sel_ < 2)
                half(driver_features, drv_sel_ == 1, v);
            break;
        case MmioReg::QueueSel: queue_sel = v; break;
        case MmioReg::QueueNum: q->num = v; break;
        case MmioReg::QueueReady: q->ready = v & 1; break;
        case MmioReg::QueueNotify: notifies.push_back(v); break;
        case MmioReg::InterruptAck:
            acks.push_back(v);
            interrupt_status &= ~v;
            break;
        case MmioReg::Status:
            status_writes.push_back(v);
            if (v == 0) {
                status = stuck_status ? 1 : 0;
                for (Queue& qq : queue)
                    qq = Queue{};
            } else {
                status = v;
                if (refuse_features_ok)
                    status &= ~virtio::kStatusFeaturesOk;
            }
            break;
        case MmioReg::QueueDescLow:
        case MmioReg::QueueDescHigh: half(q->desc, offset == off(MmioReg::QueueDescHigh), v); break;
        case MmioReg::QueueDriverLow:
        case MmioReg::QueueDriverHigh: half(q->driver, offset == off(MmioReg::QueueDriverHigh), v); break;
        case MmioReg::QueueDeviceLow:
        case MmioReg::QueueDeviceHigh: half(q->device, offset == off(MmioReg::QueueDeviceHigh), v); break;
        default: ADD_FAILURE() << "write to read-only or reserved register 0x" << std::hex << offset;
        }
    }

private:
    u32 dev_sel_ = 0, drv_sel_ = 0;
};

// The driver's window onto an emulated device (the guest-facing model).
// With `hold_notifies`, QueueNotify writes are kept and delivered by
// deliver(), so the device works asynchronously to the driver.
// give_up() makes the device look as QEMU's does after it gave up on its
// ring (virtio_error): DEVICE_NEEDS_RESET in Status until the driver resets
// it (Status = 0), and a configuration change interrupt until acknowledged.
class LoopbackWindow final : public virtio::RegWindow {
public:
    explicit LoopbackWindow(VirtioMmio& dev) : dev_(dev) {}
    bool hold_notifies = false;
    std::vector<u32> held;
    int accesses = 0;
    std::atomic<bool> needs_reset{false};
    std::atomic<bool> config_irq{false};
    std::atomic<int> resets{0};  // Status = 0 writes

    void give_up()
    {
        needs_reset = true;
        config_irq = true;
    }

    u32 read(u32 offset, u8 width) override
    {
        MmioAccess a{.addr = offset, .width = width, .write = false, .reg = 0, .sign_extend = false, .sf = false,
                     .data = 0};
        EXPECT_EQ(dev_.access(0, offset, a), MmioResult::Handled) << std::hex << offset;
        accesses++;
        if (needs_reset && offset == off(MmioReg::Status))
            a.data |= virtio::kStatusNeedsReset;
        if (config_irq && offset == off(MmioReg::InterruptStatus))
            a.data |= virtio::kIntConfigChange;
        return static_cast<u32>(a.data);
    }
    void write(u32 offset, u8 width, u32 v) override
    {
        accesses++;
        if (offset == off(MmioReg::Status) && v == 0) {
            resets++;
            needs_reset = false;
            config_irq = false;
        }
        if (offset == off(MmioReg::InterruptAck) && (v & virtio::kIntConfigChange))
            config_irq = false;
        if (hold_notifies && offset == off(MmioReg::QueueNotify)) {
            held.push_back(v);
            return;
        }
        MmioAccess a{.addr = offset, .width = width, .write = true, .reg = 0, .sign_extend = false, .sf = false,
                     .data = v};
        EXPECT_EQ(dev_.access(0, offset, a), MmioResult::Handled) << std::hex << offset;
    }
    void deliver()
    {
        std::vector<u32> h;
        h.swap(held);
        for (u32 q : h) {
            MmioAccess a{.addr = 0, .width = 4, .write = true, .reg = 0, .sign_extend = false, .sf = false,
                         .data = q};
            dev_.access(0, off(MmioReg::QueueNotify), a);
        }
    }

private:
    VirtioMmio& dev_;
};

} // namespace vd
