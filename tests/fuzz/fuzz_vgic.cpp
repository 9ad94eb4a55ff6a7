// The virtual GICv3: GICD and GICR register files, SPI routing, trapped
// ICC_SGI1R_EL1 writes, device inputs, and every vCPU's fold/flush with a
// fake list-register file that a fake guest acknowledges and deactivates.
//
// Input: vCPU count, SPI count, MPIDR layout (flat, clustered, Aff0 past
// 15, random), LRs per vCPU, then a program: MMIO accesses of any width
// (structured registers or any offset) from a vCPU (a trap: it exits
// first), SPI levels and pulses, private edges and PPI lines (the timers
// 26 and 27 with HW=1),
// SGIs, guest entry, acknowledge, deactivate, exit, WFI (block until a
// kick), the scheduler's re-check, CPU_ON's reset_vcpu and a full reset.
// At the end the guest enables and routes everything and drains.
//
// Reference model, per interrupt: a pending latch raised by edges, SGIs and
// GICD/GICR_ISPENDR writes and cleared by ICPENDR and by the guest's
// acknowledge, plus a count of deliveries a race legitimately allows (an
// event meeting the interrupt pending in the LR of a vCPU in the guest,
// which may have acknowledged it first; a line-pending interrupt made
// edge-triggered). Invariants:
//  * no duplicate: the guest acknowledges an edge only when it was raised
//    (a level interrupt also while its line is high);
//  * no loss: after the drain nothing raised is still pending;
//  * no lost wake-up: an interrupt a vCPU could take is never hidden by the
//    quiet fast path or by spi_dirty, and a blocked vCPU's has_pending()
//    turns true only after its event count moved;
//  * every flushed LR file is legal: each INTID once, pending only if
//    enabled and its group enabled, an SPI pending only where it is routed
//    and resident in one running vCPU at most, priority and group as
//    programmed;
//  * ICC_SGI1R_EL1 targets match the affinity-routing rules, and SGI
//    sent/received counters agree.
#include <memory>
#include <vector>

#include "fuzz.h"
#include "vgic/list_regs.h"
#include "vgic/regs.h"
#include "vgic/routing.h"
#include "vgic/vgic.h"

using namespace vgic;

namespace vgic {
struct VgicTestPeer {
    static VgicState& state(Vgic& g) { return g.s_; }
};
} // namespace vgic

namespace {

constexpr u32 kKeys = kMaxVcpus * kNumPrivate + kMaxSpis;
u32 key(u32 v, u32 intid) { return intid < kNumPrivate ? v * kNumPrivate + intid : kMaxVcpus * kNumPrivate + intid - kNumPrivate; }

struct Kicks final : Notifier {
    void kick(u32) override {}
};

u8 lr_st(u64 lr) { return lr_state(lr); }

struct World {
    Vgic vg;
    Kicks kicks;
    u32 n = 4, nr_spis = 96;
    u64 mpidr[kMaxVcpus]{};
    LrFile lrf[kMaxVcpus]{};
    bool in_guest[kMaxVcpus]{};
    bool blocked[kMaxVcpus]{};
    u32 seen_events[kMaxVcpus]{};
    // The model.
    bool mp[kKeys]{};
    u32 maybe[kKeys]{};
    bool line[kKeys]{}; // device lines: SPIs and the PPIs' level sources

    VgicState& s() { return VgicTestPeer::state(vg); }
    bool is_spi(u32 intid) const { return intid >= kNumPrivate && intid - kNumPrivate < nr_spis; }

    // Pending in the LR of a vCPU that runs: the guest may take it at any time.
    bool pending_in_running_lr(u32 v, u32 intid)
    {
        for (u32 w = 0; w < n; w++) {
            if (!in_guest[w] || (intid < kNumPrivate && w != v))
                continue;
            for (unsigned k = 0; k < lrf[w].num; k++)
                if ((lr_st(lrf[w].lr[k]) & kStatePending) && lr_vintid(lrf[w].lr[k]) == intid)
                    return true;
        }
        return false;
    }
    void raise(u32 v, u32 intid)
    {
        const u32 k = key(v, intid);
        if (pending_in_running_lr(v, intid))
            maybe[k]++;
        mp[k] = true;
    }
    void clear_pending(u32 v, u32 intid)
    {
        const u32 k = key(v, intid);
        if (pending_in_running_lr(v, intid))
            maybe[k]++;
        mp[k] = false;
    }

