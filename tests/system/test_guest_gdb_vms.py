#!/usr/bin/env python3
"""System test of the guest gdb stub with two VMs (make run VMS=2 GDB=1).

What issue 13 item 7 asks: gdb-multiarch, attached to the stub, lists both
VMs as processes (gdb inferiors, through gdb's multiprocess extension) with
their 2 vCPUs each as threads, and a breakpoint in VM 1's kernel stops VM 1
only. The semantics this test states and checks:

  * Connecting, and Ctrl-C, stop every VM the client sees (gdb asked for
    the whole target).
  * A breakpoint (or a step) stops the VM it happened in. The other VMs run
    on: VM 0's shell answers while gdb sits at VM 1's breakpoint. gdb, in
    its all-stop mode, takes every thread as stopped; the stub says which
    are not ("VM 0 running" in info threads).
  * continue resumes the stopped VM (with `set schedule-multiple on`, every
    VM; gdb's default resumes the current inferior only).
  * A client without the multiprocess extension sees VM 0 alone (plain
    thread ids, as with one VM) and stops only VM 0.

VM 0's console is QEMU's stdio, VM 1's its console port (scripts/console.py).
Prints "ok - [mode] ..." / "not ok - [mode] ..." lines for tests/run_all.py.

    tests/system/test_guest_gdb_vms.py --mode multi|single --build build
"""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import BAD, ROOT, Checks, boot_args, free_port, fresh_log, last_line, run_qemu_env  # noqa: E402
from qemu_console import ConsoleError, QemuConsole  # noqa: E402
from rsp_client import RspClient, RspError  # noqa: E402
from test_guest_gdb import SYMBOL, Gdb, system_map_address  # noqa: E402

CONSOLE = os.path.join(ROOT, "scripts", "console.py")


def quiet_for(con, command, seconds):
    """Sends `command` to a shell and returns what it printed within
    `seconds`: nothing but the echo when the VM is stopped."""
    start = len(con.output)
    con.send(command)
    time.sleep(seconds)
    return con.output[start:]


