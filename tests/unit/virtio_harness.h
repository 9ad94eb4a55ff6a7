// Test-side pieces for the virtio unit tests: guest RAM in a host buffer, a
// tiny split-ring driver that builds descriptor chains in it, a checking
// block backend and an interrupt line that records its edges.
#pragma once
#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <vector>

#include "devices/irq_line.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_mmio.h"
#include "devices/virtqueue.h"

namespace vt {

using virtio::MmioReg;
constexpr u64 kConfig = virtio::off(MmioReg::Config);

constexpr u64 kRamBase = 0x4000'0000;
constexpr u64 kRamSize = 4 * 1024 * 1024;

struct GuestRam {
    std::vector<u64> words = std::vector<u64>(kRamSize / 8, 0);  // 8-byte aligned
    GuestMemory mem{kRamBase, reinterpret_cast<u8*>(words.data()), kRamSize};

    u8* ptr(u64 gpa) { return reinterpret_cast<u8*>(words.data()) + (gpa - kRamBase); }
    template <typename T>
    void put(u64 gpa, T v) { std::memcpy(ptr(gpa), &v, sizeof v); }
    template <typename T>
    T get(u64 gpa) { T v; std::memcpy(&v, ptr(gpa), sizeof v); return v; }
    void fill(u64 gpa, const std::vector<u8>& bytes) { std::memcpy(ptr(gpa), bytes.data(), bytes.size()); }
    std::vector<u8> bytes(u64 gpa, u64 n) { return std::vector<u8>(ptr(gpa), ptr(gpa) + n); }
};

struct Buf {
    u64 gpa;
    u32 len;
    bool writable;
};

// The driver half of one split virtqueue living in GuestRam.
struct Ring {
    GuestRam* ram;  // a pointer so that rigs can swap rings
    u32 size;
    u64 desc, avail, used;
    u16 avail_idx = 0;
    u16 used_seen = 0;
    u16 next_desc = 0;  // descriptors are handed out round-robin, never reclaimed early

    Ring(GuestRam& r, u32 n, u64 base = kRamBase + 0x1000)
        : ram(&r), size(n), desc(base), avail(base + 16ull * n), used(align_up(base + 16ull * n + 6 + 2ull * n, 4096))
    {
    }

    void write_desc(u16 i, u64 addr, u32 len, u16 flags, u16 next)
    {
        const u64 d = desc + 16ull * i;
        ram->put<u64>(d, addr);
        ram->put<u32>(d + 8, len);
        ram->put<u16>(d + 12, flags);
        ram->put<u16>(d + 14, next);
    }
    // Descriptors for `bufs` linked in order; returns the head.
    u16 chain(const std::vector<Buf>& bufs)
    {
        const u16 head = static_cast<u16>(next_desc % size);
        for (size_t k = 0; k < bufs.size(); k++) {
            const u16 i = static_cast<u16>((next_desc + k) % size);
            const u16 nx = static_cast<u16>((next_desc + k + 1) % size);
            const bool last = k + 1 == bufs.size();
            write_desc(i, bufs[k].gpa, bufs[k].len,
                       static_cast<u16>((last ? 0 : virtq::kDescNext) | (bufs[k].writable ? virtq::kDescWrite : 0)),
                       last ? 0 : nx);
        }
        next_desc = static_cast<u16>(next_desc + bufs.size());
        return head;
    }
    void offer(u16 head)
    {
        ram->put<u16>(avail + 4 + 2ull * (avail_idx % size), head);
        avail_idx++;
        ram->put<u16>(avail + 2, avail_idx);
    }
    u16 submit(const std::vector<Buf>& bufs)
    {
        const u16 h = chain(bufs);
        offer(h);
        return h;
    }
    void set_avail_flags(u16 f) { ram->put<u16>(avail, f); }
    u16 used_idx() { return ram->get<u16>(used + 2); }
    struct Used {
        u32 id, len;
    };
    std::optional<Used> take_used()
    {
        if (used_idx() == used_seen)
            return std::nullopt;
        const u64 e = used + 4 + 8ull * (used_seen % size);
        used_seen++;
        return Used{ram->get<u32>(e), ram->get<u32>(e + 4)};
    }
};

class RecordingIrq final : public IrqLine {
public:
    void set_level(bool l) override
    {
        level = l;
        if (l)
            rising++;
    }
    bool level = false;
    int rising = 0;
};

// Memory disk that fails the test on any access outside the disk and can
// be told to fail.
class CheckedBackend final : public BlockBackend {
public:
    explicit CheckedBackend(u64 bytes) : data(bytes, 0) {}
    u64 sectors() const override { return data.size() / 512; }
    bool read(u64 sector, void* buf, u64 count) override
    {
        calls++;
        if (!check(sector, count))
            return false;
        std::memcpy(buf, data.data() + sector * 512, count * 512);
        return true;
    }
    bool write(u64 sector, const void* buf, u64 count) override
    {
        calls++;
        if (!check(sector, count))
            return false;
        std::memcpy(data.data() + sector * 512, buf, count * 512);
        return true;
    }
    bool flush() override
    {
        flushes++;
        return !fail;
    }
    std::vector<u8> data;
    int calls = 0;
    int flushes = 0;
    bool fail = false;

private:
    bool check(u64 sector, u64 count)
    {
        const bool in = count >= 1 && count <= sectors() && sector <= sectors() - count;
        EXPECT_TRUE(in) << "sector " << sector << " count " << count;
        return in && !fail;
    }
};

inline std::vector<u8> pattern(size_t n, u8 seed)
{
    std::vector<u8> v(n);
    for (size_t i = 0; i < n; i++)
        v[i] = static_cast<u8>(seed + i * 7 + (i >> 9));
    return v;
}

inline std::vector<u8> blk_header(u32 type, u64 sector)
{
    std::vector<u8> h(16, 0);
    std::memcpy(h.data(), &type, 4);
    std::memcpy(h.data() + 8, &sector, 8);
    return h;
}

// A virtio-blk device behind its transport, plus a driver that brings it up.
struct BlkRig {
    static constexpr u64 kDiskBytes = 1024 * 1024;  // 2048 sectors
    static constexpr u64 kBufBase = kRamBase + 0x10'0000;

