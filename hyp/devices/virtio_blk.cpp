// virtio block device. See virtio_blk.h.
//
// A request's chain is seen as two byte streams (virtio 1.x 2.7.4: devices
// must not assume any particular split into descriptors):
//   device-readable: header (16 bytes) [+ data for OUT]
//   device-writable: [data for IN / 20-byte ID for GET_ID] + status (1 byte)
// The status byte is the last writable byte; data lengths follow from the
// stream lengths. Extra readable bytes after the header of IN, FLUSH and
// GET_ID are ignored.
#include "devices/virtio_blk.h"

using namespace virtio_blk;

bool MemoryBlockBackend::read(u64 sector, void* buf, u64 count)
{
    if (!in_range(sector, count))
        return false;
    __builtin_memcpy(buf, data_ + sector * kSectorSize, count * kSectorSize);
    return true;
}

bool MemoryBlockBackend::write(u64 sector, const void* buf, u64 count)
{
    if (!in_range(sector, count))
        return false;
    __builtin_memcpy(data_ + sector * kSectorSize, buf, count * kSectorSize);
    return true;
}

u64 VirtioBlk::features() const
{
    return virtio::kFVersion1 | kFSegMax | kFBlkSize | kFFlush;
}

u32 VirtioBlk::config_read(u32 offset, u8 width)
{
    u8 cfgspace[kConfigModelled] = {};
    const auto put = [&](u32 off, u64 v, u32 n) {
        for (u32 i = 0; i < n; i++)
            cfgspace[off + i] = static_cast<u8>(v >> (8 * i));
    };
    put(off(Config::Capacity), capacity(), 8);
    put(off(Config::SegMax), kSegMax, 4);
    put(off(Config::BlkSize), kSectorSize, 4);
    u32 v = 0;
    for (u32 i = 0; i < width; i++)
        if (offset + i < kConfigModelled)
            v |= u32{cfgspace[offset + i]} << (8 * i);
    return v;
}

u32 VirtioBlk::process_queue(u32, Virtqueue& vq, const GuestMemory& mem)
{
    u32 done = 0;
    for (;;) {
        const Virtqueue::Pop r = vq.pop(mem, chain_);
        if (r != Virtqueue::Pop::Chain)
            return done;
        const u32 len = execute(chain_);
        if (!vq.push(mem, chain_.head, len))
            return done;  // cannot happen: enable() checked the used ring
        done++;
    }
}

u32 VirtioBlk::execute(const VqChain& c)
{
    // Without a known shape there is no status byte we could trust.
    if (!c.shaped() || c.writable == 0) {
        stats_.errors++;
        return 0;
    }
    u64 written = 0;
    const u8 status = do_request(c, written);
    if (!c.write_stream(c.writable - 1, &status, 1)) {
        stats_.errors++;  // the status byte itself is outside guest RAM
        return 0;
    }
    if (status == kSIoErr)
        stats_.errors++;
    else if (status == kSUnsupp)
        stats_.unsupported++;
    return static_cast<u32>(written + 1);
}

u8 VirtioBlk::do_request(const VqChain& c, u64& written)
{
    written = 0;
    if (c.error != ChainError::None || c.readable < kHeaderBytes)
        return kSIoErr;
    u8 hdr[kHeaderBytes];
    if (!c.read_stream(0, hdr, kHeaderBytes))
        return kSIoErr;
    u32 type = 0;
    u64 sector = 0;
    for (u32 i = 0; i < 4; i++)
        type |= u32{hdr[i]} << (8 * i);
    for (u32 i = 0; i < 8; i++)
        sector |= u64{hdr[8 + i]} << (8 * i);

    switch (type) {
    case kTIn: {
        const u64 bytes = c.writable - 1;
        const u8 s = transfer(c, true, sector, bytes);
        if (s == kSOk) {
            written = bytes;
            stats_.reads++;
            stats_.bytes_read += bytes;
        }
        return s;
    }
    case kTOut: {
        const u64 bytes = c.readable - kHeaderBytes;
        const u8 s = transfer(c, false, sector, bytes);
        if (s == kSOk) {
            stats_.writes++;
            stats_.bytes_written += bytes;
        }
        return s;
    }
    case kTFlush:
        stats_.flushes++;
        return backend_.flush() ? kSOk : kSIoErr;
    case kTGetId: {
        if (c.writable - 1 < kIdBytes)
            return kSIoErr;
        u8 id[kIdBytes] = {};
        for (u32 i = 0; i < kIdBytes && serial_ && serial_[i]; i++)
            id[i] = static_cast<u8>(serial_[i]);
        if (!c.write_stream(0, id, kIdBytes))
            return kSIoErr;
        written = kIdBytes;
        stats_.get_ids++;
        return kSOk;
    }
    default: return kSUnsupp;
    }
}