def gdb_session(t, con0, con1, port, addr, build, log):
    # GDB_DEBUG_REMOTE=1: the packets in the log, for debugging this test.
    g = Gdb(port, log, ["set debug remote 1"] if os.environ.get("GDB_DEBUG_REMOTE") else [])
    try:
        out = g.cmd("info inferiors")
        infs = re.findall(r"^\*?\s+(\d+)\s+process (\d+)", out, re.M)
        t.check("gdb lists the 2 VMs as 2 inferiors (processes 1 and 2)",
                [p for _, p in infs] == ["1", "2"], out)
        # Each VM is its own address space (a gdb program space): VM 1's
        # kernel goes to inferior 2, which also gives gdb its architecture
        # (gdb reads the target description for the first inferior only).
        g.cmd("inferior 2")
        out = g.cmd("file %s" % os.path.join(build, "guest", "System.map.elf"))
        t.check("inferior 2 (VM 1) loads the kernel's symbols with file", "Reading symbols from" in out, out)
        out = g.cmd("info threads")
        threads = re.findall(r"^\*?\s+(\d+)\.(\d+)\s+Thread (\d+)\.(\d+) \(vCPU (\d) on pCPU (\d), VM (\d)", out, re.M)
        t.check("info threads lists 2 vCPUs per VM: threads 1.1 1.2 2.1 2.2, vCPU n of VM m = Thread m+1.n+1",
                [(x[2], x[3], x[4], x[6]) for x in threads] ==
                [("1", "1", "0", "0"), ("1", "2", "1", "0"), ("2", "1", "0", "1"), ("2", "2", "1", "1")], out)
        t.check("every thread's frame reads (no register-size mismatch)", "Remote 'g' packet" not in out, out[-600:])
        out = g.cmd("break *%s" % SYMBOL)
        t.check("break *%s in VM 1 at 0x%x" % (SYMBOL, addr),
                re.search(r"Breakpoint 1 at 0x%x\b" % addr, out) is not None, out)
        g.cmd("set schedule-multiple on")
        # gdb (13) keeps the inferior current at connection in its "being
        # connected to" state, in which it reports stops silently, until it
        # resumes with that inferior selected: do the first continue there.
        g.cmd("inferior 1")
        g.c.send("continue")
        g.c.expect(r"Continuing\.", timeout=30)
        time.sleep(1)
        rc, out = con0.run("echo vm0-runs", timeout=60)
        t.check("after continue VM 0 runs (its uname would not stop: the breakpoint is VM 1's)",
                last_line(out) == "vm0-runs", repr(out))
        rc, out = con0.run("uname -r", timeout=60)
        t.check("VM 0's uname passes VM 1's breakpoint address untouched", re.search(r"^6\.1\.", out, re.M)
                is not None, repr(out))

        start1 = len(con1.output)
        con1.send("uname -a")
        try:
            m = g.c.expect(r"Thread (\d+)\.(\d+) hit Breakpoint 1, (0x[0-9a-f]+) in (\S+) \(\)", timeout=120)
            g.c.expect(Gdb.PROMPT, timeout=30)
        except ConsoleError as e:
            t.check("VM 1's uname hits the breakpoint", False, str(e)[-600:])
            return
        t.check("VM 1's uname hits the breakpoint, in a thread of inferior 2 (%s.%s)" % (m.group(1), m.group(2)),
                m.group(1) == "2" and int(m.group(3), 16) == addr and m.group(4) == SYMBOL, m.group(0))

        # All-stop as gdb sees it, one VM stopped as the machine has it.
        rc, out = con0.run("echo vm0-answers-while-vm1-is-stopped", timeout=30)
        t.check("a breakpoint in VM 1 stops VM 1 only: VM 0's shell answers meanwhile",
                last_line(out) == "vm0-answers-while-vm1-is-stopped", repr(out))
        time.sleep(2)
        t.check("VM 1 is stopped: its uname has printed nothing",
                "Linux guest" not in con1.output[start1:], con1.output[start1:][-300:])
        out = g.cmd("info threads")
        t.check("info threads (gdb's all-stop view) tells VM 0's threads run on and VM 1's are stopped",
                len(re.findall(r"Thread 1\.\d \(vCPU \d on pCPU \d, VM 0 running\)", out)) == 2 and
                len(re.findall(r"Thread 2\.\d \(vCPU \d on pCPU \d, VM 1, (?:runnable|waiting)", out)) == 2, out)
        out = g.cmd("info registers pc")
        t.check("registers are VM 1's stopped vCPU's (pc at the breakpoint)",
                re.search(r"pc\s+0x%x" % addr, out) is not None, out)
        out = g.cmd("x/i $pc")
        t.check("memory is read through VM 1's translation (the original instruction, not our BRK)",
                re.search(r"0x%x <%s>:\s+(?!brk)\w" % (addr, SYMBOL), out) is not None, out)

        g.cmd("delete")
        g.c.send("continue")
        g.c.expect(r"Continuing\.", timeout=30)
        try:
            con1.expect(r"Linux guest 6\.\S+ .*aarch64", timeout=60)
            done = True
        except ConsoleError:
            done = False
        t.check("continue resumes VM 1: its uname completes", done)

        # Ctrl-C: gdb interrupts the whole target, so every VM stops.
        # What Ctrl-C at gdb's terminal does: SIGINT to gdb.
        time.sleep(1)
        os.kill(g.c.proc.pid, signal.SIGINT)
        g.c.expect(r"received signal SIGINT", timeout=60)
        g.c.expect(Gdb.PROMPT, timeout=30)
        out0 = quiet_for(con0, "echo vm0-after-ctrl-c", 3)
        out1 = quiet_for(con1, "echo vm1-after-ctrl-c", 3)
        t.check("Ctrl-C in gdb stops both VMs (neither shell answers)",
                "vm0-after-ctrl-c\r\n" not in out0.replace("echo vm0-after-ctrl-c", "") and
                "vm1-after-ctrl-c\r\n" not in out1.replace("echo vm1-after-ctrl-c", ""), repr(out0) + repr(out1))
        g.c.send("detach inferiors 1 2")
        g.c.expect(Gdb.PROMPT, timeout=30)
        try:
            con0.expect(r"\nvm0-after-ctrl-c", timeout=60)
            con1.expect(r"\nvm1-after-ctrl-c", timeout=60)
            ran = True
        except ConsoleError:
            ran = False
        t.check("detaching both inferiors lets both VMs run on (the stopped commands complete)", ran)
        g.c.send("quit")
        g.c.wait_exit(30)
    finally:
        g.close()


