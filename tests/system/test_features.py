#!/usr/bin/env python3
"""System test: CPU features the guest may use, with -cpu max.

Boots the hypervisor on QEMU's "max" CPU (default --cpu
max,pauth-impdef=on: the same features, with QEMU's cheap pointer
authentication algorithm instead of QARMA, which makes a boot 2.5 times
slower under TCG; platform.md section 5) and checks, through the serial
console (one "ok - [MODE] features: ..." line each):

- the guest reaches the shell (bounded by --boot-timeout, with a one-line
  reason when it does not) and has 4 CPUs;
- /proc/cpuinfo: the Features line (printed, one per CPU, all the same)
  has paca, pacg and sve (virtualized: the guest may use them) and not
  mte (hidden); the ID registers as EL0 reads them (featstress ids, the
  kernel's sanitised view) say no MTE;
- four instances of each of featstress pac, sve and pmu
  (guest/tests/featstress/), pinned to CPUs 0-3 with taskset and running
  at once for --seconds each, all pass: pointer-authentication keys,
  SVE (or AdvSIMD) registers and the PMU stay each vCPU's own, and the
  PMU counts nothing at EL2. The four pac instances report four different
  PACGA values: Linux gives each process its own keys;
- poweroff -f ends QEMU with status 0, and no panic, Oops, stall or
  lockup appears in the log.

With --mte the machine has the Memory Tagging Extension too (QEMU
-machine mte=on, so ID_AA64PFR1_EL1.MTE reads 3 natively and the guest
kernel would use it): only the boot and the feature checks run, to show
that the hypervisor hides MTE.

    tests/system/test_features.py --mode single|multi [--build build] [--cpu C] [--seconds 5] [--mte]
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import PANIC, Checks, guest_command, last_line, shutdown_checks, wait_for_shell  # noqa: E402
from qemu_console import QemuConsole, ConsoleError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULT = re.compile(r"^FEATSTRESS (ok|not ok|skip|note) - (\S+) cpu(\d+|\?): (.*)$", re.M)
PRESENT = ("paca", "pacg", "sve")   # virtualized: the guest sees and uses them
ABSENT = ("mte",)                   # hidden from the guest


def id_field(regs, name, lo, width=4):
    v = regs.get(name)
    return None if v is None else (v >> lo) & ((1 << width) - 1)


def feature_checks(t, con):
    rc, out = con.run("grep Features /proc/cpuinfo", timeout=60, abort_on=PANIC)
    lines = [l.split(":", 1)[1].split() for l in out.splitlines() if l.startswith("Features")]
    for i, feats in enumerate(lines):
        if i == 0 or feats != lines[0]:
            print("features [%s] cpu%d: %s" % (t.mode, i, " ".join(feats)), flush=True)
    t.check("/proc/cpuinfo has a Features line per CPU, all the same",
            len(lines) == 4 and all(l == lines[0] for l in lines), repr(out[-400:]))
    feats = set(lines[0]) if lines else set()
    for f in PRESENT:
        t.check("cpuinfo Features has %s" % f, f in feats, "Features: %s" % " ".join(sorted(feats)))
    for f in ABSENT:
        t.check("cpuinfo Features has no %s" % f, f not in feats, "Features: %s" % " ".join(sorted(feats)))
    rc, out = con.run("featstress ids", timeout=60, abort_on=PANIC)
    regs = {m.group(1): int(m.group(2), 16) for m in re.finditer(r"FEATSTRESS idreg (\w+)=(0x[0-9a-f]+|0+)", out)}
    mte = id_field(regs, "id_aa64pfr1_el1", 8)
    t.check("ID_AA64PFR1_EL1.MTE reads 0 at EL0", rc == 0 and mte == 0,
            "MTE field %s; %r" % (mte, out[-300:]))
    sve = id_field(regs, "id_aa64pfr0_el1", 32)
    t.check("ID_AA64PFR0_EL1.SVE reads non-zero at EL0", sve is not None and sve > 0, "SVE field %s" % sve)
    return feats


def stress(t, con, prog, seconds, feats):
    """Four instances of featstress PROG pinned to CPUs 0-3, at once."""
    f = "/tmp/fs-%s" % prog
    cmd = ("for c in 0 1 2 3; do taskset -c $c featstress -t %g %s >%s.$c 2>&1 & eval p$c=$!; done; "
           "for c in 0 1 2 3; do eval wait \\$p$c; echo FSEXIT $c $?; done; cat %s.0 %s.1 %s.2 %s.3"
           % (seconds, prog, f, f, f, f, f))
    rc, out = con.run(cmd, timeout=seconds * 4 + 120, abort_on=PANIC)
    out = out.replace("\r", "")
    exits = dict(re.findall(r"^FSEXIT (\d) (\d+)$", out, re.M))
    res = RESULT.findall(out)
    for status, name, cpu, text in res:
        if status == "note":
            print("note [%s] featstress %s cpu%s: %s" % (t.mode, name, cpu, text), flush=True)
    # Which results each instance must give.
    if prog == "sve":
        want = ["sve" if "sve" in feats else "neon"]
    elif prog == "pmu":
        want = ["pmu", "pmu-el2-idle"]
    else:
        want = [prog]
    ga = {}
    for c in "0123":
        for name in want:
            r = [x for x in res if x[1] == name and x[2] == c and x[0] != "note"]
            st = r[0][0] if r else None
            text = r[0][3] if r else "no result line (exit status %s)" % exits.get(c, "?")
            t.check("%s on CPU %s%s" % (name, c, (": " + text) if st == "ok" else ""), st == "ok", text)
            m = re.search(r"pacga=(0x[0-9a-f]+)", text) if st == "ok" else None
            if m:
                ga[c] = m.group(1)
        t.check("featstress %s on CPU %s exits 0" % (prog, c), exits.get(c) == "0", "exit status %s" % exits.get(c))
    if prog == "pac":
        t.check("the four processes have their own keys (four different PACGA values)",
                len(set(ga.values())) == 4, str(ga))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", default="multi", choices=["multi", "single", "native"])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--cpu", default="max,pauth-impdef=on")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--boot-timeout", type=float, default=150)
    ap.add_argument("--mte", action="store_true", help="QEMU -machine mte=on; boot and feature checks only")
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    tag = args.mode + ("-mte" if args.mte else "")
    log = os.path.join(build, "test-logs", "features-%s.log" % tag)
    os.makedirs(os.path.dirname(log), exist_ok=True)
    if os.path.exists(log):
        os.remove(log)
    cmd, env = guest_command(ROOT, build, args.mode, cpu=args.cpu,
                             qemu_args=["-machine", "mte=on"] if args.mte else [])
    t = Checks(tag, "features")
    what = "CPU=%s%s" % (args.cpu, " and -machine mte=on" if args.mte else "")
    con = QemuConsole(cmd, log_path=log, env=env)
    try:
        try:
            cpus = wait_for_shell(con, args.boot_timeout)
        except ConsoleError as e:
            t.check("guest reaches the shell with %s" % what, False, str(e).splitlines()[0])
            return 1
        t.check("guest reaches the shell with %s (%.0f s)" % (what, con.elapsed), True)
        t.check("boot marker says 4 CPUs", cpus == 4, "cpus=%d" % cpus)
        rc, out = con.run("grep -c processor /proc/cpuinfo", timeout=60, abort_on=PANIC)
        t.check("grep -c processor /proc/cpuinfo is 4", last_line(out) == "4", repr(out))
        feats = feature_checks(t, con)
        if not args.mte:
            for prog in ("pac", "sve", "pmu"):
                stress(t, con, prog, args.seconds, feats)
        rc, out = con.run("echo responsive", timeout=60, abort_on=PANIC)
        t.check("shell responsive afterwards", last_line(out) == "responsive", repr(out))
        shutdown_checks(t, con)
    except ConsoleError as e:
        t.check("console session completes", False, str(e)[-1500:])
    finally:
        con.kill()
        print("log: %s" % log)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
