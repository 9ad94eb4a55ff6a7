// See trace_port.h. The dump format is trace_format.h's; scripts/trace.py
// reads it.
#include "trace_port.h"

#include "core/options.h"
#include "log.h"
#include "serial_ports.h"
#include "spinlock.h"
#include "trace/trace.h"
#include "vm/arch.h"
#include "vm/vm.h"

namespace {

// The port's interrupt goes here; any pCPU may dump (the one that stops
// the last VM, the console's for Ctrl-] t), under g_lock.
constexpr u32 kPortPcpu = 0;

class PortUser final : public SerialPortUser {
public:
    void rx(const u8*, usize) override {}  // the host has nothing to say
    void host_open(bool) override {}
    void irq(virtio::ConsolePort& port) override;
};

constinit Spinlock g_lock;
constinit PortUser g_user;
virtio::ConsolePort* g_port;

void PortUser::irq(virtio::ConsolePort& port)
{
    LockGuard g(g_lock);
    port.poll();
}

// Feeds the port's transmit buffers, taking back the ones QEMU is done
// with (it writes a buffer out when notified). A port that stops taking
// bytes for a second is given up on: a dump must not hang the machine.
class PortSink final : public trace::Sink {
public:
    explicit PortSink(virtio::ConsolePort& port) : port_(port) {}
    bool put(const void* p, usize n) override
    {
        const u8* b = static_cast<const u8*>(p);
        u64 deadline = arch::now() + arch::ticks_per_second();
        while (n) {
            const usize took = port_.write(b, n);
            b += took;
            n -= took;
            if (took) {
                deadline = arch::now() + arch::ticks_per_second();
                continue;
            }
            port_.reclaim();
            if (arch::now() > deadline)
                return false;
        }
        return true;
    }

private:
    virtio::ConsolePort& port_;
};

unsigned long long ull(u64 v) { return static_cast<unsigned long long>(v); }

} // namespace

const char* trace_setup(const HostPlatform& host)
{
    if (!g_options.trace)
        return nullptr;
    u32 mask = 0;
    if (!trace::parse_events(g_options.trace_events, mask))
        return "trace_events= names an unknown event: use all or names from docs/tracing.md "
               "(GuestEnter, ExitSync, SwitchIn, SgiSend, IrqDeliver, ...)";
    g_port = serial_port_open("hyp.trace", g_user, kPortPcpu);
    if (!g_port)
        return "trace=1 but QEMU has no virtio-serial port named hyp.trace: use make run TRACE=1 "
               "(scripts/run-qemu.sh adds it)";
    trace::start(mask, host.ncpus);
    u32 n = 0;
    arch::trace_storage(0, n);
    hyp_log("trace: recording events %s (mask 0x%x), %u records per pCPU; dumped to port hyp.trace at "
            "power-off and on Ctrl-] t",
            g_options.trace_events, mask, n);
    return nullptr;
}

void arch::trace_dump(const char* why)
{
    if (!g_port)
        return;
    trace::DumpResult r;
    {
        LockGuard g(g_lock);
        PortSink sink(*g_port);
        r = trace::dump(sink);
    }
    if (r.ok)
        hyp_log("trace: dumped %llu records (%llu dropped) to port hyp.trace (%s)", ull(r.records), ull(r.dropped),
                why);
    else
        hyp_log("trace: port hyp.trace stopped taking the dump (%s): the trace file is incomplete", why);
}