def single_process_client(t, con0, con1, port):
    c = RspClient(port)
    try:
        r = c.command("qSupported:swbreak+;hwbreak+")
        t.check("without multiprocess+ in qSupported the stub does not offer it", "multiprocess" not in r, r)
        r = c.command("qfThreadInfo")
        t.check("a client without multiprocess sees VM 0's 2 vCPUs alone, as threads 1 and 2", r == "m1,2", r)
        rc, out = con1.run("echo vm1-runs-while-vm0-is-stopped", timeout=60)
        t.check("... and stopping it stopped VM 0 only: VM 1 answers",
                last_line(out) == "vm1-runs-while-vm0-is-stopped", repr(out))
        out0 = quiet_for(con0, "echo vm0-stopped", 3)
        t.check("VM 0 is stopped meanwhile", "vm0-stopped\r\n" not in out0.replace("echo vm0-stopped", ""),
                repr(out0))
        c.command("D")
    finally:
        c.close()
    try:
        con0.expect(r"\nvm0-stopped", timeout=60)
        ok = True
    except ConsoleError:
        ok = False
    t.check("detached, VM 0 runs on", ok)


def main():
    args = boot_args(__doc__, with_mode=True)
    log0 = fresh_log(args.build, "guest-gdb-vms-%s-vm0.log" % args.mode)
    log1 = fresh_log(args.build, "guest-gdb-vms-%s-vm1.log" % args.mode)
    glog = fresh_log(args.build, "guest-gdb-vms-%s-gdb.log" % args.mode)
    t = Checks(args.mode, "2 VMs, guest gdb")
    addr = system_map_address(args.build, SYMBOL)
    if not t.check("%s found in System.map (make guest-symbols)" % SYMBOL, addr is not None):
        return 1
    port = free_port()
    env = run_qemu_env(args.build, MODE=args.mode, DISK="none", VMS="2", GDB="1", GUEST_GDBPORT=str(port))
    con0 = QemuConsole([os.path.join(ROOT, "scripts", "run-qemu.sh")], log_path=log0, env=env)
    con1 = None
    try:
        con1 = QemuConsole([sys.executable, CONSOLE, "1", "--wait", "120"], log_path=log1)
        con0.expect(r"GUEST-BOOT-OK cpus=2", timeout=args.boot_timeout)
        con1.expect(r"GUEST-BOOT-OK cpus=2", timeout=args.boot_timeout)
        con0.expect(r"# ", timeout=30)
        con1.expect(r"# ", timeout=30)
        gdb_session(t, con0, con1, port, addr, args.build, glog)
        single_process_client(t, con0, con1, port)
        con1.send("poweroff -f")
        con0.expect(r"VM 1 stopped", timeout=60)
        con0.send("poweroff -f")
        t.check("poweroff -f in both VMs makes QEMU exit 0", con0.wait_exit(timeout=120) == 0)
        bad = BAD.search(con0.output) or BAD.search(con1.output)
        t.check("no panic, Oops or stall in either VM's log", bad is None, bad.group(0) if bad else "")
    except (ConsoleError, RspError, OSError) as e:
        t.check("the session completes", False, str(e)[-1500:])
    finally:
        if con1:
            con1.kill()
        con0.kill()
    print("logs: %s %s %s" % (log0, log1, glog))
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
