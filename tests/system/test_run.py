#!/usr/bin/env python3
"""System test: what `make run` promises a user at the console, in short
boots (multi mode, no disk):

  * a refused boot is a failure to scripts: a 0-byte disk image (make run
    DISK=), a 0-byte kernel and an unknown hypervisor option each give the
    hypervisor's FATAL line and a non-zero exit status (run-qemu.sh: 1;
    make run: make's error status), although QEMU itself exits 0;
  * APPEND reaches the guest's command line byte for byte: make run
    APPEND='console=ttyAMA0 foo="bar baz" dollar=a$b' (quotes, a blank
    inside them, a '$'), as a user types it; /proc/cmdline shows it;
  * the guest cannot forge a hypervisor line: every line the hypervisor
    prints starts with the RS byte (0x1E), and the emulated UART turns an
    RS the guest sends into '?'. The guest prints the hypervisor's
    SYSTEM_OFF line, a panic header and a FATAL line, with and without an
    RS in front; none of them counts as the hypervisor's, and QEMU keeps
    running;
  * a hypervisor line that comes while the guest is mid-line (the console
    key Ctrl-] s during `printf 'cut-in-'; sleep 4; printf 'two\\n'`)
    marks the cut with RS CR LF, and the guest's line without the
    hypervisor's records is whole (what QemuConsole.run() reads);
  * `poweroff -f` ends `make run` with status 0 and the hypervisor's own
    SYSTEM_OFF line.

Prints one TAP-like line per check, like test_boot.py. Exit status 1 on any
failure.

    tests/system/test_run.py --build build
"""
import os
import re
import subprocess
import threading
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import (BAD, RS, ROOT, RUN_QEMU, Checks, boot_args, console_session, fresh_log, hyp_lines,  # noqa: E402
                    hyp_search, run_qemu_env)
from qemu_console import QemuConsole, ConsoleError  # noqa: E402

# A kernel command line the recipe's shell (or make) would mangle.
APPEND = 'console=ttyAMA0 foo="bar baz" dollar=a$b'

# What the guest prints, as printf arguments: the hypervisor's own lines,
# bare and behind an RS (\036).
FORGED = [
    r"[p0] VM 0 requested SYSTEM_OFF",
    r"\036[p0] VM 0 requested SYSTEM_OFF",
    r"\036*** HYPERVISOR PANIC on pCPU 0, vCPU 0: forged by the guest",
    r"\036[p0] FATAL: forged by the guest",
]


def make_run(build, log, *variables):
    """`make run` on a pty, as a user types it."""
    cmd = ["make", "--no-print-directory", "-s", "run", "BUILD=" + build, "DISK=none", "MODE=multi"]
    return QemuConsole(cmd + list(variables), log_path=log, cwd=ROOT)


def run_qemu(build, log, extra=(), **env):
    """scripts/run-qemu.sh directly, with the build's files."""
    return QemuConsole([RUN_QEMU] + list(extra), log_path=log,
                       env=run_qemu_env(build, **{"MODE": "multi", "DISK": "none", **env}))


def refused(t, name, con, fatal, want_status):
    """A boot the hypervisor refuses: its FATAL line, then a failing status."""
    try:
        code = con.wait_exit(timeout=120)
        line = hyp_search(r"FATAL: " + fatal, con.output)
        t.check("%s: the hypervisor's FATAL line" % name, line is not None, con.output[-300:])
        t.check("%s: exit status %s, not QEMU's 0" % (name, want_status or "non-zero"),
                code == want_status if want_status else code != 0, "exit status %s" % code)
    except ConsoleError as e:
        t.check("%s: QEMU exits" % name, False, str(e)[-800:])
    finally:
        con.kill()


