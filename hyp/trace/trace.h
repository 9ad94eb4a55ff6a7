// The hypervisor's event trace (docs/tracing.md): each pCPU appends records
// to its own ring (trace_ring.h), without locks, time-stamped with the
// physical counter. Off unless the hypervisor was started with trace=1
// (make run TRACE=1); then every trace point costs a counter read and a
// 32-byte store, and with it off, one load and a not-taken branch.
#pragma once
#include "trace/trace_format.h"
#include "types.h"

struct Vcpu;

namespace trace {

// Bit n: TraceType n is recorded. 0: tracing is off.
extern u32 g_events;

inline bool on(TraceType t) { return __builtin_expect((g_events >> static_cast<u32>(t)) & 1, 0); }

// Appends a record to this pCPU's ring (call only when on(t)); `vm` names
// the VM when there is no vCPU (kTraceNone: neither).
void emit(TraceType t, const Vcpu* v, u32 a, u64 b, u64 c, u8 vm = kTraceNone);

// The events named in `spec` ("all", or a comma-separated list of
// TraceType names such as "GuestEnter,SgiSend"); false if a name is unknown.
bool parse_events(const char* spec, u32& mask);
const char* type_name(TraceType t);

// Boot: give pCPUs 0..npcpus-1 their rings and start recording the events
// in `mask`.
void start(u32 mask, u32 npcpus);

// Where a dump goes: put() takes all n bytes or fails (the channel is gone).
class Sink {
public:
    virtual bool put(const void* p, usize n) = 0;

protected:
    ~Sink() = default;
};

// What a dump wrote.
struct DumpResult {
    bool ok;        // the sink took everything
    u64 records;
    u64 dropped;    // overwritten before the dump, summed over pCPUs
};

// Writes the dump (trace_format.h) of every pCPU's ring to `out`. Recording
// pauses meanwhile and resumes after; the rings keep their records, so a
// later dump holds them again. Call with no other dump under way.
DumpResult dump(Sink& out);

} // namespace trace

// A trace point: a not-taken branch while tracing is off. The arguments are
// evaluated either way, so they must be cheap (values at hand).
inline void trace_event(TraceType t, const Vcpu* v, u32 a = 0, u64 b = 0, u64 c = 0)
{
    if (trace::on(t))
        trace::emit(t, v, a, b, c);
}
