#!/usr/bin/env python3
"""System test: boot the hypervisor with the Debian guest in QEMU and check,
through the serial console, what a user would check by hand.

Prints one TAP-like line per check ("ok - ..." / "not ok - ...") and a
"boot-time" line; tests/run_all.py counts them. Exit status 1 on any failure.

    tests/system/test_boot.py --mode multi --build build [--busy-seconds 60]
"""
import argparse
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import BAD, Checks, hyp_re, hyp_search, last_line  # noqa: E402
from qemu_console import QemuConsole, ConsoleError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cpu_busy_ticks(stat):
    """Per-CPU busy ticks (user+nice+system+irq+softirq) from /proc/stat."""
    busy = {}
    for l in stat.splitlines():
        m = re.match(r"cpu(\d+)\s+(.*)", l)
        if m:
            f = [int(x) for x in m.group(2).split()]
            busy[int(m.group(1))] = f[0] + f[1] + f[2] + f[5] + f[6]
    return busy


def stats_row(output, label):
    """Values of one row of the hypervisor's last exit table."""
    rows = hyp_re(r"  %s +([\d .%%]+?)[ \r]*\n" % re.escape(label)).findall(output)
    return rows[-1].split() if rows else []


def ipi_counts_per_cpu(interrupts):
    """Sum the IPI rows of /proc/interrupts per CPU column."""
    lines = [l for l in interrupts.splitlines() if l.strip()]
    ncpu = len(lines[0].split())
    totals = [0] * ncpu
    for l in lines[1:]:
        f = l.split()
        if f and f[0].startswith("IPI"):
            for i in range(ncpu):
                totals[i] += int(f[1 + i])
    return totals


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="multi", choices=["multi", "single"])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--busy-seconds", type=int, default=60)
    ap.add_argument("--boot-timeout", type=int, default=300)
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    log = os.path.join(build, "test-logs", "boot-%s.log" % args.mode)
    os.makedirs(os.path.dirname(log), exist_ok=True)
    if os.path.exists(log):
        os.remove(log)
    env = dict(os.environ, HYP=os.path.join(build, "hyp.elf"), KERNEL=os.path.join(build, "guest", "Image"),
               INITRD=os.path.join(build, "guest", "initramfs.cpio.gz"), MODE=args.mode)
    t = Checks(args.mode)
    con = QemuConsole([os.path.join(ROOT, "scripts", "run-qemu.sh")], log_path=log, env=env)
    start = time.monotonic()
    try:
        m = con.expect(r"GUEST-BOOT-OK cpus=(\d+)", timeout=args.boot_timeout)
        boot = time.monotonic() - start
        print("boot-time [%s] %.2f s to the shell marker" % (args.mode, boot), flush=True)
        t.check("guest boots to the init marker with 4 CPUs", m.group(1) == "4", "cpus=" + m.group(1))
        t.check("kernel brought up 4 CPUs", "smp: Brought up 1 node, 4 CPUs" in con.output)
        t.check("hypervisor banner names the mode", hyp_search(r"mode: %s-pCPU" % args.mode, con.output) is not None)
        con.expect(r"# ", timeout=30)

        rc, out = con.run("cat /proc/cpuinfo | grep -c processor", timeout=60)
        t.check("shell counts 4 processors", out.strip() == "4", repr(out))

        rc, out = con.run("cat /proc/interrupts", timeout=60)
        ipis = ipi_counts_per_cpu(out)
        t.check("IPIs received on all four CPUs", len(ipis) == 4 and all(n > 0 for n in ipis), str(ipis))

        # Nothing backs this IPA (between the GIC and the UART on the virt
        # board, and not given to the guest): the write must come back to the
        # guest as an abort, and the shell must survive it.
        rc, out = con.run("devmem 0x0a100000 32 0x12345678", timeout=60)
        t.check("write to an unbacked IPA gives the guest a bus error", rc != 0 and "Bus error" in out, repr(out))
        rc, out = con.run("echo still-alive", timeout=60)
        t.check("shell keeps working after the abort", out.strip() == "still-alive", repr(out))

        # CPU hotplug exercises PSCI CPU_OFF, AFFINITY_INFO and CPU_ON again.
        rc, out = con.run("echo 0 > /sys/devices/system/cpu/cpu2/online; grep -c processor /proc/cpuinfo",
                          timeout=120)
        t.check("CPU 2 goes offline (PSCI CPU_OFF)", rc == 0 and last_line(out) == "3", repr(out))
        rc, out = con.run("echo 1 > /sys/devices/system/cpu/cpu2/online; grep -c processor /proc/cpuinfo",
                          timeout=120)
        t.check("CPU 2 comes back (PSCI CPU_ON)", rc == 0 and last_line(out) == "4", repr(out))

        # Single mode only: a descheduled vCPU's timer deadline is kept, so
        # a 2 s sleep takes 2 s (within 10%).
        if args.mode == "single":
            rc, out = con.run("time sleep 2", timeout=60)
            m = re.search(r"real\s+(\d+)m\s*([\d.]+)s", out)
            real = int(m.group(1)) * 60 + float(m.group(2)) if m else -1
            t.check("time sleep 2 reports 2 s within 10%% (%.2f s)" % real, 1.8 <= real <= 2.2, repr(out))

        # Four busy loops pinned to CPUs 0-3: the guest stays responsive with
        # no RCU stall or soft lockup, and each CPU gets its share (within 20%
        # of each other, from /proc/stat).
        n = args.busy_seconds
        rc, before = con.run("cat /proc/stat", timeout=60)
        rc, out = con.run("for c in 0 1 2 3; do taskset -c $c sh -c 'end=$(( $(date +%%s) + %d )); "
                          "while [ $(date +%%s) -lt $end ]; do :; done' & done; wait; echo busy-done" % n,
                          timeout=n * 4 + 120)
        rc, after = con.run("cat /proc/stat", timeout=60)
        t.check("four busy loops for %d s finish" % n, "busy-done" in out, repr(out[-200:]))
        b0, b1 = cpu_busy_ticks(before), cpu_busy_ticks(after)
        shares = [b1.get(c, 0) - b0.get(c, 0) for c in range(4)]
        fair = min(shares) > 0 and max(shares) <= 1.2 * min(shares)
        t.check("busy loops get shares within 20%% of each other (ticks %s)" % shares, fair, str(shares))
        rc, out = con.run("echo responsive", timeout=60)
        t.check("shell responsive after the busy loops", out.strip() == "responsive", repr(out))

        # PSCI SYSTEM_RESET restarts the machine, and the guest boots again
        # from scratch (multi mode only: one reboot is enough to show it).
        if args.mode == "multi":
            con.send("reboot -f")
            con.expect(hyp_re(r"VM 0 requested SYSTEM_RESET"), timeout=60)
            m = con.expect(r"GUEST-BOOT-OK cpus=(\d+)", timeout=args.boot_timeout)
            t.check("reboot -f (PSCI SYSTEM_RESET) boots the guest again with 4 CPUs", m.group(1) == "4")
            con.expect(r"# ", timeout=30)

        con.send("poweroff -f")
        code = con.wait_exit(timeout=120)
        t.check("poweroff -f makes QEMU exit 0", code == 0, "exit code %s" % code)
        t.check("exit statistics printed at shutdown",
                hyp_search(r"exit statistics \(%s mode\)" % args.mode, con.output) is not None)
        ran = stats_row(con.output, "ran guest code (1=yes)")
        placed = stats_row(con.output, "ran on pCPU")
        if args.mode == "single":
            t.check("only pCPU 0 ran guest code", ran == ["1", "0", "0", "0"], str(ran))
            t.check("every vCPU ran on pCPU 0", placed == ["0", "0", "0", "0"], str(placed))
        else:
            t.check("all four pCPUs ran guest code", ran == ["1", "1", "1", "1"], str(ran))
            t.check("vCPU n ran on pCPU n", placed == ["0", "1", "2", "3"], str(placed))
        bad = BAD.search(con.output)
        t.check("no RCU stall, soft lockup, hung task or panic in the log", bad is None,
                bad.group(0) if bad else "")
    except ConsoleError as e:
        t.check("console session completes", False, str(e)[-1500:])
    finally:
        con.kill()
    print("log: %s" % log)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