    u64 mmio(MmioDevice& d, u64 off, u64 v, u8 width, bool write)
    {
        MmioAccess a{};
        a.addr = off;
        a.width = width;
        a.write = write;
        a.sf = true;
        a.data = write ? v & mask(width * 8u) : 0;
        FUZZ_CHECK(d.access(0, off, a) == MmioResult::Handled); // RAZ/WI, never an abort
        return a.data;
    }
    void gicd(u64 off, u64 v, u8 width = 4) { mmio(vg.distributor(), off, v, width, true); }
    void gicr_sgi(u32 v, u64 off, u64 val) { mmio(vg.redistributors(), v * kGicrStride + kGicrSgiFrame + off, val, 4, true); }

    // A trapped access: the vCPU leaves the guest first.
    void exit(u32 v)
    {
        if (in_guest[v]) {
            vg.fold(v, lrf[v]);
            in_guest[v] = false;
        }
    }
    void enter(u32 v)
    {
        if (in_guest[v] || blocked[v])
            return;
        vg.flush(v, lrf[v]);
        in_guest[v] = true;
        check_lrs(v);
    }

    void guest_ack(u32 v, unsigned k)
    {
        u64& lr = lrf[v].lr[k];
        if (lr_st(lr) != kStatePending)
            return;
        const u32 intid = lr_vintid(lr);
        lr = (lr & ~(u64{3} << kLrStateShift)) | u64{kStateActive} << kLrStateShift;
        const u32 kk = key(v, intid);
        const IrqState& i = s().irq(v, intid);
        if (mp[kk])
            mp[kk] = false;
        else if (maybe[kk])
            maybe[kk]--;
        else
            FUZZ_CHECK(!i.edge && line[kk]); // delivered twice
    }
    void guest_deactivate(u32 v, unsigned k)
    {
        u64& lr = lrf[v].lr[k];
        if (lr_st(lr) & kStateActive)
            lr &= ~(u64{kStateActive} << kLrStateShift);
    }

    void check_lrs(u32 v)
    {
        const LrFile& f = lrf[v];
        const u32 ctl = s().ctlr_now();
        for (unsigned k = 0; k < f.num; k++) {
            const u64 lr = f.lr[k];
            if (lr_st(lr) == 0)
                continue;
            const u32 intid = lr_vintid(lr);
            FUZZ_CHECK(intid < kNumPrivate || is_spi(intid));
            for (unsigned j = 0; j < k; j++)
                FUZZ_CHECK(lr_st(f.lr[j]) == 0 || lr_vintid(f.lr[j]) != intid); // one LR per INTID
            const IrqState& i = s().irq(v, intid);
            FUZZ_CHECK(static_cast<u8>(lr >> kLrPriorityShift) == i.priority);
            FUZZ_CHECK(((lr & kLrGroup) != 0) == i.group1);
            if (lr_st(lr) & kStatePending) {
                FUZZ_CHECK(VgicState::forwarded(i, ctl));
                if (intid >= kNumPrivate && !(lr_st(lr) & kStateActive))
                    FUZZ_CHECK(i.target == v);
            }
            if (intid >= kNumPrivate) // resident in one running vCPU only
                for (u32 w = 0; w < n; w++)
                    if (w != v && in_guest[w])
                        for (unsigned j = 0; j < lrf[w].num; j++)
                            FUZZ_CHECK(lr_st(lrf[w].lr[j]) == 0 || lr_vintid(lrf[w].lr[j]) != intid);
        }
    }

