// virtio block device. See virtio_blk.h.
//
// A request's chain is seen as two byte streams (virtio 1.x 2.7.4: devices
// must not assume any particular split into descriptors):
//   device-readable: header (16 bytes) [+ data for OUT]
//   device-writable: [data for IN / 20-byte ID for GET_ID] + status (1 byte)
// The status byte is the last writable byte; data lengths follow from the
// stream lengths. Extra readable bytes after the header of IN, FLUSH and
// GET_ID are ignored. The data part of a stream goes to the backend as the
// pieces of guest memory it consists of, whatever their sizes: the backend
// sees the guest's buffers, never a copy.
#include "devices/virtio_blk.h"

#include "stat_counter.h"

using namespace virtio_blk;

namespace {

// The host address of byte `pos` of a stream, or nullptr if it is not mapped.
u8* stream_byte(const VqChain& c, bool writable, u64 pos)
{
    u8* at = nullptr;
    c.for_each_piece(writable, pos, 1, [&](u8* host, u64, u64) {
        at = host;
        return true;
    });
    return at;
}

} // namespace

// ---- MemoryBlockBackend -----------------------------------------------------

BlockBackend::Start MemoryBlockBackend::start(const BlockRequest& r)
{
    if (r.op == BlockRequest::Op::Flush)
        return Start::Done;
    const u64 n = r.bytes / kSectorSize;
    if (r.bytes % kSectorSize || n > sectors_ || r.sector > sectors_ - n)
        return Start::Failed;
    u8* disk = data_ + r.sector * kSectorSize;
    u64 done = 0;
    for (u32 i = 0; i < r.nseg; i++) {
        const BlockSeg& s = r.seg[i];
        if (s.len > r.bytes - done)
            return Start::Failed;
        if (r.op == BlockRequest::Op::Read)
            __builtin_memcpy(s.host, disk + done, s.len);
        else
            __builtin_memcpy(disk + done, s.host, s.len);
        done += s.len;
    }
    return done == r.bytes ? Start::Done : Start::Failed;
}

// ---- VirtioBlk: configuration ----------------------------------------------

u64 VirtioBlk::features() const
{
    return virtio::kFVersion1 | kFSegMax | kFBlkSize | kFFlush | (backend_.read_only() ? kFRo : 0);
}

u32 VirtioBlk::seg_max() const
{
    const u32 b = backend_.max_segments();
    return b < kSegMax ? b : kSegMax;
}

u32 VirtioBlk::config_read(u32 offset, u8 width)
{
    u8 cfgspace[kConfigModelled] = {};
    const auto put = [&](Config field, u64 v, u32 n) {
        for (u32 i = 0; i < n; i++)
            cfgspace[off(field) + i] = static_cast<u8>(v >> (8 * i));
    };
    put(Config::Capacity, capacity(), 8);
    put(Config::SegMax, seg_max(), 4);
    put(Config::BlkSize, backend_.block_size(), 4);
    u32 v = 0;
    for (u32 i = 0; i < width; i++)
        if (offset + i < kConfigModelled)
            v |= u32{cfgspace[offset + i]} << (8 * i);
    return v;
}

// ---- VirtioBlk: the queue ----------------------------------------------------

// The driver gave its buffers up. A chain that waited for room is
// dropped; requests in the backend may still be reading or writing guest
// buffers the driver is about to reuse, so the reset is done only when
// they are over (settle()).
bool VirtioBlk::reset()
{
    held_ = false;
    return settle();
}

bool VirtioBlk::settle()
{
    drop_finished();
    if (in_flight_ > 0 && (backend_.failed() || backend_.overdue()) && backend_.abandon())
        drop_finished();
    return in_flight_ == 0;
}

void VirtioBlk::drop_finished()
{
    BlockBackend::Completion c;
    while (in_flight_ > 0 && backend_.next_completion(c))
        retire(c);
}

// A completion of ours: no longer in flight, counted. nullptr if the tag
// names nothing in flight (the backend checks its tags, so never seen).
VirtioBlk::Pending* VirtioBlk::retire(const BlockBackend::Completion& c)
{
    if (c.tag >= kQueueSize || !pending_[c.tag].busy)
        return nullptr;
    Pending& p = pending_[c.tag];
    p.busy = false;
    in_flight_--;
    account(p.type, c.ok ? kSOk : kSIoErr, p.bytes);
    return &p;
}

u32 VirtioBlk::process_queue(u32, Virtqueue& vq, const GuestMemory& mem)
{
    u32 pushed = 0;
    for (;;) {
        if (!held_) {
            if (vq.pop(mem, chain_) != Virtqueue::Pop::Chain)
                break;
            held_ = true;
        }
        u32 used_len = 0;
        const Outcome o = start(chain_, used_len);
        if (o == Outcome::Wait) {
            stat_add(stats_.waits);
            break;  // keep the chain: complete() makes room, service() retries
        }
        held_ = false;
        if (o == Outcome::BreaksQueue) {
            vq.mark_broken();
            break;
        }
        if (o == Outcome::Complete) {
            if (!vq.push(mem, chain_.head, used_len))
                break;  // cannot happen: enable() checked the used ring
            pushed++;
        }
    }
    backend_.kick();
    return pushed;
}