    GuestRam ram;
    CheckedBackend disk{kDiskBytes};
    VirtioBlk blk{disk, "hyp-test-disk-serial-number"};
    RecordingIrq irq;
    VirtioMmio dev{"virtio-blk", blk, ram.mem, irq};
    Ring ring{ram, 16};
    u64 next_buf = kBufBase;

    MmioResult access(u64 off, bool write, u64& data, u8 width = 4)
    {
        MmioAccess a{.addr = 0x0a00'0000 + off, .width = width, .write = write, .reg = 0,
                     .sign_extend = false, .sf = false, .data = write ? (data & mask(width * 8u)) : 0xdead'beef};
        const MmioResult r = dev.access(0, off, a);
        if (!write)
            data = a.data;
        return r;
    }
    u32 rd(u64 off, u8 width = 4)
    {
        u64 v = 0;
        EXPECT_EQ(access(off, false, v, width), MmioResult::Handled) << std::hex << off;
        return static_cast<u32>(v);
    }
    void wr(u64 off, u32 v, u8 width = 4)
    {
        u64 d = v;
        EXPECT_EQ(access(off, true, d, width), MmioResult::Handled) << std::hex << off;
    }
    MmioResult access(MmioReg reg, bool write, u64& data, u8 width = 4)
    {
        return access(virtio::off(reg), write, data, width);
    }
    u32 rd(MmioReg reg, u8 width = 4) { return rd(virtio::off(reg), width); }
    void wr(MmioReg reg, u32 v, u8 width = 4) { wr(virtio::off(reg), v, width); }
    u32 status() { return rd(MmioReg::Status); }

    void negotiate(u64 driver_features)
    {
        using namespace virtio;
        wr(MmioReg::Status, 0);
        wr(MmioReg::Status, kStatusAcknowledge);
        wr(MmioReg::Status, kStatusAcknowledge | kStatusDriver);
        wr(MmioReg::DriverFeaturesSel, 0);
        wr(MmioReg::DriverFeatures, static_cast<u32>(driver_features));
        wr(MmioReg::DriverFeaturesSel, 1);
        wr(MmioReg::DriverFeatures, static_cast<u32>(driver_features >> 32));
        wr(MmioReg::Status, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
    }
    void setup_queue(const Ring& r)
    {
        using namespace virtio;
        wr(MmioReg::QueueSel, 0);
        wr(MmioReg::QueueNum, r.size);
        wr(MmioReg::QueueDescLow, static_cast<u32>(r.desc));
        wr(MmioReg::QueueDescHigh, static_cast<u32>(r.desc >> 32));
        wr(MmioReg::QueueDriverLow, static_cast<u32>(r.avail));
        wr(MmioReg::QueueDriverHigh, static_cast<u32>(r.avail >> 32));
        wr(MmioReg::QueueDeviceLow, static_cast<u32>(r.used));
        wr(MmioReg::QueueDeviceHigh, static_cast<u32>(r.used >> 32));
        wr(MmioReg::QueueReady, 1);
    }
    // The whole Linux-like bring-up with every offered feature accepted.
    void bring_up()
    {
        using namespace virtio;
        negotiate(blk.features());
        ASSERT_TRUE(status() & kStatusFeaturesOk);
        setup_queue(ring);
        ASSERT_EQ(rd(MmioReg::QueueReady), 1u);
        wr(MmioReg::Status, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
        ASSERT_EQ(status(), kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
    }
    void notify() { wr(virtio::MmioReg::QueueNotify, 0); }
    void ack_all() { wr(virtio::MmioReg::InterruptAck, rd(virtio::MmioReg::InterruptStatus)); }

    u64 alloc(u64 n)
    {
        const u64 g = next_buf;
        next_buf = align_up(next_buf + n, 16);
        return g;
    }

    struct Result {
        u8 status;
        u32 used_len;
        u16 id;
        bool completed;
    };
    // Submits one chain, notifies, and returns its completion. The status
    // byte is read from `status_gpa` (0: none expected).
    Result run(const std::vector<Buf>& bufs, u64 status_gpa)
    {
        if (status_gpa)
            ram.put<u8>(status_gpa, 0xee);
        const u16 head = ring.submit(bufs);
        notify();
        auto u = ring.take_used();
        if (!u)
            return {0xff, 0, head, false};
        EXPECT_EQ(u->id, head);
        return {status_gpa ? ram.get<u8>(status_gpa) : u8{0xff}, u->len, head, true};
    }

    // A well-formed request: header | data | status, each its own buffer.
    Result request(u32 type, u64 sector, u64 data_gpa, u32 data_len, bool data_writable)
    {
        const u64 hdr = alloc(16);
        ram.fill(hdr, blk_header(type, sector));
        const u64 st = alloc(1);
        std::vector<Buf> bufs{{hdr, 16, false}};
        if (data_len)
            bufs.push_back({data_gpa, data_len, data_writable});
        bufs.push_back({st, 1, true});
        return run(bufs, st);
    }
    Result read(u64 sector, u64 data_gpa, u32 len) { return request(virtio_blk::kTIn, sector, data_gpa, len, true); }
    Result write(u64 sector, u64 data_gpa, u32 len)
    {
        return request(virtio_blk::kTOut, sector, data_gpa, len, false);
    }
};

} // namespace vt
