#!/usr/bin/env python3
"""System test: a 32-bit ARM user program's trapped instructions.

Boots the guest (with iomem=relaxed, so /dev/mem reaches the PL011 that
Debian's IO_STRICT_DEVMEM kernel would otherwise refuse) and runs
/bin/a32test (guest/tests/a32test/): loads and stores of the emulated
PL011 in A32, T32 and T16, in IT blocks, sign-extending, with writeback,
WFI/WFE, SMC/HVC at EL0, and counting loops across interrupts. Under the
hypervisor each load and store is an MMIO exit, and the PC must advance
by the trapped instruction's length (ESR_EL2.IL: 2 for T16) and the IT
state with it. Natively (--mode native, no hypervisor) it checks the
program itself.

One line per case, "ok - [MODE] a32: NAME" or "not ok - [MODE] a32: NAME:
detail" (tests/run_all.py counts them), then the checks of the boot.

    tests/system/test_arm32.py --mode multi|single|native [--build build]
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import PANIC, Checks, guest_command, shutdown_checks, wait_for_shell  # noqa: E402
from qemu_console import QemuConsole, ConsoleError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULT = re.compile(r"^A32TEST (ok|not ok) - ([a-z0-9-]+)(?: \((.*)\))?(?:: (.*))?$", re.M)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="multi", choices=["multi", "single", "native"])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--boot-timeout", type=float, default=150)
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    log = os.path.join(build, "test-logs", "arm32-%s.log" % args.mode)
    os.makedirs(os.path.dirname(log), exist_ok=True)
    if os.path.exists(log):
        os.remove(log)
    cmd, env = guest_command(ROOT, build, args.mode, append="console=ttyAMA0 iomem=relaxed")
    t = Checks(args.mode, "a32")
    con = QemuConsole(cmd, log_path=log, env=env)
    names = []
    try:
        wait_for_shell(con, args.boot_timeout)
        rc, out = con.run("a32test --list", timeout=60, abort_on=PANIC)
        names = [l.strip() for l in out.splitlines() if re.fullmatch(r"[a-z0-9-]+", l.strip())]
        t.check("a32test --list names its cases", rc == 0 and len(names) > 10, "rc=%d %r" % (rc, out[-300:]))
        results = {}
        try:
            rc, out = con.run("a32test", timeout=180, abort_on=PANIC)
            ended = None
        except ConsoleError as e:
            rc, out, ended = -1, con.output, str(e).splitlines()[0]
        for m in RESULT.finditer(out.replace("\r", "")):
            results.setdefault(m.group(2), m)
        for n in names:
            m = results.get(n)
            if m is None:
                t.check(n, False, "no result (%s)" % (ended or "a32test did not report it"))
            else:
                t.check(n + (" (%s)" % m.group(3) if m.group(3) else ""), m.group(1) == "ok", m.group(4) or "")
        if ended is None:
            failed = sum(1 for m in results.values() if m.group(1) != "ok")
            t.check("exit status is the number of failed cases (%d)" % failed, rc == failed, "rc=%d" % rc)
        shutdown_checks(t, con, poweroff=ended is None)
    except ConsoleError as e:
        t.check("console session completes", False, str(e)[-1500:])
    finally:
        con.kill()
    print("log: %s" % log)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
