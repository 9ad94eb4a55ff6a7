// The emulated virtio-blk disk: the virtio-mmio transport, the split
// virtqueue and the block request parser, over a backend that finishes
// requests at once or later (out of order, running out of room).
//
// Input: the disk (size, read-only, synchronous or not, segment limit),
// then a program: raw register accesses, a Linux-like bring-up with rings
// anywhere in (or beside) a 64 KiB guest RAM, descriptors written one by
// one or as whole requests (IN/OUT/FLUSH/GET_ID/unknown, any split, bad
// lengths, buffers outside RAM, loops), avail-ring offers, notifications,
// backend completions, interrupt acks, resets.
// Invariants: the device writes guest RAM only in the used ring and in
// buffers a descriptor named device-writable (guest RAM is a heap buffer of
// exactly its size, so ASan sees any access beside it); the backend sees
// only whole in-disk sector ranges, no write to a read-only disk, at most
// its segment limit, and data buffers that lie in guest RAM inside buffers
// the request named with the right direction; every used entry names a
// chain that was offered and not yet returned; the interrupt line follows
// InterruptStatus != 0; DRIVER_OK never stands without FEATURES_OK.
#include <deque>
#include <set>
#include <vector>

#include "devices/virtio_blk.h"
#include "devices/virtio_mmio.h"
#include "fuzz.h"
#include "virtio/blk.h"

using virtio::MmioReg;

namespace {

constexpr u64 kRamBase = 0x4000'0000;
constexpr u64 kRamSize = 64 * KiB;

struct Ram {
    std::vector<u64> store = std::vector<u64>(kRamSize / 8, 0);
    u8* base() { return reinterpret_cast<u8*>(store.data()); }
    GuestMemory mem{kRamBase, reinterpret_cast<u8*>(store.data()), kRamSize};
    bool in(u64 gpa, u64 len) const { return gpa >= kRamBase && len <= kRamSize && gpa - kRamBase <= kRamSize - len; }
    template <typename T>
    void put(u64 gpa, T v)
    {
        if (in(gpa, sizeof v))
            std::memcpy(base() + (gpa - kRamBase), &v, sizeof v);
    }
    template <typename T>
    T get(u64 gpa)
    {
        T v{};
        if (in(gpa, sizeof v))
            std::memcpy(&v, base() + (gpa - kRamBase), sizeof v);
        return v;
    }
};

// Per guest RAM byte: may the device write it / read it as request data now?
struct Named {
    std::vector<u8> w = std::vector<u8>(kRamSize), r = std::vector<u8>(kRamSize);
    // The part of [gpa, gpa+len) inside RAM.
    void mark(std::vector<u8>& m, u64 gpa, u64 len)
    {
        const u64 end = gpa + len < gpa ? ~u64{0} : gpa + len;
        const u64 lo = gpa > kRamBase ? gpa : kRamBase, hi = end < kRamBase + kRamSize ? end : kRamBase + kRamSize;
        if (lo < hi)
            std::memset(m.data() + (lo - kRamBase), 1, hi - lo);
    }
    void clear()
    {
        if (seen.empty())
            return;
        std::memset(w.data(), 0, w.size());
        std::memset(r.data(), 0, r.size());
        seen.clear();
    }
    // Descriptors already marked (marking is the expensive part).
    struct Seen {
        u64 addr;
        u32 len;
        u16 flags;
        bool operator<(const Seen& o) const
        {
            return addr != o.addr ? addr < o.addr : len != o.len ? len < o.len : flags < o.flags;
        }
    };
    std::set<Seen> seen;
};

struct Line final : IrqLine {
    void set_level(bool l) override
    {
        FUZZ_CHECK(l != level);
        level = l;
    }
    bool level = false;
};

struct Backend final : BlockBackend {
    Ram* ram = nullptr;
    Named* named = nullptr;
    u64 nsect = 16;
    bool ro = false, async = false;
    u32 room = 4, max_segs = 8;
    std::vector<u8> disk;
    struct Req {
        BlockRequest::Op op;
        u64 sector;
        u16 tag;
        std::vector<BlockSeg> seg;
    };
    std::deque<Req> queued;
    std::deque<Completion> done;