    // Nothing the guest could take is hidden from the next flush.
    void check_wakeups()
    {
        for (u32 v = 0; v < n; v++) {
            LrFile none{};
            none.num = 0;
            const bool all = lr_has_pending(s(), v, none, Scope::All);
            const bool priv = lr_has_pending(s(), v, none, Scope::PrivateOnly);
            if (all)
                FUZZ_CHECK(!vg.quiet(v, lrf[v])); // the fast path would skip it
            if (all && !priv)
                FUZZ_CHECK(s().spi_resident(v) || (s().spi_dirty & bit(v))); // the SPIs would not be looked at
            if (blocked[v] && vg.events(v) == seen_events[v])
                FUZZ_CHECK(!vg.has_pending(v, lrf[v])); // pending without a kick: a lost wake-up
        }
        u64 sent = 0, received = 0;
        for (u32 v = 0; v < n; v++) {
            sent += vg.sgi_sent(v);
            received += vg.sgi_received(v);
        }
        FUZZ_CHECK(sent == received);
    }

    // Edge-triggered or not, per model key.
    void edges(bool (&e)[kKeys])
    {
        for (u32 v = 0; v < n; v++)
            for (u32 i = 0; i < kNumPrivate; i++)
                e[key(v, i)] = s().vcpu[v].priv[i].edge;
        for (u32 i = 0; i < nr_spis; i++)
            e[key(0, kNumPrivate + i)] = s().spi[i].edge;
    }
    bool was_edge[kKeys]{}, now_edge[kKeys]{};

