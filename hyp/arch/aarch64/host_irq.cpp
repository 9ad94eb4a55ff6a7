// Handlers for the physical SPIs of the hypervisor's own devices. See host_irq.h.
#include "host_irq.h"

#include "gic.h"
#include "vm/pcpu.h"

namespace {
constexpr u32 kMaxHandlers = 8;
constexpr u8 kPriority = 0x80;  // the same as every other physical interrupt

struct Entry {
    u32 intid;
    HostIrqHandler fn;
    void* ctx;
};
Entry g_handlers[kMaxHandlers];
u32 g_count;
} // namespace

bool host_irq_attach(u32 intid, u32 pcpu, HostIrqHandler fn, void* ctx)
{
    if (g_count == kMaxHandlers || intid < 32 || intid >= gic::kSpurious || pcpu >= kMaxPcpus || !fn)
        return false;
    g_handlers[g_count++] = {intid, fn, ctx};
    gic::route_spi(intid, g_pcpus[pcpu].mpidr, kPriority);
    return true;
}

bool host_irq_dispatch(u32 intid)
{
    for (u32 i = 0; i < g_count; i++) {
        if (g_handlers[i].intid == intid) {
            g_handlers[i].fn(intid, g_handlers[i].ctx);
            return true;
        }
    }
    return false;
}