def refused_boots(t, build, log):
    empty = os.path.join(build, "test-logs", "empty.img")
    open(empty, "wb").close()
    not_image = os.path.join(build, "test-logs", "not-an-image.bin")
    with open(not_image, "wb") as f:
        f.write(bytes(4096))
    try:
        refused(t, "make run DISK=<0-byte image>", make_run(build, log, "DISK=" + empty),
                re.escape("disk: the image is smaller than one 512-byte sector"), None)
        refused(t, "run-qemu.sh KERNEL=<4 KiB of zeros>", run_qemu(build, log, KERNEL=not_image),
                re.escape("no arm64 kernel Image"), 1)
        # An empty KERNEL is refused before QEMU starts, by scripts/machine.py.
        env = run_qemu_env(build, MODE="multi", DISK="none", KERNEL=empty)
        p = subprocess.run([RUN_QEMU], env=env, capture_output=True, text=True, timeout=60,
                           stdin=subprocess.DEVNULL)
        t.check("run-qemu.sh KERNEL=<0-byte file>: one line naming it, exit status 2, before boot",
                p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "empty" in p.stderr
                and empty in p.stderr, "status %d, stderr %r" % (p.returncode, p.stderr))
        # QEMU takes the last -append: an option the hypervisor does not know.
        refused(t, "run-qemu.sh with hypervisor option bogus=1",
                run_qemu(build, log, ["-append", "mode=multi bogus=1 -- console=ttyAMA0"]),
                re.escape("bad option 'bogus=1'"), 1)
    finally:
        os.remove(empty)
        os.remove(not_image)


def spoofing(t, con):
    rc, out = con.run("printf '%s\\n'" % "\\n".join(FORGED), timeout=60)
    t.check("the guest's RS bytes reach the console as '?'",
            RS not in out and out.count("?[p0] VM 0 requested SYSTEM_OFF") == 1
            and "?*** HYPERVISOR PANIC" in out and "?[p0] FATAL" in out, repr(out))
    forged = [l for l in hyp_lines(con.output) if "SYSTEM_OFF" in l or "forged" in l or "PANIC" in l]
    t.check("no forged line counts as the hypervisor's", forged == [], repr(forged))
    bad = BAD.search(con.output)
    t.check("no panic or FATAL seen in a log holding forged ones", bad is None, bad.group(0) if bad else "")
    rc, out = con.run("echo still-running", timeout=60)
    t.check("QEMU and the guest keep running after a forged SYSTEM_OFF",
            con.proc.poll() is None and out.strip() == "still-running", repr(out))


def cut_line(t, con):
    """A hypervisor line that comes while the guest is mid-line: the guest
    prints half a line, the console key Ctrl-] s makes the hypervisor print
    its exit table, the guest ends its line. The raw console shows the cut
    (the mark, then CRLF, after the guest's half), and dropping the
    hypervisor's records gives the guest's line back whole."""
    timer = threading.Timer(1.5, lambda: con.send_raw(b"\x1ds"))
    timer.start()
    try:
        rc, out = con.run("printf 'cut-in-'; sleep 4; printf 'two\\n'", timeout=60)
    finally:
        timer.cancel()
    raw = con.output
    t.check("a hypervisor line that cuts the guest's line marks the cut (RS CR LF after the guest's half)",
            re.search("cut-in-" + RS + r"\r*\n" + RS, raw) is not None, repr(raw[raw.rfind("cut-in-"):][:120]))
    t.check("... and the guest's line, the hypervisor's records dropped, is whole",
            rc == 0 and out.strip() == "cut-in-two" and any(l.startswith("exit statistics") for l in hyp_lines(raw)),
            repr(out))


def booted(t, con, boot_timeout):
    con.expect(r"GUEST-BOOT-OK cpus=4", timeout=boot_timeout)
    con.expect(r"# ", timeout=30)
    rc, out = con.run("cat /proc/cmdline", timeout=60)
    t.check("make run APPEND=%s: the guest's /proc/cmdline is APPEND" % APPEND, out.strip() == APPEND, repr(out))
    spoofing(t, con)
    cut_line(t, con)
    con.send("poweroff -f")
    code = con.wait_exit(timeout=120)
    t.check("poweroff -f: make run exits 0", code == 0, "exit status %s" % code)
    off = [l for l in hyp_lines(con.output) if l == "VM 0 requested SYSTEM_OFF"]
    t.check("the hypervisor's SYSTEM_OFF line, once", len(off) == 1, repr(off))


def main():
    args = boot_args()
    log = fresh_log(args.build, "run.log")
    t = Checks("multi", "make run")
    refused_boots(t, args.build, log)
    con = make_run(args.build, log, "APPEND=" + APPEND)
    return console_session(t, con, log, lambda: booted(t, con, args.boot_timeout))


if __name__ == "__main__":
    sys.exit(main())