    u64 sectors() const override { return nsect; }
    bool read_only() const override { return ro; }
    u32 max_segments() const override { return max_segs; }
    Start start(const BlockRequest& r) override
    {
        if (async && queued.size() + done.size() >= room)
            return Start::Busy;
        FUZZ_CHECK(r.nseg <= max_segs && r.nseg <= VirtioBlk::kSegMax);
        if (r.op == BlockRequest::Op::Flush) {
            FUZZ_CHECK(r.nseg == 0 && r.bytes == 0);
        } else {
            FUZZ_CHECK(r.bytes % 512 == 0 && r.bytes >= 512 && r.bytes / 512 <= nsect && r.sector <= nsect - r.bytes / 512);
            FUZZ_CHECK(!(ro && r.op == BlockRequest::Op::Write));
            u64 sum = 0;
            for (u32 i = 0; i < r.nseg; i++) {
                const BlockSeg& s = r.seg[i];
                FUZZ_CHECK(s.len > 0 && ram->mem.holds(s.host, s.len));
                const u64 at = static_cast<u64>(s.host - ram->base());
                const std::vector<u8>& ok = r.op == BlockRequest::Op::Read ? named->w : named->r;
                for (u64 k = 0; k < s.len; k++)
                    FUZZ_CHECK(ok[at + k]); // inside a buffer of the request's direction
                sum += s.len;
            }
            FUZZ_CHECK(sum == r.bytes);
        }
        Req q{r.op, r.sector, r.tag, std::vector<BlockSeg>(r.seg, r.seg + r.nseg)};
        if (async) {
            queued.push_back(q);
            return Start::Queued;
        }
        run(q);
        return Start::Done;
    }
    bool next_completion(Completion& out) override
    {
        if (done.empty())
            return false;
        out = done.front();
        done.pop_front();
        return true;
    }
    u32 in_flight() const override { return static_cast<u32>(queued.size() + done.size()); }
    // The backend's device can fail: then what is in flight may be given up,
    // and comes back failed without ever touching memory.
    bool broken = false, can_abandon = false;
    bool failed() override { return broken; }
    bool abandon() override
    {
        if (!can_abandon)
            return false;
        for (const Req& q : queued)
            done.push_back({q.tag, false});
        queued.clear();
        return true;
    }
    void finish(usize n, bool shuffle)
    {
        while (n-- && !queued.empty()) {
            const usize i = shuffle ? queued.size() - 1 : 0;
            run(queued[i]);
            done.push_back({queued[i].tag, true});
            queued.erase(queued.begin() + static_cast<long>(i));
        }
    }
    void run(const Req& q)
    {
        u64 pos = q.sector * 512;
        for (const BlockSeg& s : q.seg) {
            if (q.op == BlockRequest::Op::Read)
                std::memcpy(s.host, disk.data() + pos, s.len);
            else if (q.op == BlockRequest::Op::Write)
                std::memcpy(disk.data() + pos, s.host, s.len);
            pos += s.len;
        }
    }
};

struct Rig {
    Ram ram;
    Named named;
    Backend backend;
    Line line;
    VirtioBlk blk{backend, "fuzz-disk-serial"};
    VirtioMmio dev{"virtio-blk", blk, ram.mem, line};
    // The driver's view of queue 0, as it configured it.
    u32 qsize = 0;
    u64 desc = 0, avail = 0, used = 0;
    u16 avail_idx = 0, used_seen = 0;
    u16 next_desc = 0;
    std::vector<int> outstanding = std::vector<int>(Virtqueue::kMaxSize, 0);
    bool ready = false;
    bool reset_pending = false; // a reset waits for requests in flight: their buffers stay named
    bool track = true; // offers counted (off once the driver scribbles on avail.idx or the rings)