u32 VirtioBlk::complete(u32, Virtqueue& vq, const GuestMemory& mem)
{
    u32 pushed = 0;
    BlockBackend::Completion c;
    while (in_flight_ > 0 && backend_.next_completion(c)) {
        const Pending* p = retire(c);
        if (!p || !vq.ready() || vq.broken())
            continue;  // the driver gave the queue up; it resets before reuse
        *p->status = c.ok ? kSOk : kSIoErr;
        if (vq.push(mem, c.tag, c.ok ? p->used_len : 1))
            pushed++;
    }
    return pushed;
}

// ---- VirtioBlk: one request --------------------------------------------------

VirtioBlk::Outcome VirtioBlk::start(const VqChain& c, u32& used_len)
{
    used_len = 0;
    // Without a known shape there is no status byte we could trust.
    if (!c.shaped() || c.writable == 0) {
        stat_add(stats_.errors);
        return Outcome::Complete;
    }
    u8* status = stream_byte(c, true, c.writable - 1);
    if (!status) {
        stat_add(stats_.errors);  // the status byte itself is outside guest RAM
        return Outcome::Complete;
    }
    if (c.head < kQueueSize && pending_[c.head].busy)
        return Outcome::BreaksQueue;
    used_len = 1;
    ReqHeader h{};
    u64 bytes = 0;  // data moved, for the statistics
    u8 st = kSIoErr;
    Outcome out = Outcome::Complete;
    if (c.error == ChainError::None && c.readable >= kHeaderBytes && c.read_stream(0, &h, sizeof h)) {
        switch (h.type) {
        case kTIn:
        case kTOut:
        case kTFlush: st = start_io(c, h.type, h.sector, status, out, used_len, bytes); break;
        case kTGetId: {
            u8 id[kIdBytes] = {};
            for (u32 i = 0; i < kIdBytes && serial_ && serial_[i]; i++)
                id[i] = static_cast<u8>(serial_[i]);
            if (c.writable - 1 >= kIdBytes && c.write_stream(0, id, kIdBytes)) {
                st = kSOk;
                used_len = kIdBytes + 1;
            }
            break;
        }
        default: st = kSUnsupp; break;
        }
    }
    if (out != Outcome::Complete)
        return out;
    *status = st;
    account(h.type, st, bytes);
    return Outcome::Complete;
}

// IN, OUT and FLUSH: checks the request, hands it to the backend, and says
// (in `out`) whether it finished, started or must wait. Returns the status
// of a request that finished.
u8 VirtioBlk::start_io(const VqChain& c, u32 type, u64 sector, u8* status, Outcome& out, u32& used_len, u64& bytes)
{
    out = Outcome::Complete;
    bytes = 0;
    BlockRequest r{.op = BlockRequest::Op::Flush, .sector = 0, .bytes = 0, .seg = seg_, .nseg = 0, .tag = c.head};
    if (type != kTFlush) {
        const bool in = type == kTIn;
        r.op = in ? BlockRequest::Op::Read : BlockRequest::Op::Write;
        r.sector = sector;
        r.bytes = in ? c.writable - 1 : c.readable - kHeaderBytes;
        const u64 cap = capacity();
        const u64 nsect = r.bytes / kSectorSize;
        // used.len is 32 bits: a larger IN could not even be reported.
        if (r.bytes % kSectorSize || r.bytes >= 0xffff'ffffu || sector > cap || nsect > cap - sector ||
            (!in && backend_.read_only()))
            return kSIoErr;
        if (r.bytes == 0)
            return kSOk;  // nothing to move; the range is still checked
        const u32 limit = seg_max();
        const bool mapped = c.for_each_piece(in, in ? 0 : kHeaderBytes, r.bytes, [&](u8* host, u64 n, u64) {
            if (r.nseg == limit)
                return false;
            seg_[r.nseg++] = {host, static_cast<u32>(n)};
            return true;
        });
        if (!mapped)
            return kSIoErr;
        used_len = in ? static_cast<u32>(r.bytes) + 1 : 1;
    }
    bytes = r.bytes;
    switch (backend_.start(r)) {
    case BlockBackend::Start::Done: return kSOk;
    case BlockBackend::Start::Failed: return kSIoErr;
    case BlockBackend::Start::Queued:
        pending_[c.head] = {.status = status, .used_len = used_len, .bytes = r.bytes, .type = type, .busy = true};
        in_flight_++;
        stat_add(stats_.queued);
        if (in_flight_ > stats_.max_in_flight)
            stat_add(stats_.max_in_flight, in_flight_ - stats_.max_in_flight);
        out = Outcome::Started;
        return kSOk;
    case BlockBackend::Start::Busy:
        // Room comes with a completion; with nothing in flight none will.
        if (backend_.in_flight() == 0)
            return kSIoErr;
        out = Outcome::Wait;
        return kSOk;
    }
    return kSIoErr;
}

void VirtioBlk::account(u32 type, u8 status, u64 bytes)
{
    if (status == kSIoErr)
        stat_add(stats_.errors);
    else if (status == kSUnsupp)
        stat_add(stats_.unsupported);
    if (type == kTFlush)
        stat_add(stats_.flushes);  // every flush, whatever its outcome
    if (status != kSOk)
        return;
    switch (type) {
    case kTIn:
        stat_add(stats_.reads);
        stat_add(stats_.bytes_read, bytes);
        break;
    case kTOut:
        stat_add(stats_.writes);
        stat_add(stats_.bytes_written, bytes);
        break;
    case kTGetId: stat_add(stats_.get_ids); break;
    default: break;
    }
}

VirtioBlk::Stats VirtioBlk::stats() const { return stat_snapshot(stats_); }
