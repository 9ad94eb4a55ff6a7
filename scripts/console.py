#!/usr/bin/env python3
"""Attach a terminal to the console of a VM other than the first: its
virtio-serial port, which QEMU serves on 127.0.0.1:5550+N while `make run`
(or run-qemu.sh) runs (docs/multi-vm.md).

    scripts/console.py VM [--port P] [--wait SECONDS]

Waits for the port (QEMU may still be starting), then passes bytes both
ways; the hypervisor replays the VM's recent output on connection. On a
terminal, the keys go to the guest unchanged (raw mode) except Ctrl-] q,
which detaches (Ctrl-] Ctrl-] sends one Ctrl-]). Detaching leaves the VM
running; attach again at any time. Standard library only.
"""
import argparse
import os
import select
import socket
import sys
import termios
import time
import tty

PORT_BASE = 5550  # scripts/machine.py CONSOLE_PORT_BASE
ESCAPE = 0x1D     # Ctrl-]


def connect(port, wait):
    deadline = time.monotonic() + wait
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port))
        except OSError as e:
            if time.monotonic() >= deadline:
                raise SystemExit("console: nothing listens on 127.0.0.1:%d (%s): is the machine running "
                                 "with that VM (make run VMS=2, or a VMCONF with it)?" % (port, e.strerror))
            time.sleep(0.2)


def relay(sock, interactive):
    escape = False
    while True:
        r, _, _ = select.select([sock, sys.stdin.fileno()], [], [])
        if sock in r:
            data = sock.recv(4096)
            if not data:
                return "the VM's console closed (QEMU exited)"
            os.write(sys.stdout.fileno(), data)
        if sys.stdin.fileno() in r:
            data = os.read(sys.stdin.fileno(), 4096)
            if not data:
                return None
            if interactive:
                out = bytearray()
                for b in data:
                    if escape:
                        escape = False
                        if b in (ord("q"), ord("Q")):
                            sock.sendall(bytes(out))
                            return "detached"
                        if b == ESCAPE:
                            out.append(ESCAPE)
                        continue
                    if b == ESCAPE:
                        escape = True
                        continue
                    out.append(b)
                data = bytes(out)
            if data:
                sock.sendall(data)


def main():
    ap = argparse.ArgumentParser(description="Attach to a VM's console port.")
    ap.add_argument("vm", type=int, help="the VM (1-3; VM 0's console is make run's terminal)")
    ap.add_argument("--port", type=int, help="TCP port (default 5550+VM)")
    ap.add_argument("--wait", type=float, default=30, help="seconds to wait for the port (default 30)")
    args = ap.parse_args()
    if args.vm < 1 and args.port is None:
        raise SystemExit("console: VM %d's console is the terminal of make run; give VM=1, 2 or 3" % args.vm)
    port = args.port or PORT_BASE + args.vm
    sock = connect(port, args.wait)
    interactive = os.isatty(sys.stdin.fileno())
    saved = None
    if interactive:
        saved = termios.tcgetattr(sys.stdin.fileno())
        tty.setraw(sys.stdin.fileno())
        os.write(sys.stdout.fileno(), b"console: VM %d on 127.0.0.1:%d (Ctrl-] q detaches)\r\n" % (args.vm, port))
    try:
        why = relay(sock, interactive)
    finally:
        if saved is not None:
            termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)
    if why and interactive:
        print("\nconsole: %s" % why, file=sys.stderr)


if __name__ == "__main__":
    main()