    // Queue 0 as the device has it: raw register writes may have moved it.
    void sync()
    {
        wr(MmioReg::QueueSel, 0);
        const u32 n = rd(MmioReg::QueueNum);
        const u64 d = rd(MmioReg::QueueDescLow) | u64{rd(MmioReg::QueueDescHigh)} << 32;
        const u64 a = rd(MmioReg::QueueDriverLow) | u64{rd(MmioReg::QueueDriverHigh)} << 32;
        const u64 u = rd(MmioReg::QueueDeviceLow) | u64{rd(MmioReg::QueueDeviceHigh)} << 32;
        const bool r = rd(MmioReg::QueueReady) != 0;
        if (n != qsize || d != desc || a != avail || u != used || (r && !ready)) {
            track = false;
            qsize = n;
            desc = d;
            avail = a;
            used = u;
            used_seen = ram.get<u16>(used + 2);
        }
        ready = r;
    }

    u32 access(u64 off, bool write, u32 v, u8 width = 4)
    {
        MmioAccess a{};
        a.addr = 0x0a00'0000 + off;
        a.width = width;
        a.write = write;
        a.data = write ? v & mask(width * 8u) : 0xdead'beef;
        const MmioResult r = dev.access(0, off, a);
        const bool handled = off < virtio::kMmioSize &&
                             (off >= virtio::off(MmioReg::Config)
                                  ? (width == 1 || width == 2 || width == 4) && off % width == 0
                                  : width == 4 && off % 4 == 0);
        FUZZ_CHECK((r == MmioResult::Handled) == handled);
        return static_cast<u32>(a.data);
    }
    void wr(MmioReg r, u32 v) { access(virtio::off(r), true, v); }
    u32 rd(MmioReg r) { return access(virtio::off(r), false, 0); }

    // Whether the used ring is the device's alone: a driver may lay its
    // rings over each other or over request buffers, and then the used
    // entries say nothing.
    bool used_ring_private() const
    {
        if (qsize == 0 || qsize > Virtqueue::kMaxSize || !ram.in(used, virtq::used_ring_bytes(qsize)))
            return false;
        const auto apart = [&](u64 a, u64 alen) { return a + alen <= used || used + virtq::used_ring_bytes(qsize) <= a; };
        return apart(desc, virtq::desc_table_bytes(qsize)) && apart(avail, virtq::avail_ring_bytes(qsize)) &&
               apart(kRamBase + 0x8000, kRamSize - 0x8000);
    }

