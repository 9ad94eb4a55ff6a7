#!/usr/bin/env python3
"""System test of the hypervisor's guest gdb stub (GDB=1), in one mode.

Boots the guest with the stub on a free local port and checks, with real
gdb-multiarch driven through a pty, what issue 5 asks of it: 4 threads, a
breakpoint on the uname system call, by name from the real System.map
(make guest-symbols), hit on the vCPU that ran uname (pinned
with taskset), info registers, x/4gx $sp, stepi, continue, and a shell that
still answers. Then, with a raw protocol client (rsp_client.py), the
malformed and interrupted sessions gdb itself never produces: garbage, bad
checksums, an overlong packet, a truncated one, Ctrl-C, a connection
dropped in the middle of a packet and one dropped while the guest runs
with a breakpoint inserted. Also: the guest's own BRKs (a kprobe) still
work while the debugger owns the debug hardware, and guest time stands
still while the guest is stopped.

Prints "ok - [mode] ..." / "not ok - [mode] ..." lines for tests/run_all.py.

    tests/system/test_guest_gdb.py --mode single --build build
"""
import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import BAD, Checks, free_port, hyp_search, last_line  # noqa: E402
from qemu_console import QemuConsole, ConsoleError  # noqa: E402
from rsp_client import RspClient, RspError, frame  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# A BRK of the guest's that we failed to give back would show up as this.
BAD_HERE = re.compile(BAD.pattern + r"|Unexpected kernel BRK", BAD.flags)
SYMBOL = "__arm64_sys_newuname"  # the uname system call
PIN_CPU = 2                       # uname runs on guest CPU 2: gdb thread 3
STOP_SECONDS = 8                  # how long the guest stays stopped for the time check


class Gdb:
    """gdb-multiarch on a pty, one command at a time."""
    PROMPT = r"\(gdb\) "

    def __init__(self, port, log, before=()):
        # TERM=dumb: no colours, no bracketed-paste escapes in the output.
        # `before`: gdb commands to run before connecting.
        pre = [x for cmd in before for x in ("-ex", cmd)]
        self.c = QemuConsole(["gdb-multiarch", "-q", "-nx", "-ex", "set pagination off", "-ex", "set confirm off",
                              "-ex", "set width 0", "-ex", "set style enabled off"] + pre +
                             ["-ex", "target remote :%d" % port], log_path=log, eol="\n",
                             env=dict(os.environ, TERM="dumb"))
        self.c.expect(self.PROMPT, timeout=60)
        self.first = self.c.output

    def cmd(self, line, timeout=60):
        start = len(self.c.output)
        self.c.send(line)
        self.c.expect(self.PROMPT, timeout=timeout)
        out = self.c.output[start:]
        return out.replace("\r", "")

    def close(self):
        self.c.kill()


def system_map_address(build, name):
    """NAME's address in the real System.map (make guest-symbols), or None."""
    try:
        with open(os.path.join(build, "guest", "System.map")) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[2] == name and parts[1] in ("t", "T"):
                    return int(parts[0], 16)
    except OSError:
        pass
    return None