// Moves `bytes` between the disk at `sector` and the data part of the
// chain: the writable stream from 0 (IN) or the readable stream after the
// header (OUT). Whole sectors of a buffer go straight between the backend
// and guest memory; a sector split across buffers goes through bounce_.
u8 VirtioBlk::transfer(const VqChain& c, bool to_guest, u64 sector, u64 bytes)
{
    if (bytes % kSectorSize)
        return kSIoErr;
    const u64 cap = capacity();
    const u64 nsect = bytes / kSectorSize;
    if (sector > cap || nsect > cap - sector)
        return kSIoErr;
    cur_sector_ = sector;
    bounce_pos_ = 0;
    bounce_full_ = false;
    const bool ok = c.for_each_piece(to_guest, to_guest ? 0 : kHeaderBytes, bytes, [&](u8* host, u64 n, u64) {
        return to_guest ? read_piece(host, n) : write_piece(host, n);
    });
    // The stream is whole sectors, so a successful walk leaves no partial
    // sector behind in bounce_.
    return ok && bounce_pos_ == 0 ? kSOk : kSIoErr;
}

bool VirtioBlk::read_piece(u8* dst, u64 n)
{
    while (n) {
        if (!bounce_full_ && n >= kSectorSize) {
            const u64 k = n / kSectorSize;
            if (!backend_.read(cur_sector_, dst, k))
                return false;
            cur_sector_ += k;
            dst += k * kSectorSize;
            n -= k * kSectorSize;
            continue;
        }
        if (!bounce_full_) {
            if (!backend_.read(cur_sector_, bounce_, 1))
                return false;
            cur_sector_++;
            bounce_full_ = true;
            bounce_pos_ = 0;
        }
        const u64 m = kSectorSize - bounce_pos_ < n ? kSectorSize - bounce_pos_ : n;
        __builtin_memcpy(dst, bounce_ + bounce_pos_, m);
        dst += m;
        n -= m;
        bounce_pos_ += static_cast<u32>(m);
        if (bounce_pos_ == kSectorSize) {
            bounce_full_ = false;
            bounce_pos_ = 0;
        }
    }
    return true;
}

bool VirtioBlk::write_piece(const u8* src, u64 n)
{
    while (n) {
        if (bounce_pos_ == 0 && n >= kSectorSize) {
            const u64 k = n / kSectorSize;
            if (!backend_.write(cur_sector_, src, k))
                return false;
            cur_sector_ += k;
            src += k * kSectorSize;
            n -= k * kSectorSize;
            continue;
        }
        const u64 m = kSectorSize - bounce_pos_ < n ? kSectorSize - bounce_pos_ : n;
        __builtin_memcpy(bounce_ + bounce_pos_, src, m);
        src += m;
        n -= m;
        bounce_pos_ += static_cast<u32>(m);
        if (bounce_pos_ == kSectorSize) {
            if (!backend_.write(cur_sector_, bounce_, 1))
                return false;
            cur_sector_++;
            bounce_pos_ = 0;
        }
    }
    return true;
}

VirtioBlk::Stats VirtioBlk::stats() const
{
    Stats s;
    __builtin_memcpy(&s, &stats_, sizeof s);
    return s;
}
