// The hypervisor's own virtio driver queue (drivers/virtio DriverQueue),
// the host-facing side: QEMU's device answers through the used ring, and a
// confused device must not make the driver hand a chain back twice or
// claim more written bytes than the chain had room for.
//
// Input: the queue size, then a program: add() chains (1..n buffers, any
// lengths and directions, empty or misordered ones included), and a device
// that reads the avail ring and writes used entries naming chains in
// flight, finished ones or anything, with any length, moves used.idx
// arbitrarily, and sets VIRTQ_USED_F_NO_NOTIFY; reap() at any time.
// Invariants against a model of the chains in flight: add() refuses exactly
// what it must (no buffers, more than are free, an empty buffer, readable
// after writable) and otherwise publishes one new avail entry; reap()
// returns each added token at most once and only while in flight, with
// written <= the chain's writable bytes; free_descs() + the descriptors in
// flight == size; in_flight() == the model's count.
#include <map>
#include <vector>

#include "drivers/virtio/queue.h"
#include "fuzz.h"

using virtio::DmaBuf;
using virtio::DriverQueue;

namespace {

struct Chain {
    u32 ndesc;
    u32 writable;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size)
{
    fuzz::Input in(data, size);
    constexpr u32 kSizes[] = {8, 1, 2, 4, 16, 256, 3, 0, 512};
    const u32 qsize = in.pick(kSizes);
    std::vector<u64> ring((DriverQueue::ring_bytes(qsize > 256 ? 256 : qsize) + 7) / 8 + 1);
    DriverQueue q;
    const bool ok = q.init(qsize, ring.data());
    FUZZ_CHECK(ok == (qsize && !(qsize & (qsize - 1)) && qsize <= DriverQueue::kMaxSize));
    if (!ok)
        return 0;
    u8* base = reinterpret_cast<u8*>(ring.data());
    u8* used = base + DriverQueue::used_offset(qsize);
    auto used_idx = [&]() -> u16& { return *reinterpret_cast<u16*>(used + 2); };
    const u16* avail = reinterpret_cast<const u16*>(base + DriverQueue::avail_offset(qsize));

    std::map<u64, Chain> in_flight; // token -> chain
    std::map<u16, u64> head_token;  // the device's view: heads it saw offered
    u64 next_token = 1;
    u16 avail_seen = 0;
    u32 descs_in_flight = 0;

    while (!in.done()) {
        switch (in.below(6)) {
        case 0:
        case 1: { // the driver offers a chain
            const u32 n = in.below(6);
            DmaBuf bufs[6];
            bool valid = n > 0 && n <= q.free_descs();
            u32 writable = 0;
            for (u32 i = 0; i < n; i++) {
                bufs[i] = DmaBuf{0x4000'0000 + 0x1000ull * i, in.below(8) ? 512u : in.below(3), in.below(2) != 0};
                if (in.below(4))
                    bufs[i].device_writable = i + 1 == n; // header ... status
                valid = valid && bufs[i].len != 0 && !(i > 0 && !bufs[i].device_writable && bufs[i - 1].device_writable);
                writable += bufs[i].device_writable ? bufs[i].len : 0;
            }
            const u16 before = avail[1];
            const bool added = q.add(bufs, n, next_token);
            FUZZ_CHECK(added == valid);
            if (added) {
                FUZZ_CHECK(avail[1] == static_cast<u16>(before + 1));
                in_flight[next_token] = Chain{n, writable};
                descs_in_flight += n;
                next_token++;
            } else {
                FUZZ_CHECK(avail[1] == before);
            }
            break;
        }
        case 2:
        case 3: { // the device completes something
            while (avail_seen != avail[1]) { // it reads what was offered
                const u16 head = avail[2 + avail_seen % qsize];
                head_token[head] = 0;
                avail_seen++;
            }
            u32 id;
            if (!head_token.empty() && in.below(4)) {
                auto it = head_token.begin();
                std::advance(it, in.below(static_cast<u32>(head_token.size())));
                id = it->first;
                if (in.below(4))
                    head_token.erase(it); // a well-behaved device answers once
            } else {
                id = in.below(4) ? in.below(qsize + 2) : in.u32le();
            }
            const u32 len = in.below(4) ? in.below(2048) : in.u32le();
            u8* e = used + 4 + 8ull * (used_idx() % qsize);
            std::memcpy(e, &id, 4);
            std::memcpy(e + 4, &len, 4);
            used_idx()++;
            break;
        }
        case 4: { // reap
            u64 token = 0;
            u32 written = 0;
            const DriverQueue::Reap r = q.reap(token, written);
            if (r == DriverQueue::Reap::Chain) {
                auto it = in_flight.find(token);
                FUZZ_CHECK(it != in_flight.end()); // returned twice, or never added
                FUZZ_CHECK(written <= it->second.writable);
                descs_in_flight -= it->second.ndesc;
                in_flight.erase(it);
            }
            break;
        }
        default:
            switch (in.below(4)) {
            case 0: used_idx() = static_cast<u16>(used_idx() + in.u16le()); break; // the device jumps ahead
            case 1: *reinterpret_cast<u16*>(used) = in.below(2); break;           // VIRTQ_USED_F_NO_NOTIFY
            case 2: (void)q.needs_notify(); break;
            default: q.set_interrupts(in.flag()); break;
            }
            break;
        }
        FUZZ_CHECK(q.free_descs() + descs_in_flight == qsize);
        FUZZ_CHECK(q.in_flight() == in_flight.size());
        FUZZ_CHECK(q.needs_notify() == !(*reinterpret_cast<u16*>(used) & 1));
    }
    return 0;
}