def gdb_session(t, con, port, addr, logdir, build):
    g = Gdb(port, os.path.join(logdir, "guest-gdb-%s.log" % t.mode))
    try:
        out = g.cmd("info threads")
        threads = re.findall(r"^\*?\s+(\d+)\s+Thread (?:1\.)?(\d+) \(vCPU (\d+) on pCPU (\d+)", out, re.M)
        t.check("info threads lists 4 threads, one per vCPU", len(threads) == 4 and
                [int(x[2]) for x in threads] == [0, 1, 2, 3], out)

        # As a user would: the symbol file made from System.map, then a
        # breakpoint by name (the * puts it on the first instruction rather
        # than after what gdb takes for the prologue).
        elf = os.path.join(build, "guest", "System.map.elf")
        out = g.cmd("symbol-file %s" % elf)
        t.check("gdb loads the kernel's symbols (symbol-file %s)" % os.path.relpath(elf, ROOT),
                "Reading symbols from" in out and "No such file" not in out, out)
        out = g.cmd("break *%s" % SYMBOL)
        t.check("break *%s resolves to its System.map address 0x%x" % (SYMBOL, addr),
                re.search(r"Breakpoint 1 at 0x%x\b" % addr, out) is not None, out)
        g.c.send("continue")
        g.c.expect(r"Continuing\.", timeout=30)
        time.sleep(1)
        con.send("taskset -c %d uname -a" % PIN_CPU)
        try:
            m = g.c.expect(r"Thread (\d+) hit Breakpoint 1, (0x[0-9a-f]+) in (\S+) \(\)", timeout=120)
            g.c.expect(Gdb.PROMPT, timeout=30)
            hit_thread, hit_pc = int(m.group(1)), int(m.group(2), 16)
        except ConsoleError as e:
            hit_thread, hit_pc = None, None
            t.check("breakpoint on %s is hit when uname runs" % SYMBOL, False, str(e)[-600:])
            return
        t.check("breakpoint on %s is hit when uname runs" % SYMBOL, hit_pc == addr and m.group(3) == SYMBOL,
                m.group(0))
        t.check("it is hit on thread %d, the vCPU uname was pinned to" % (PIN_CPU + 1), hit_thread == PIN_CPU + 1,
                "thread %d" % hit_thread)

        out = g.cmd("info registers")
        regs = dict(re.findall(r"^(\w+)\s+(0x[0-9a-f]+)", out, re.M))
        t.check("info registers shows x0-x30, sp, pc and cpsr", all(("x%d" % i) in regs for i in range(31)) and
                "sp" in regs and regs.get("pc") == "0x%x" % addr and "cpsr" in regs, out[-400:])
        sp = int(regs.get("sp", "0"), 16)
        out = g.cmd("x/4gx $sp")
        rows = re.findall(r"^(0x[0-9a-f]+):\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)", out, re.M)
        t.check("x/4gx $sp reads the vCPU's stack", len(rows) == 2 and int(rows[0][0], 16) == sp, out)

        insn = g.cmd("x/i $pc")
        target = re.search(r":\s+b(?:l)?\s+(0x[0-9a-f]+)", insn)
        g.cmd("stepi")
        out = g.cmd("p/x $pc")
        m = re.search(r"= (0x[0-9a-f]+)", out)
        pc = int(m.group(1), 16) if m else -1
        want = int(target.group(1), 16) if target else addr + 4
        t.check("stepi executes one instruction (pc 0x%x -> 0x%x)" % (addr, pc), pc == want, insn + out)
        out = g.cmd("info threads")
        t.check("after stepi the same thread is current", re.search(r"^\*\s+%d\s+Thread" % (PIN_CPU + 1), out, re.M)
                is not None, out)

        # continue: the guest goes on (the first uname finishes) and runs the
        # next command, which stops at the breakpoint again.
        g.c.send("continue")
        g.c.expect(r"Continuing\.", timeout=30)
        time.sleep(1)
        con.send("uname -r")
        try:
            g.c.expect(r"hit Breakpoint 1, 0x%x" % addr, timeout=120)
            g.c.expect(Gdb.PROMPT, timeout=30)
            again = True
        except ConsoleError:
            again = False
        t.check("continue: the guest runs the next uname, which hits the breakpoint again", again)
        g.cmd("delete")
        g.c.send("detach")
        g.c.expect(r"Detaching|detached", timeout=30)
        g.c.send("quit")
        g.c.wait_exit(30)
    finally:
        g.close()
    try:
        con.expect(r"Linux guest 6\.\S+ .*aarch64", timeout=60)
        con.expect(r"\n6\.1\.\S+", timeout=60)
        got = True
    except ConsoleError:
        got = False
    t.check("both uname commands completed after detach", got)
    rc, out = con.run("echo responsive", timeout=60)
    t.check("the shell still answers", last_line(out) == "responsive", repr(out))


