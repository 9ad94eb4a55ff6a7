#!/usr/bin/env python3
"""make trace: boot with the event trace on, run a guest workload, power
off, and turn the dump into a summary, Chrome JSON and a PNG timeline
(docs/tracing.md).

  boot   boot to the shell, then poweroff -f: the whole boot
  ipi    boot (kernel option quiet) to the shell; Ctrl-] t (a dump that marks where the workload
         starts); the bench's IPI ping-pong between guest CPUs 0 and 1
         (hbench ipi 0 1, futex hand-overs: an IPI each way); poweroff -f

Writes OUT/<mode>-<workload>.bin (the dumps), .txt (summary), .json, .png
and .log (the console). QEMU goes through scripts/run-qemu.sh, under the
machine's QEMU lock (QEMU_LOCK, default /tmp/hyp-qemu.lock; empty: none),
which it takes itself unless a parent (flock ...) already holds it.

    scripts/trace_record.py --mode multi|single --workload boot|ipi [--build build] [--out build/trace]
"""
import argparse
import fcntl
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from checks import BAD, hyp_re, run_qemu_env, wait_for_shell  # noqa: E402
from qemu_console import ConsoleError, QemuConsole  # noqa: E402

WORKLOADS = ("boot", "ipi")
DEFAULT_LOCK = "/tmp/hyp-qemu.lock"
DUMPED_RE = hyp_re(r"trace: dumped (\d+) records \((\d+) dropped\) to port hyp\.trace \(([^)\r\n]*)\)")
INCOMPLETE_RE = hyp_re(r"trace: port hyp\.trace stopped taking the dump")
DUMP_KEY = b"\x1dt"       # Ctrl-] t


def die(msg):
    sys.stderr.write("trace: %s\n" % msg)
    sys.exit(2)


def held_by_parent(path):
    """Whether one of our open descriptors is the lock file: `flock FILE cmd`
    passes its locked descriptor down, and a second flock on the same file
    from here would wait for ever."""
    try:
        want = os.stat(path)
    except OSError:
        return False
    for fd in os.listdir("/proc/self/fd"):
        try:
            st = os.fstat(int(fd))
        except (OSError, ValueError):
            continue
        if (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino):
            return True
    return False


def take_lock(path):
    """The machine's QEMU lock (a file for flock(1)); None: not taken here."""
    if not path:
        return None
    if held_by_parent(path):
        print("trace: %s is held by a parent process (flock): not taking it again" % path, flush=True)
        return None
    try:
        f = open(path, "a")
    except OSError as e:
        die("cannot open the QEMU lock %s (%s): set QEMU_LOCK to a writable path, or QEMU_LOCK= for none" % (
            path, e.strerror))
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("trace: waiting for %s (another QEMU boot holds it)" % path, flush=True)
        t0 = time.monotonic()
        fcntl.flock(f, fcntl.LOCK_EX)
        print("trace: got %s after %.0f s" % (path, time.monotonic() - t0), flush=True)
    return f


def record(args, base):
    bin_path, log = base + ".bin", base + ".log"
    if os.path.exists(log):
        os.remove(log)
    env = run_qemu_env(args.build, MODE=args.mode, DISK="none", TRACE="1", TRACE_FILE=bin_path,
                       TRACE_EVENTS=args.events)
    if args.workload != "boot":
        # The kernel's boot messages, one MMIO exit per character, would
        # fill pCPU 0's ring in single mode before the workload starts.
        env["APPEND"] = "console=ttyAMA0 quiet"
    con = QemuConsole([os.path.join(ROOT, "scripts", "run-qemu.sh")], log_path=log, env=env)
    try:
        print("trace: booting (%s mode) with TRACE=1, console in %s" % (args.mode, os.path.relpath(log)), flush=True)
        wait_for_shell(con, args.boot_timeout)
        if args.workload == "ipi":
            # A dump now marks where the workload starts: trace.py takes the
            # end of the previous dump in the file as the workload phase's start.
            con.send_raw(DUMP_KEY)
            m = con.expect(DUMPED_RE, timeout=120)
            print("trace: marker dump (%s records) before the workload" % m.group(1), flush=True)
            time.sleep(0.5)
            con.send("")
            con.expect(r"# ", timeout=30)
            cmd = "hbench -n %d ipi 0 1" % args.ipi_rounds
            print("trace: guest runs %s" % cmd, flush=True)
            rc, out = con.run(cmd, timeout=600)
            line = [l for l in out.splitlines() if "BENCH" in l]
            if rc != 0 or not line:
                raise ConsoleError("%s failed (status %d): %s" % (cmd, rc, out.strip()[-300:]))
            print("trace: guest: %s" % line[-1].strip(), flush=True)
        con.send("poweroff -f")
        code = con.wait_exit(timeout=180)
    except ConsoleError as e:
        con.kill()
        die("%s (console log: %s)" % (str(e).splitlines()[0], log))
    finally:
        con.kill()
    text = con.output
    dumps = DUMPED_RE.findall(text)
    if code != 0 or INCOMPLETE_RE.search(text) or not dumps or dumps[-1][2] != "power-off":
        die("the run did not end with a complete power-off dump (QEMU status %s; see %s)" % (code, log))
    bad = BAD.search(text)
    if bad:
        die("the guest or hypervisor reported trouble: %r (see %s)" % (bad.group(0), log))
    n, dropped, _ = dumps[-1]
    print("trace: %s: %s records, %s dropped" % (os.path.relpath(bin_path), n, dropped), flush=True)
    return bin_path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--mode", default="multi", choices=["multi", "single"])
    ap.add_argument("--workload", default="boot")
    ap.add_argument("--out", help="output directory (default BUILD/trace)")
    ap.add_argument("--events", default="all", help="TRACE_EVENTS (default all)")
    ap.add_argument("--ipi-rounds", type=int, default=300, help="round trips of the ipi workload")
    ap.add_argument("--boot-timeout", type=float, default=300)
    ap.add_argument("--window", help="passed to trace.py for the JSON and PNG (START_MS,LEN_MS)")
    args = ap.parse_args()
    if args.workload not in WORKLOADS:
        die("WORKLOAD=%s is not a workload: use WORKLOAD=boot (the boot to the shell) or WORKLOAD=ipi (the "
            "bench's IPI ping-pong)" % args.workload)
    if not 1 <= args.ipi_rounds <= 100000:
        die("--ipi-rounds %d: use 1-100000" % args.ipi_rounds)
    args.build = os.path.abspath(args.build)
    out = os.path.abspath(args.out or os.path.join(args.build, "trace"))
    os.makedirs(out, exist_ok=True)
    base = os.path.join(out, "%s-%s" % (args.mode, args.workload))
    lock = take_lock(os.environ.get("QEMU_LOCK", DEFAULT_LOCK))
    try:
        bin_path = record(args, base)
    finally:
        if lock:
            lock.close()
    tool = [sys.executable, os.path.join(ROOT, "scripts", "trace.py"), bin_path, "--summary",
            "--summary-out", base + ".txt", "--json", base + ".json", "--png", base + ".png"]
    if args.window:
        tool += ["--window", args.window]
    rc = subprocess.call(tool)
    if rc != 0:
        return rc
    print("trace: wrote %s.{bin,txt,json,png,log}: open the JSON in https://ui.perfetto.dev or chrome://tracing "
          "(docs/tracing.md)" % os.path.relpath(base), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
