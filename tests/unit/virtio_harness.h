// Test-side pieces for the virtio unit tests: guest RAM in a host buffer, a
// tiny split-ring driver that builds descriptor chains in it, a checking
// block backend and an interrupt line that records its edges.
#pragma once
#include <gtest/gtest.h>

#include <cstring>
#include <deque>
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
    GuestRam() : own(kRamSize / 8, 0), base(reinterpret_cast<u8*>(own.data())) {}
    // Guest RAM inside memory the test owns (kRamSize bytes, 8-byte aligned).
    explicit GuestRam(u8* external) : base(external) {}

    std::vector<u64> own;  // 8-byte aligned backing, unless external
    u8* base;
    GuestMemory mem{kRamBase, base, kRamSize};

    u8* ptr(u64 gpa) { return base + (gpa - kRamBase); }
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

// Memory disk that fails the test on any request outside the disk and can
// be told to fail. Synchronous by default; with `async`, start() queues and
// the test finishes requests (finish()), as a real device would later. A
// queued request moves its data when it finishes. A caller that keeps
// polling for completions that never come (kSpinPolls empty polls in a row)
// is spinning: `spun` is set and everything finishes, so that such a bug
// fails the test instead of hanging it. `stuck`: the backend reports that
// it cannot finish (failed()); abandon() then fails everything in flight.
class CheckedBackend final : public BlockBackend {
public:
    explicit CheckedBackend(u64 bytes) : data(bytes, 0) {}
    u64 sectors() const override { return data.size() / 512; }
    u32 max_segments() const override { return max_segs; }
    bool read_only() const override { return ro; }
    Start start(const BlockRequest& r) override
    {
        if (async && queued.size() + done.size() >= room) {
            busy++;
            return Start::Busy;
        }
        calls++;
        EXPECT_LE(r.nseg, max_segs);
        if (r.op == BlockRequest::Op::Flush) {
            flushes++;
        } else {
            const u64 n = r.bytes / 512;
            const bool in = r.bytes % 512 == 0 && n >= 1 && n <= sectors() && r.sector <= sectors() - n;
            EXPECT_TRUE(in) << "sector " << r.sector << " bytes " << r.bytes;
            EXPECT_FALSE(ro && r.op == BlockRequest::Op::Write);
            if (!in)
                return Start::Failed;
        }
        Req q{r.op, r.sector, r.tag, std::vector<BlockSeg>(r.seg, r.seg + r.nseg)};
        if (async) {
            queued.push_back(q);
            return Start::Queued;
        }
        return run(q) ? Start::Done : Start::Failed;
    }
    void kick() override { kicks++; }
    void ack_interrupt() override { acks++; }
    bool next_completion(Completion& out) override
    {
        if (done.empty() && ++empty_polls >= kSpinPolls) {
            spun = true;
            finish();
        }
        if (done.empty())
            return false;
        empty_polls = 0;
        out = done.front();
        done.pop_front();
        return true;
    }
    u32 in_flight() const override { return static_cast<u32>(queued.size() + done.size()); }
    bool failed() override { return stuck && !queued.empty(); }
    bool abandon() override
    {
        abandons++;
        while (!queued.empty()) {
            done.push_back({queued.front().tag, false});
            queued.pop_front();
        }
        return true;
    }
    // Finishes the first n queued requests (all by default), in order, or
    // the one at `index` (out of order).
    void finish(size_t n = ~size_t{0})
    {
        while (n-- && !queued.empty()) {
            const Req q = queued.front();
            queued.pop_front();
            done.push_back({q.tag, run(q)});
        }
    }
    void finish_at(size_t index)
    {
        const Req q = queued.at(index);
        queued.erase(queued.begin() + static_cast<long>(index));
        done.push_back({q.tag, run(q)});
    }

    std::vector<u8> data;
    int calls = 0;
    int flushes = 0;
    int busy = 0;
    int kicks = 0;
    int acks = 0;
    int abandons = 0;
    static constexpr int kSpinPolls = 10000;
    int empty_polls = 0;
    bool spun = false;
    bool stuck = false;
    bool fail = false;
    bool ro = false;
    bool async = false;
    size_t room = ~size_t{0};  // most requests in flight before Busy
    u32 max_segs = 256;

private:
    struct Req {
        BlockRequest::Op op;
        u64 sector;
        u16 tag;
        std::vector<BlockSeg> seg;
    };
    bool run(const Req& q)
    {
        if (fail)
            return false;
        u64 pos = q.sector * 512;
        for (const BlockSeg& s : q.seg) {
            if (q.op == BlockRequest::Op::Read)
                std::memcpy(s.host, data.data() + pos, s.len);
            else
                std::memcpy(data.data() + pos, s.host, s.len);
            pos += s.len;
        }
        return true;
    }
    std::deque<Req> queued;
    std::deque<Completion> done;
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

// The guest's side of an emulated virtio-blk device: register accesses,
// a Linux-like bring-up, and requests on one ring. The rigs below hold the
// device (and whatever is behind it) and hand this their guest RAM and
// transport.
struct GuestDriver {
    static constexpr u64 kBufBase = kRamBase + 0x10'0000;

    GuestDriver(GuestRam& r, VirtioMmio& d) : ram(r), dev(d) {}
    GuestDriver(const GuestDriver&) = delete;

    GuestRam& ram;
    VirtioMmio& dev;
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
    u64 offered()
    {
        wr(MmioReg::DeviceFeaturesSel, 0);
        const u64 lo = rd(MmioReg::DeviceFeatures);
        wr(MmioReg::DeviceFeaturesSel, 1);
        return lo | u64{rd(MmioReg::DeviceFeatures)} << 32;
    }
    // The whole Linux-like bring-up with every offered feature accepted.
    void bring_up()
    {
        using namespace virtio;
        negotiate(offered());
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

// A virtio-blk device over a checked memory disk, and its guest driver.
struct BlkRig : GuestDriver {
    static constexpr u64 kDiskBytes = 1024 * 1024;  // 2048 sectors

    explicit BlkRig(const char* serial = "hyp-test-disk-serial-number")
        : GuestDriver(ram_storage, dev_storage), blk{disk, serial}
    {
    }

    GuestRam ram_storage;
    CheckedBackend disk{kDiskBytes};
    VirtioBlk blk;
    RecordingIrq irq;
    VirtioMmio dev_storage{"virtio-blk", blk, ram_storage.mem, irq};
};

} // namespace vt
