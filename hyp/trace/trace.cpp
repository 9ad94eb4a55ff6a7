#include "trace/trace.h"

#include "core/options.h"
#include "vm/arch.h"
#include "vm/pcpu.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

namespace trace {

u32 g_events;

namespace {

u32 g_npcpus;

struct Name {
    TraceType type;
    const char* name;
};

constexpr Name kNames[] = {
    {TraceType::GuestEnter, "GuestEnter"}, {TraceType::ExitSync, "ExitSync"},
    {TraceType::ExitIrq, "ExitIrq"},       {TraceType::ExitOther, "ExitOther"},
    {TraceType::Mmio, "Mmio"},             {TraceType::SwitchIn, "SwitchIn"},
    {TraceType::SwitchOut, "SwitchOut"},   {TraceType::Block, "Block"},
    {TraceType::Wake, "Wake"},             {TraceType::SgiSend, "SgiSend"},
    {TraceType::IrqDeliver, "IrqDeliver"}, {TraceType::IrqAck, "IrqAck"},
    {TraceType::IrqDone, "IrqDone"},       {TraceType::KickSend, "KickSend"},
    {TraceType::KickRecv, "KickRecv"},     {TraceType::Psci, "Psci"},
    {TraceType::BlkSubmit, "BlkSubmit"},   {TraceType::BlkComplete, "BlkComplete"},
    {TraceType::Idle, "Idle"},             {TraceType::IdleEnd, "IdleEnd"},
    {TraceType::VmState, "VmState"},
};

u32 all_events()
{
    u32 m = 0;
    for (const Name& n : kNames)
        m |= 1u << static_cast<u32>(n.type);
    return m;
}

bool same(const char* a, usize n, const char* lit)
{
    usize i = 0;
    for (; i < n; i++)
        if (lit[i] != a[i])
            return false;
    return lit[i] == '\0';
}

} // namespace

const char* type_name(TraceType t)
{
    for (const Name& n : kNames)
        if (n.type == t)
            return n.name;
    return "?";
}

bool parse_events(const char* spec, u32& mask)
{
    mask = 0;
    for (const char* p = spec; *p;) {
        const char* e = p;
        while (*e && *e != ',')
            e++;
        const usize n = static_cast<usize>(e - p);
        if (same(p, n, "all")) {
            mask |= all_events();
        } else {
            bool found = false;
            for (const Name& k : kNames)
                if (same(p, n, k.name)) {
                    mask |= 1u << static_cast<u32>(k.type);
                    found = true;
                }
            if (!found)
                return false;
        }
        p = *e ? e + 1 : e;
    }
    return mask != 0;
}

void start(u32 mask, u32 npcpus)
{
    g_npcpus = npcpus < kMaxPcpus ? npcpus : kMaxPcpus;
    for (u32 p = 0; p < g_npcpus; p++) {
        u32 n = 0;
        TraceRecord* storage = arch::trace_storage(p, n);
        g_pcpus[p].trace.init(storage, n);
    }
    __atomic_store_n(&g_events, mask, __ATOMIC_RELEASE);
}

namespace {

void copy_name(char* dst, usize size, const char* src)
{
    usize i = 0;
    for (; src && src[i] && i + 1 < size; i++)
        dst[i] = src[i];
    for (; i < size; i++)
        dst[i] = '\0';
}

u32 count_names()
{
    u32 n = 0;
    for (u32 m = 0; m < g_nvms; m++)
        n += g_vms[m].bus.count();
    return n;
}

} // namespace

DumpResult dump(Sink& out)
{
    DumpResult r{};
    // Pause: a trace point that already passed its check may still be
    // storing its record; it lands at its ring's head, which the snapshot
    // of `head` below leaves out (see skip).
    const u32 mask = __atomic_exchange_n(&g_events, 0u, __ATOMIC_ACQ_REL);
    TraceDumpHeader h{};
    __builtin_memcpy(h.magic, kTraceMagic, sizeof h.magic);
    h.version = kTraceVersion;
    h.npcpus = g_npcpus;
    h.freq = arch::ticks_per_second();
    h.nvms = g_nvms;
    h.nnames = count_names();
    h.mode = static_cast<u32>(g_options.mode);
    h.events = mask;
    bool ok = out.put(&h, sizeof h);
    for (u32 m = 0; ok && m < g_nvms; m++) {
        const MmioBus& bus = g_vms[m].bus;
        for (unsigned i = 0; ok && i < bus.count(); i++) {
            TraceName n{.vm = static_cast<u8>(m), .range = static_cast<u8>(i), .name = {}};
            copy_name(n.name, sizeof n.name, bus.range(i).dev->name());
            ok = out.put(&n, sizeof n);
        }
    }
    for (u32 p = 0; ok && p < g_npcpus; p++) {
        const TraceRing& ring = g_pcpus[p].trace;
        const TraceRing::Snapshot s = ring.snapshot();
        // A full ring's oldest slot is the one a store still in flight
        // would overwrite: leave it out rather than risk a torn record.
        const u32 skip = s.dropped ? 1 : 0;
        const TracePcpuHeader ph{.pcpu = p, .count = s.count - skip, .dropped = s.dropped + skip};
        ok = out.put(&ph, sizeof ph);
        // Oldest first, in at most two runs (the ring wraps once).
        for (u32 i = skip; ok && i < s.count;) {
            const TraceRecord* run = nullptr;
            const u32 n = ring.run(s, i, run);
            ok = out.put(run, usize{n} * sizeof(TraceRecord));
            i += n;
        }
        r.records += ph.count;
        r.dropped += ph.dropped;
    }
    r.ok = ok;
    __atomic_store_n(&g_events, mask, __ATOMIC_RELEASE);
    return r;
}

void emit(TraceType t, const Vcpu* v, u32 a, u64 b, u64 c, u8 vm)
{
    TraceRing& ring = this_pcpu().trace;
    if (!ring.ready())
        return;
    ring.push(TraceRecord{
        .ts = arch::now(),
        .type = static_cast<u16>(t),
        .vm = v ? static_cast<u8>(v->vm->id) : vm,
        .vcpu = v ? static_cast<u8>(v->id) : kTraceNone,
        .a = a,
        .b = b,
        .c = c,
    });
}

} // namespace trace