def protocol_session(t, con, port, addr):
    c = RspClient(port)
    try:
        c.send_raw(b"+noise before any packet\r\n")
        r = c.command("qSupported:swbreak+;hwbreak+")
        t.check("garbage before the first packet is ignored; qSupported answers", r.startswith("PacketSize=1000;"), r)
        c.send_raw(b"$qC#00")
        t.check("a bad checksum gets a nak", c.read_byte() == b"-")
        c.send_raw(frame("M0,1:" + "0" * 6000))
        t.check("an overlong packet gets a nak", c.read_byte() == b"-")
        c.send_raw(b"$mffff8000080")
        r = c.command("qC")
        t.check("a truncated packet is dropped at the next one", re.fullmatch(r"QC[1-4]", r) is not None, r)
        t.check("an unknown command gets the empty reply", c.command("Jbogus") == "")
        t.check("a bad address reads as E14", c.command("m8,4") == "E14")
        t.check("bad hex is an error reply", c.command("mzz,4") == "E01")
        g = c.command("g")
        t.check("the register packet has gdb's AArch64 layout (788 bytes)", len(g) == 2 * 788, str(len(g)))

        c.send_packet("vCont;c")
        rc, out = con.run("echo running-attached", timeout=60)
        t.check("the guest runs while gdb is attached and continuing", last_line(out) == "running-attached", out)
        # The guest's own BRKs (kprobes here) still work while the debugger
        # owns the debug hardware: they are given back to the guest.
        rc, out = con.run("mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null; "
                          "echo 'p:hypgdb %s+8' > /sys/kernel/tracing/kprobe_events && "
                          "echo 1 > /sys/kernel/tracing/events/kprobes/hypgdb/enable && "
                          "uname -r >/dev/null && grep -c hypgdb /sys/kernel/tracing/trace; "
                          "echo 0 > /sys/kernel/tracing/events/kprobes/hypgdb/enable; "
                          "echo > /sys/kernel/tracing/kprobe_events" % SYMBOL, timeout=60)
        hits = re.findall(r"^(\d+)$", out, re.M)
        t.check("a guest kprobe (its own BRK) fires while attached", hits and int(hits[0]) >= 1, out)

        # Guest time across a stop of STOP_SECONDS: read before and after.
        rc, up0 = con.run("cat /proc/uptime", timeout=60)
        w0 = time.monotonic()
        c.interrupt()
        r = c.read_packet(timeout=60)
        t.check("Ctrl-C stops the guest with a T02 stop reply naming a thread",
                re.match(r"T02thread:[1-4];", r) is not None, r)
        time.sleep(STOP_SECONDS)
        c.send_raw(b"$m0,4")  # and the connection goes away in mid-packet
        c.close()
        rc, out = con.run("echo after-disconnect", timeout=60)
        t.check("a connection dropped in mid-packet leaves the guest running",
                last_line(out) == "after-disconnect", out)
        rc, up1 = con.run("cat /proc/uptime", timeout=60)
        wall = time.monotonic() - w0
        try:
            advanced = float(up1.split()[0]) - float(up0.split()[0])
        except (ValueError, IndexError):
            advanced = -1
        # Running, the guest's uptime would have moved on with the wall
        # clock; stopped, by what ran around the stop only. The slack covers
        # console latency, which is not measured on the same clock.
        t.check("guest time stood still while stopped (uptime +%.1f s over %.1f s, %d s of them stopped)"
                % (advanced, wall, STOP_SECONDS), 0 <= advanced < wall - (STOP_SECONDS - 3), "%s / %s" % (up0, up1))

        c = RspClient(port)
        r = c.command("qSupported")
        t.check("a new connection works", r.startswith("PacketSize="), r)
        r = c.command("?")
        t.check("the new connection stopped the guest (? -> T05)", re.match(r"T05thread:[1-4];", r) is not None, r)
        t.check("insert a breakpoint on %s" % SYMBOL, c.command("Z0,%x,4" % addr) == "OK")
        c.send_packet("vCont;c")
        time.sleep(0.5)
        c.close()  # gone while running, breakpoint inserted
        rc, out = con.run("uname -r", timeout=60)
        t.check("after a disconnect while running, the breakpoint is gone and uname completes",
                re.search(r"^6\.1\.", out, re.M) is not None, out)
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="multi", choices=["multi", "single"])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--boot-timeout", type=int, default=300)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    logdir = os.path.join(build, "test-logs")
    os.makedirs(logdir, exist_ok=True)
    log = os.path.join(logdir, "guest-gdb-%s-console.log" % args.mode)
    for f in (log, os.path.join(logdir, "guest-gdb-%s.log" % args.mode)):
        if os.path.exists(f):
            os.remove(f)
    port = free_port()
    env = dict(os.environ, HYP=os.path.join(build, "hyp.elf"), KERNEL=os.path.join(build, "guest", "Image"),
               INITRD=os.path.join(build, "guest", "initramfs.cpio.gz"), MODE=args.mode, GDB="1", GUEST_GDBPORT=str(port))
    t = Checks(args.mode)
    con = QemuConsole([os.path.join(ROOT, "scripts", "run-qemu.sh")], log_path=log, env=env)
    try:
        con.expect(r"GUEST-BOOT-OK cpus=4", timeout=args.boot_timeout)
        t.check("the banner announces the gdb stub",
                hyp_search(r"gdb: stub on virtio-serial port hyp.gdb", con.output) is not None)
        con.expect(r"# ", timeout=30)
        # GDB=1 boots with nokaslr, so the kernel runs at the link addresses
        # that System.map lists: the running kernel's own table must agree.
        t.check("GDB=1 turns KASLR off", "KASLR disabled on command line" in con.output)
        addr = system_map_address(build, SYMBOL)
        if not t.check("%s found in System.map (linux-image-*-dbg)" % SYMBOL, addr is not None,
                       "no %s in %s/guest/System.map: make guest-symbols" % (SYMBOL, build)):
            return 1
        rc, out = con.run("grep -w %s /proc/kallsyms" % SYMBOL, timeout=60)
        m = re.search(r"^([0-9a-f]{16}) [Tt] %s$" % SYMBOL, out, re.M)
        t.check("the running kernel has %s at its System.map address" % SYMBOL,
                m is not None and int(m.group(1), 16) == addr, out)
        gdb_session(t, con, port, addr, logdir, build)
        protocol_session(t, con, port, addr)
        con.send("poweroff -f")
        t.check("poweroff -f makes QEMU exit 0", con.wait_exit(timeout=120) == 0)
        bad = BAD_HERE.search(con.output)
        t.check("no panic, Oops, unexpected BRK or stall in the log", bad is None, bad.group(0) if bad else "")
    except (ConsoleError, RspError, OSError) as e:
        t.check("gdb session completes", False, str(e)[-1500:])
    finally:
        con.kill()
    print("log: %s" % log)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