    // GICD/GICR_ISPENDR and ICPENDR writes change the model.
    void model_pending_write(bool dist, u64 at, u8 width, u64 value)
    {
        if (width != 4 || at % 4)
            return;
        const u32 val = static_cast<u32>(value);
        if (dist) {
            if (at < off(Gicd::Ispendr) || at >= off(Gicd::Isactiver))
                return;
            const bool set = at < off(Gicd::Icpendr);
            const u32 first = static_cast<u32>(at % kBitBankSize) / 4 * 32;
            for (u32 b = 0; b < 32; b++)
                if ((val & (1u << b)) && is_spi(first + b)) {
                    if (set)
                        raise(0, first + b);
                    else
                        clear_pending(0, first + b);
                }
            return;
        }
        const u64 frame = at / kGicrStride, in = at % kGicrStride;
        if (frame >= n || in < kGicrSgiFrame)
            return;
        const u64 sgi = in - kGicrSgiFrame;
        if (sgi != off(GicrSgi::Ispendr0) && sgi != off(GicrSgi::Icpendr0))
            return;
        for (u32 b = 0; b < 32; b++)
            if (val & (1u << b)) {
                if (sgi == off(GicrSgi::Ispendr0))
                    raise(static_cast<u32>(frame), b);
                else
                    clear_pending(static_cast<u32>(frame), b);
            }
    }
};

u32 sgi_targets_reference(u64 value, u32 sender, const u64* mpidr, u32 n)
{
    u32 t = 0;
    for (u32 v = 0; v < n; v++) {
        if (value & bit(40)) {
            t |= v != sender ? 1u << v : 0;
            continue;
        }
        const u64 m = mpidr[v];
        const bool same = ((m >> 8) & 0xff) == ((value >> 16) & 0xff) && ((m >> 16) & 0xff) == ((value >> 32) & 0xff) &&
                          ((m >> 32) & 0xff) == ((value >> 48) & 0xff);
        const u32 aff0 = m & 0xff;
        if (same && aff0 >> 4 == ((value >> 44) & 0xf) && (value & (1u << (aff0 & 15))))
            t |= 1u << v;
    }
    return t;
}

u64 sgi_value(World& w, fuzz::Input& in, u32 intid)
{
    if (in.below(8) == 0)
        return in.u64le();
    const u64 m = w.mpidr[in.below(w.n)];
    u64 v = u64{intid} << 24 | ((m >> 8) & 0xff) << 16 | ((m >> 16) & 0xff) << 32 | ((m >> 32) & 0xff) << 48 |
            ((m & 0xff) >> 4) << 44 | in.u16le();
    if (in.below(8) == 0)
        v |= bit(40);
    return v;
}

u64 gicd_offset(World& w, fuzz::Input& in)
{
    switch (in.below(8)) {
    case 0: return off(Gicd::Ctlr);
    case 1: return off(Gicd::Igroupr) + 0x80 * in.below(7) + 4 * in.below(1 + w.nr_spis / 32 + 1);
    case 2: return off(Gicd::Ipriorityr) + 32 + in.below(w.nr_spis + 4);
    case 3: return off(Gicd::Icfgr) + 4 * in.below(2 + w.nr_spis / 16 + 1);
    case 4: return off(Gicd::Irouter) + 8 * (32 + in.below(w.nr_spis + 1)) + 4 * in.below(2);
    case 5: return off(Gicd::Ispendr) + 4 + 4 * in.below(w.nr_spis / 32 + 1);
    default: return in.u16le();
    }
}

u64 gicr_offset(World& w, fuzz::Input& in)
{
    const u64 frame = in.below(w.n + 1) * kGicrStride;
    switch (in.below(6)) {
    case 0: return frame + off(Gicr::Waker) + 8 * in.below(2) - 8 * in.below(2);
    case 1: return frame + kGicrSgiFrame + off(GicrSgi::Igroupr0) + 0x80 * in.below(7);
    case 2: return frame + kGicrSgiFrame + off(GicrSgi::Ipriorityr) + in.below(33);
    case 3: return frame + kGicrSgiFrame + off(GicrSgi::Icfgr0) + 4 * in.below(2);
    case 4: return frame + kGicrSgiFrame + off(GicrSgi::Ispendr0) + 0x80 * in.below(2);
    default: return in.u32le() % (w.n * kGicrStride + 0x100);
    }
}

u32 value_for(fuzz::Input& in)
{
    switch (in.below(4)) {
    case 0: return 0xffff'ffff;
    case 1: return 1u << in.below(32);
    case 2: return 0xa0a0'a0a0 & in.u32le();
    default: return in.u32le();
    }
}

// The guest enables and routes everything and takes all there is.
void drain(World& w)
{
    for (u32 v = 0; v < w.n; v++) {
        w.exit(v);
        w.blocked[v] = false;
    }
    w.gicd(off(Gicd::Ctlr), kCtlrEnableGrp0 | kCtlrEnableGrp1);
    for (u32 word = 1; word <= w.nr_spis / 32 + 1; word++) {
        w.gicd(off(Gicd::Isenabler) + 4 * word, 0xffff'ffff);
        w.gicd(off(Gicd::Icactiver) + 4 * word, 0xffff'ffff);
    }
    for (u32 i = 32; i < 32 + w.nr_spis; i++) {
        const u64 m = w.mpidr[i % w.n];
        w.gicd(off(Gicd::Irouter) + 8 * i, (m & 0xff'ffff) | ((m >> 32) & 0xff) << 32, 8);
    }
    for (u32 v = 0; v < w.n; v++) {
        w.gicr_sgi(v, off(GicrSgi::Isenabler0), 0xffff'ffff);
        w.gicr_sgi(v, off(GicrSgi::Icactiver0), 0xffff'ffff);
    }
    // One interrupt per LR per round at least: with a single LR, every
    // interrupt pending at once takes a round.
    for (u32 round = 0; round < kKeys + 64; round++) {
        bool busy = false;
        for (u32 v = 0; v < w.n; v++) {
            w.exit(v);
            w.enter(v);
            for (unsigned k = 0; k < w.lrf[v].num; k++) {
                const u64 lr = w.lrf[v].lr[k];
                if (lr_st(lr) == 0)
                    continue;
                busy = true;
                w.guest_deactivate(v, k);
                const u32 intid = lr_vintid(lr);
                if (lr_st(w.lrf[v].lr[k]) == kStatePending) {
                    w.guest_ack(v, k);
                    w.guest_deactivate(v, k);
                    // The handler quietens the device.
                    w.line[key(v, intid)] = false;
                    if (w.is_spi(intid))
                        w.vg.set_spi_level(intid, false);
                    else if (intid >= 16)
                        w.vg.set_private_line(v, intid, false, w.s().vcpu[v].priv[intid].hw);
                }
            }
            busy |= (w.lrf[v].hcr & kHcrUie) != 0;
        }
        w.check_wakeups();
        if (!busy)
            break;
    }
    for (u32 k = 0; k < kKeys; k++)
        FUZZ_CHECK(!w.mp[k]); // raised, enabled, routed, and never delivered
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const u8* data, usize size)
{
    fuzz::Input in(data, size);
    const std::unique_ptr<World> wp = std::make_unique<World>(); // fresh each time: reproducible
    World& w = *wp;
    w.n = 1 + in.below(kMaxVcpus);
    constexpr u32 kSpis[] = {96, 32, 64, 988, 0, 1, 33};
    w.nr_spis = in.pick(kSpis);
    const u32 layout = in.below(4);
    for (u32 v = 0; v < w.n; v++) {
        switch (layout) {
        case 0: w.mpidr[v] = 0x8000'0000 | v; break;
        case 1: w.mpidr[v] = 0x8000'0000 | v << 8; break;         // one cluster each
        case 2: w.mpidr[v] = 0x8000'0000 | (16 * v + 3); break;  // Aff0 past 15: RS
        default: w.mpidr[v] = (in.byte() | u64{in.below(2)} << 8 | u64{in.below(2)} << 32); break;
        }
        for (u32 j = 0; j < v; j++)
            if ((w.mpidr[j] & 0xff'00ff'ffff) == (w.mpidr[v] & 0xff'00ff'ffff)) {
                w.mpidr[v] += 0x1'0000;
                j = ~0u;
            }
    }
    w.vg.init(w.n, w.nr_spis, w.mpidr, &w.kicks);
    w.nr_spis = w.vg.nr_spis();
    const unsigned nlr = in.below(4) ? 4 : 1 + in.below(kMaxLrs);
    for (u32 v = 0; v < kMaxVcpus; v++) {
        w.lrf[v] = LrFile{};
        w.lrf[v].num = nlr;
        w.in_guest[v] = w.blocked[v] = false;
        w.seen_events[v] = 0;
    }
    std::memset(w.mp, 0, sizeof w.mp);
    std::memset(w.maybe, 0, sizeof w.maybe);
    std::memset(w.line, 0, sizeof w.line);
    if (in.flag()) { // start from what Linux sets up
        w.gicd(off(Gicd::Ctlr), kCtlrEnableGrp1);
        for (u32 word = 1; word <= w.nr_spis / 32 + 1; word++) {
            w.gicd(off(Gicd::Igroupr) + 4 * word, 0xffff'ffff);
            w.gicd(off(Gicd::Isenabler) + 4 * word, 0xffff'ffff);
        }
        for (u32 v = 0; v < w.n; v++) {
            w.gicr_sgi(v, off(GicrSgi::Igroupr0), 0xffff'ffff);
            w.gicr_sgi(v, off(GicrSgi::Isenabler0), 0xffff'ffff);
        }
    }

    while (!in.done()) {
        const u32 v = in.below(w.n);
        switch (in.below(16)) {
        case 0:
        case 1: { // MMIO from vCPU v
            if (w.blocked[v])
                break;
            w.exit(v);
            const bool dist = in.flag();
            const u64 at = dist ? gicd_offset(w, in) : gicr_offset(w, in);
            constexpr u8 kWidths[] = {4, 4, 4, 8, 1, 2};
            const u8 width = in.pick(kWidths);
            const bool write = in.below(4) != 0;
            const u64 value = width == 8 ? in.u64le() : value_for(in);
            if (write)
                w.model_pending_write(dist, at, width, value);
            w.edges(w.was_edge);
            w.mmio(dist ? w.vg.distributor() : w.vg.redistributors(), at, value, width, write);
            // An interrupt made edge-triggered while pending from its line
            // (ICFGR of an enabled interrupt: UNPREDICTABLE in the GIC
            // architecture) may still be delivered once.
            w.edges(w.now_edge);
            for (u32 k = 0; k < kKeys; k++)
                if (w.now_edge[k] && !w.was_edge[k])
                    w.maybe[k]++;
            break;
        }
        case 2: { // a device line
            const u32 intid = 32 + in.below(w.nr_spis + 2);
            const bool level = in.flag();
            if (w.is_spi(intid)) {
                bool& l = w.line[key(0, intid)];
                if (level && !l && w.s().spi[intid - kNumPrivate].edge)
                    w.raise(0, intid);
                if (!level && l && w.pending_in_running_lr(0, intid))
                    w.maybe[key(0, intid)]++;
                l = level;
            }
            w.vg.set_spi_level(intid, level);
            break;
        }
        case 3: {
            const u32 intid = 32 + in.below(w.nr_spis + 2);
            if (w.is_spi(intid))
                w.raise(0, intid);
            w.vg.pulse_spi(intid);
            break;
        }
        case 4: { // a private interrupt: an edge on any SGI/PPI, or a PPI's line (the timers: HW)
            if (in.flag()) {
                const u32 intid = in.below(kNumPrivate);
                w.raise(v, intid);
                w.vg.set_private_pending(v, intid);
                break;
            }
            const u32 intid = in.flag() ? 27 : 16 + in.below(16);
            const bool level = in.flag();
            bool& l = w.line[key(v, intid)];
            if (level && !l && w.s().vcpu[v].priv[intid].edge)
                w.raise(v, intid);
            if (!level && l && w.pending_in_running_lr(v, intid))
                w.maybe[key(v, intid)]++;
            l = level;
            w.vg.set_private_line(v, intid, level, intid == 27 || intid == 26);
            break;
        }
        case 5: { // ICC_SGI1R_EL1 from a running vCPU
            if (w.blocked[v])
                break;
            w.exit(v);
            const u32 intid = in.below(16);
            const u64 value = sgi_value(w, in, intid);
            const u32 want = sgi_targets_reference(value, v, w.mpidr, w.n);
            for (u32 t = 0; t < w.n; t++)
                if (want & (1u << t))
                    w.raise(t, static_cast<u32>((value >> 24) & 15));
            FUZZ_CHECK(w.vg.send_sgi(v, value) == want);
            break;
        }
        case 6:
        case 7: w.enter(v); break;
        case 8:
        case 9:
            if (w.in_guest[v])
                w.guest_ack(v, in.below(w.lrf[v].num));
            break;
        case 10:
            if (w.in_guest[v])
                w.guest_deactivate(v, in.below(w.lrf[v].num));
            break;
        case 11: w.exit(v); break;
        case 12: // WFI: block unless something is pending
            if (w.in_guest[v]) {
                w.exit(v);
                w.seen_events[v] = w.vg.events(v);
                w.blocked[v] = !w.vg.has_pending(v, w.lrf[v]);
            }
            break;
        case 13: // the scheduler looks at a blocked vCPU whose events moved
            if (w.blocked[v] && w.vg.events(v) != w.seen_events[v]) {
                w.seen_events[v] = w.vg.events(v);
                w.blocked[v] = !w.vg.has_pending(v, w.lrf[v]);
            }
            break;
        case 14: // CPU_ON: the vCPU starts afresh
            if (in.below(4) == 0) {
                w.exit(v);
                w.blocked[v] = false;
                w.vg.reset_vcpu(v, w.lrf[v]);
                for (u32 i = 0; i < kNumPrivate; i++) {
                    w.mp[key(v, i)] = false;
                    w.maybe[key(v, i)] = 0;
                    w.line[key(v, i)] = w.vg.private_line(v, i);
                }
            }
            break;
        default:
            if (in.below(16) == 0) { // SYSTEM_RESET
                for (u32 u = 0; u < w.n; u++) {
                    w.exit(u);
                    w.blocked[u] = false;
                }
                w.vg.reset();
                std::memset(w.mp, 0, sizeof w.mp);
                std::memset(w.maybe, 0, sizeof w.maybe);
                for (u32 u = 0; u < w.n; u++) // what the reset keeps of the lines
                    for (u32 i = 0; i < kNumPrivate; i++)
                        w.line[key(u, i)] = w.vg.private_line(u, i);
                for (u32 i = 0; i < w.nr_spis; i++)
                    w.line[key(0, kNumPrivate + i)] = w.s().spi[i].line;
            }
            break;
        }
        w.check_wakeups();
    }
    drain(w);
    return 0;
}
