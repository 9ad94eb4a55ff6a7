// The trace rings' memory (hyp/trace): 4 MiB per pCPU, about a whole Linux
// boot's exits and entries per pCPU, in a section of its own that is never
// zeroed and lies outside the image boot.S cleans from the caches (link.ld).
#include "config.h"
#include "trace/trace_format.h"
#include "vm/arch.h"

namespace {
constexpr u32 kTraceRecordsPerPcpu = 128 * 1024;
[[gnu::section(".trace")]] TraceRecord g_trace_storage[kMaxPcpus][kTraceRecordsPerPcpu];
} // namespace

TraceRecord* arch::trace_storage(u32 pcpu, u32& n)
{
    n = kTraceRecordsPerPcpu;
    return g_trace_storage[pcpu];
}