    // Everything the device may write now: the used ring and every buffer
    // the descriptor table names device-writable; and what it may read as
    // OUT data. Accumulates: a chain popped earlier may finish later.
    void name_buffers()
    {
        sync();
        if (qsize == 0 || qsize > Virtqueue::kMaxSize)
            return;
        const u32 ring = static_cast<u32>(virtq::used_ring_bytes(qsize));
        if (named.seen.insert({used, ring, 0x8000}).second) // (flags 0x8000: the used ring)
            named.mark(named.w, used, ring);
        for (u32 i = 0; i < qsize; i++) {
            const u64 d = desc + 16ull * i;
            const u64 addr = ram.get<u64>(d);
            const u32 len = ram.get<u32>(d + 8);
            const u16 flags = ram.get<u16>(d + 12) & virtq::kDescWrite;
            if (named.seen.insert({addr, len, flags}).second)
                named.mark(flags ? named.w : named.r, addr, len);
            // Data the device may write over its own used ring: its entries
            // then say nothing.
            if (flags && addr < used + virtq::used_ring_bytes(qsize) && used < addr + len)
                track = false;
        }
    }
};

u64 gpa(fuzz::Input& in)
{
    switch (in.below(8)) {
    case 0: return in.u64le();
    case 1: return kRamBase + kRamSize - in.byte(); // at the end of RAM
    default: return kRamBase + (in.u16le() % kRamSize);
    }
}

void bring_up(Rig& g, fuzz::Input& in)
{
    using namespace virtio;
    g.wr(MmioReg::Status, 0);
    g.reset_pending = g.rd(MmioReg::Status) != 0; // else complete at once: see below
    g.wr(MmioReg::Status, kStatusAcknowledge);
    g.wr(MmioReg::Status, kStatusAcknowledge | kStatusDriver);
    u64 f = in.below(4) ? (kFVersion1 | virtio_blk::kFSegMax | virtio_blk::kFBlkSize | virtio_blk::kFFlush) : in.u64le();
    g.wr(MmioReg::DriverFeaturesSel, 0);
    g.wr(MmioReg::DriverFeatures, static_cast<u32>(f));
    g.wr(MmioReg::DriverFeaturesSel, 1);
    g.wr(MmioReg::DriverFeatures, static_cast<u32>(f >> 32));
    g.wr(MmioReg::Status, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
    constexpr u32 kSizes[] = {8, 16, 4, 256, 1, 2, 128, 3, 512};
    g.qsize = in.pick(kSizes);
    const u64 base = in.below(4) ? kRamBase + 16 * in.below(64) : gpa(in);
    g.desc = base;
    g.avail = in.below(8) ? base + 16ull * g.qsize : gpa(in);
    g.used = in.below(8) ? align_up(g.avail + 6 + 2ull * g.qsize, 4) : gpa(in);
    g.wr(MmioReg::QueueSel, 0);
    g.wr(MmioReg::QueueNum, g.qsize);
    g.wr(MmioReg::QueueDescLow, static_cast<u32>(g.desc));
    g.wr(MmioReg::QueueDescHigh, static_cast<u32>(g.desc >> 32));
    g.wr(MmioReg::QueueDriverLow, static_cast<u32>(g.avail));
    g.wr(MmioReg::QueueDriverHigh, static_cast<u32>(g.avail >> 32));
    g.wr(MmioReg::QueueDeviceLow, static_cast<u32>(g.used));
    g.wr(MmioReg::QueueDeviceHigh, static_cast<u32>(g.used >> 32));
    g.wr(MmioReg::QueueReady, 1);
    g.wr(MmioReg::Status, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);
    g.avail_idx = g.used_seen = g.next_desc = 0;
    g.ready = g.rd(MmioReg::QueueReady) != 0;
}

void write_desc(Rig& g, u16 i, u64 addr, u32 len, u16 flags, u16 next)
{
    const u64 d = g.desc + 16ull * i;
    g.ram.put<u64>(d, addr);
    g.ram.put<u32>(d + 8, len);
    g.ram.put<u16>(d + 12, flags);
    g.ram.put<u16>(d + 14, next);
}

void offer(Rig& g, u16 head)
{
    if (g.qsize == 0)
        return;
    g.ram.put<u16>(g.avail + 4 + 2ull * (g.avail_idx % g.qsize), head);
    g.avail_idx++;
    g.ram.put<u16>(g.avail + 2, g.avail_idx);
    if (head < g.outstanding.size())
        g.outstanding[head]++;
}

// A request as a driver builds it: header | data | status, the data split
// into up to 4 descriptors, with mistakes now and then.
void request(Rig& g, fuzz::Input& in)
{
    if (g.qsize == 0)
        return;
    constexpr u32 kTypes[] = {virtio_blk::kTIn, virtio_blk::kTOut, virtio_blk::kTFlush, virtio_blk::kTGetId, 7};
    const u32 type = in.pick(kTypes);
    const u64 sector = in.below(4) ? in.below(static_cast<u32>(g.backend.nsect + 2)) : in.u64le();
    const u64 hdr = kRamBase + 0x8000 + 16 * in.below(256);
    g.ram.put<u32>(hdr, type);
    g.ram.put<u32>(hdr + 4, 0);
    g.ram.put<u64>(hdr + 8, sector);
    struct B {
        u64 addr;
        u32 len;
        bool w;
    };
    std::vector<B> bufs;
    bufs.push_back({hdr, in.below(8) ? 16u : in.below(32), in.below(16) == 0});
    const bool in_dir = type == virtio_blk::kTIn || type == virtio_blk::kTGetId;
    for (u32 k = in.below(5); k; k--) {
        const u32 len = in.below(4) ? 512 * (1 + in.below(2)) / (1 + in.below(2)) : in.u32le() % 0x2000;
        bufs.push_back({in.below(8) ? kRamBase + 0xa000 + 8 * in.u16le() % 0x5000 : gpa(in), len,
                        in.below(16) ? in_dir : !in_dir});
    }
    if (in.below(8))
        bufs.push_back({kRamBase + 0x9000 + in.below(256), 1u + (in.below(8) == 0), true});
    const u16 head = static_cast<u16>(g.next_desc % g.qsize);
    for (usize k = 0; k < bufs.size(); k++) {
        const u16 i = static_cast<u16>((g.next_desc + k) % g.qsize);
        const u16 nx = static_cast<u16>((g.next_desc + k + 1) % g.qsize);
        const bool last = k + 1 == bufs.size();
        write_desc(g, i, bufs[k].addr, bufs[k].len,
                   static_cast<u16>((last ? 0 : virtq::kDescNext) | (bufs[k].w ? virtq::kDescWrite : 0)),
                   in.below(32) ? (last ? 0 : nx) : static_cast<u16>(in.u16le()));
    }
    g.next_desc = static_cast<u16>(g.next_desc + bufs.size());
    offer(g, head);
}

// What the device did to guest RAM across one operation.
template <typename Op>
void device_op(Rig& g, Op op)
{
    g.name_buffers();
    const std::vector<u64> before = g.ram.store;
    op();
    const u8* was = reinterpret_cast<const u8*>(before.data());
    if (std::memcmp(was, g.ram.base(), kRamSize) == 0)
        return;
    for (u64 k = 0; k < kRamSize; k += 64) {
        if (std::memcmp(was + k, g.ram.base() + k, 64) == 0)
            continue;
        for (u64 i = k; i < k + 64; i++)
            if (was[i] != g.ram.base()[i] && !g.named.w[i]) {
                std::fprintf(stderr, "device wrote gpa %#llx (desc %#llx avail %#llx used %#llx size %u)\n",
                             static_cast<unsigned long long>(kRamBase + i), static_cast<unsigned long long>(g.desc),
                             static_cast<unsigned long long>(g.avail), static_cast<unsigned long long>(g.used), g.qsize);
                FUZZ_CHECK(!"the device writes only the used ring and buffers named writable");
            }
    }
}

void check(Rig& g)
{
    using namespace virtio;
    const u32 st = g.rd(MmioReg::Status);
    if (g.reset_pending && st == 0) {
        g.named.clear();
        g.reset_pending = false;
    }
    FUZZ_CHECK(!(st & kStatusDriverOk) || (st & kStatusFeaturesOk));
    FUZZ_CHECK(g.line.level == (g.rd(MmioReg::InterruptStatus) != 0));
    g.sync();
    if (!g.track || !g.used_ring_private())
        return;
    const u16 idx = g.ram.get<u16>(g.used + 2);
    for (; g.used_seen != idx; g.used_seen++) {
        const u64 e = g.used + 4 + 8ull * (g.used_seen % g.qsize);
        const u32 id = g.ram.get<u32>(e);
        FUZZ_CHECK(id < g.qsize);
        FUZZ_CHECK(g.outstanding[id] > 0); // returned more often than offered
        g.outstanding[id]--;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size)
{
    fuzz::Input in(data, size);
    Rig g;
    g.backend.ram = &g.ram;
    g.backend.named = &g.named;
    g.backend.nsect = 1 + in.below(64);
    g.backend.disk.assign(g.backend.nsect * 512 + 511, 0); // trailing bytes short of a sector
    g.backend.ro = in.below(4) == 0;
    g.backend.async = in.flag();
    g.backend.room = 1 + in.below(8);
    g.backend.max_segs = 1 + in.below(8);

    while (!in.done()) {
        const u32 op = in.below(16);
        switch (op) {
        case 0: { // any register access
            constexpr u8 kWidths[] = {4, 4, 4, 1, 2, 8};
            const u64 off = in.below(4) ? 4 * in.below(0x90) : in.below(0x210);
            const bool write = in.flag();
            const u32 v = in.u32le();
            const u8 w = in.pick(kWidths);
            device_op(g, [&] { g.access(off, write, v, w); });
            if (write && off == virtio::off(MmioReg::Status) && w == 4 && (v & mask(32)) == 0)
                g.reset_pending = true; // once it is complete, nothing in flight may land
            break;
        }
        case 1:
            device_op(g, [&] { bring_up(g, in); });
            if (!g.reset_pending)
                g.named.clear(); // the bring-up's reset completed at once
            g.ram.put<u16>(g.avail + 2, 0); // fresh rings
            g.ram.put<u16>(g.used + 2, 0);
            std::fill(g.outstanding.begin(), g.outstanding.end(), 0);
            g.track = true;
            break;
        case 2:
            if (g.qsize)
                write_desc(g, static_cast<u16>(in.below(g.qsize)), gpa(in), in.below(4) ? in.u16le() : in.u32le(),
                           static_cast<u16>(in.below(8)), static_cast<u16>(in.below(4) ? in.below(g.qsize + 1) : in.u16le()));
            break;
        case 3:
        case 4:
        case 5: request(g, in); break;
        case 6:
            if (g.qsize)
                offer(g, static_cast<u16>(in.below(4) ? in.below(g.qsize) : in.u16le()));
            break;
        case 7:
        case 8:
        case 9: device_op(g, [&] { g.wr(MmioReg::QueueNotify, in.below(8) ? 0 : in.u32le()); }); break;
        case 10:
            if (in.below(8) == 0) {
                g.backend.broken = in.flag();
                g.backend.can_abandon = in.flag();
            }
            g.backend.finish(1 + in.below(4), in.flag());
            device_op(g, [&] { g.dev.service(); });
            break;
        case 11: g.wr(MmioReg::InterruptAck, in.below(4) ? g.rd(MmioReg::InterruptStatus) : in.u32le()); break;
        case 12: g.ram.put<u16>(g.avail, static_cast<u16>(in.below(4) == 0)); break; // VIRTQ_AVAIL_F_NO_INTERRUPT
        case 13:
            if (in.below(8) == 0) {
                device_op(g, [&] { g.dev.reset(); });
                g.reset_pending = true;
            }
            break;
        case 14:
            if (in.below(8) == 0) { // the driver scribbles on avail.idx
                g.avail_idx = in.u16le();
                g.ram.put<u16>(g.avail + 2, g.avail_idx);
                g.track = false;
            }
            break;
        default:
            if (g.qsize)
                device_op(g, [&] { g.wr(MmioReg::QueueReady, in.flag()); });
            break;
        }
        check(g);
    }
    // A reset completes once what was in flight has come back.
    device_op(g, [&] { g.dev.reset(); });
    for (int i = 0; i < 4 && g.rd(MmioReg::Status) != 0; i++) {
        g.backend.finish(g.backend.in_flight(), false);
        device_op(g, [&] { g.dev.service(); });
    }
    FUZZ_CHECK(g.rd(MmioReg::Status) == 0);
    FUZZ_CHECK(g.backend.in_flight() == 0 && g.blk.in_flight() == 0);
    return 0;
}
