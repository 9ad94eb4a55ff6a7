#!/usr/bin/env python3
"""System test: a hypervisor panic stops the whole machine and fails the run.

Multi mode, one boot. The guest runs a busy loop pinned on CPU 1 and on
CPU 2 that keeps moving the UART's interrupt to its own CPU: each move is a
GICD_IROUTER write, which takes the vGIC distributor lock (and, in the
guest, the interrupt's descriptor lock). CPUs 0 and 3 are left idle. Then
the console's crash key (Ctrl-] c) takes the distributor lock on pCPU 0,
holds it 100 ms and panics. By then one of pCPUs 1 and 2 is spinning on
that lock with interrupts masked (only the stop flag its ticket lock
checks can stop it), the other one runs its guest, spinning on the
descriptor lock (stopped by the kick, at the IRQ exit), and pCPU 3 sleeps
in its idle WFI (stopped by the kick when it wakes).
Checks: the panic report appears exactly once, as hypervisor lines (RS),
and names the pCPU and vCPU, ESR/ELR/FAR and a backtrace; it reports the
other three pCPUs stopped; no hypervisor line follows it but the closing
one; QEMU exits within a bounded time and run-qemu.sh's status is 1.

    tests/system/test_panic.py --build build
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import (RUN_QEMU, Checks, boot_args, console_session, fresh_log, hyp_lines, last_line,  # noqa: E402
                    run_qemu_env)
from qemu_console import QemuConsole, ConsoleError  # noqa: E402

CRASH_KEY = b"\x1dc"                    # Ctrl-] c (run.cpp, debug_key)
EXIT_WITHIN = 60                        # seconds from the key to QEMU's exit


def crash(t, con, boot_timeout):
    con.expect(r"GUEST-BOOT-OK cpus=4", timeout=boot_timeout)
    con.expect(r"# ", timeout=30)
    rc, out = con.run("irq=$(grep uart-pl011 /proc/interrupts | cut -d: -f1 | tr -d ' '); "
                      "for c in 1 2; do taskset -c $c sh -c \"while :; do echo $c > "
                      "/proc/irq/$irq/smp_affinity_list; done\" 2>/dev/null & done; "
                      "sleep 2; ps | grep -c '[s]mp_affinity_list'", timeout=60)
    t.check("IROUTER loops run on CPUs 1 and 2", rc == 0 and last_line(out) == "2", out[-300:])
    before = len(con.output)
    con.send_raw(CRASH_KEY)
    start = time.monotonic()
    try:
        code = con.wait_exit(timeout=EXIT_WITHIN)
    except ConsoleError:
        code = None
    t.check("QEMU exits within %d s of the crash key" % EXIT_WITHIN, code is not None,
            "still running; output tail %r" % con.output[-600:])
    print("panic: QEMU exited %.1f s after the crash key" % (time.monotonic() - start), flush=True)
    t.check("run-qemu.sh exits 1 after the panic", code == 1, "exit status %s" % code)

    lines = hyp_lines(con.output[before:])
    heads = [i for i, l in enumerate(lines) if l.startswith("*** HYPERVISOR PANIC")]
    t.check("exactly one panic report", len(heads) == 1, repr(lines[:5]))
    report = lines[heads[0]:] if heads else []
    text = "\n".join(report)
    t.check("the report names pCPU 0, vCPU 0 and the crash key",
            bool(report) and re.match(r"\*\*\* HYPERVISOR PANIC on pCPU 0, vCPU 0: crash requested on the "
                                      r"console \(Ctrl-\] c\), vGIC distributor lock held", report[0])
            is not None, text[:300])
    t.check("the report has ESR_EL2, ELR_EL2 and FAR_EL2",
            re.search(r"ESR_EL2=0x[0-9a-f]{16} \(EC=0x[0-9a-f]{2}\)  ELR_EL2=0x[0-9a-f]{16}", text) is not None
            and re.search(r"FAR_EL2=0x[0-9a-f]{16}", text) is not None, text[:600])
    frames = re.findall(r"^      #\d+ 0x(0000000040[0-9a-f]{6})$", text, re.M)
    t.check("the report has a backtrace into the hypervisor image (%d frames)" % len(frames),
            "backtrace (addr2line" in text and len(frames) >= 2, text[:900])
    t.check("the other three pCPUs stopped",
            "    other pCPUs stopped: 1 2 3" in report and not any("did not stop" in l for l in report), text)
    t.check("the report ends with powering off, nothing after it",
            bool(report) and report[-1] == "*** powering off", repr(report[-3:]))


def main():
    args = boot_args()
    log = fresh_log(args.build, "panic.log")
    t = Checks("multi", "panic")
    con = QemuConsole([RUN_QEMU], log_path=log, env=run_qemu_env(args.build, MODE="multi", DISK="none"))
    return console_session(t, con, log, lambda: crash(t, con, args.boot_timeout))


if __name__ == "__main__":
    sys.exit(main())
