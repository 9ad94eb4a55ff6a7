// The virtio-serial ports the hypervisor itself drives: QEMU virtio-serial
// devices whose port 1 a host program reaches through a TCP socket (the
// guest gdb stub's channel "hyp.gdb", the consoles of VMs other than the
// first "hyp.vm<N>", the event trace's "hyp.trace", which QEMU writes to a
// file; scripts/run-qemu.sh and scripts/machine.py add them).
// They are told apart by the port's name, since the order in which QEMU
// lays out its transports is no contract. None is ever mapped for a guest.
#pragma once
#include "drivers/virtio/console.h"
#include "fdt/host_platform.h"

// Who owns a port: its events (bytes from the host, the host connecting)
// and its device interrupt, on which it must call port.poll().
class SerialPortUser : public virtio::ConsolePort::Events {
public:
    virtual void irq(virtio::ConsolePort& port) = 0;

protected:
    ~SerialPortUser() = default;
};

// Boot, primary pCPU: claims every virtio-serial device, brings its port 1
// up and learns its name. Returns nullptr, or a one-line error.
const char* serial_ports_probe(const HostPlatform& host);
// The port named `name`, now owned by `user`, its interrupt routed to
// `pcpu`; nullptr if QEMU has no such port. Boot time.
virtio::ConsolePort* serial_port_open(const char* name, SerialPortUser& user, u32 pcpu);
