// See serial_ports.h.
#include "serial_ports.h"

#include "config.h"
#include "drivers/virtio/transport.h"
#include "host_irq.h"
#include "log.h"
#include "virtio_devices.h"
#include "vm/arch.h"

namespace {

constexpr u32 kPort = 1;  // the port number run-qemu.sh gives (virtserialport nr=1)
constexpr u32 kMaxPorts = kMaxVms + 1;  // a console per VM but the first, the gdb stub, the trace

// Forwards a port's events to its owner, once it has one.
class Forward final : public virtio::ConsolePort::Events {
public:
    void rx(const u8* p, usize n) override
    {
        if (user)
            user->rx(p, n);
    }
    void host_open(bool open) override
    {
        if (user)
            user->host_open(open);
    }
    SerialPortUser* user = nullptr;
};

struct Slot {
    MmioRegWindow window{};
    virtio::Transport transport{window};
    Forward ev{};
    virtio::ConsolePort port{transport, kPort, ev};
    const VirtioSlot* slot = nullptr;
};

constinit Slot g_ports[kMaxPorts];
u32 g_nports;

unsigned long long ull(u64 v) { return static_cast<unsigned long long>(v); }

bool same(const char* a, const char* b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

void port_irq(u32, void* ctx)
{
    Slot& s = *static_cast<Slot*>(ctx);
    if (s.ev.user)
        s.ev.user->irq(s.port);
}

} // namespace

const char* serial_ports_probe(const HostPlatform& host)
{
    for (;;) {
        const VirtioSlot* slot = nullptr;
        switch (virtio_claim(host, virtio::kDeviceConsole, slot)) {
        case VirtioClaim::None: return nullptr;
        case VirtioClaim::Legacy:
            return "a virtio-serial device has legacy registers: run QEMU with "
                   "-global virtio-mmio.force-legacy=false (scripts/run-qemu.sh does)";
        case VirtioClaim::Found: break;
        }
        if (g_nports == kMaxPorts)
            return "more virtio-serial devices than the hypervisor drives (a console per VM but the first, "
                   "the gdb stub and the trace)";
        Slot& s = g_ports[g_nports++];
        s.slot = slot;
        s.window.set_base(slot->base);
        const virtio::Setup r = s.port.init();
        if (r != virtio::Setup::Ok) {
            hyp_log("virtio-serial at 0x%llx: %s", ull(slot->base), virtio::setup_name(r));
            return "a virtio-serial device could not be set up; it needs port 1 (virtserialport nr=1)";
        }
        // QEMU answers DEVICE_READY at once (DEVICE_ADD, then the port's
        // name); the bound is for a device that never adds our port.
        const u64 deadline = arch::now() + arch::ticks_per_second();
        while (!(s.port.opened() && s.port.name()[0]) && arch::now() < deadline)
            s.port.poll();
        if (!s.port.opened())
            return "a virtio-serial device has no port 1: add -device virtserialport,nr=1,name=... "
                   "(scripts/run-qemu.sh does)";
    }
}

virtio::ConsolePort* serial_port_open(const char* name, SerialPortUser& user, u32 pcpu)
{
    for (u32 i = 0; i < g_nports; i++) {
        Slot& s = g_ports[i];
        if (s.ev.user || !same(s.port.name(), name))
            continue;
        s.ev.user = &user;
        if (!host_irq_attach(s.slot->intid, pcpu, port_irq, &s))
            return nullptr;
        hyp_log("serial port %s: virtio-serial at 0x%llx, INTID %u -> pCPU %u", name, ull(s.slot->base),
                s.slot->intid, pcpu);
        return &s.port;
    }
    return nullptr;
}
