#!/usr/bin/env python3
"""System test: the event trace (docs/tracing.md) of a real boot.

--mode M: one traced boot (TRACE=1) to the shell, the bench's IPI
  ping-pong between guest CPUs 0 and 1 (hbench ipi 0 1), poweroff -f; then
  - the power-off dump arrived whole, with nothing dropped;
  - scripts/trace.py --check passes: timestamps monotonic per pCPU, every
    switch-in switched out before the next, every delivered SGI sent
    before, vCPU n only on pCPU n (multi) or guest code only on pCPU 0
    (single);
  - the summary's exit counts equal the hypervisor's exit table of the same
    run, row by row and vCPU by vCPU (scheduled, blocked in WFI, total
    exits, HVC/SMC, each MMIO range, sysreg, WFI, IRQ, SGIs sent/received,
    kicks sent, preempted);
  - the Chrome JSON loads, every B has an E, and it shows the mode: guest
    slices on every pCPU (multi) or on pCPU 0 alone (single), SGI flows
    whose ends match; the PNG is a PNG.
--make-trace: also `make trace WORKLOAD=ipi MODE=M` as a user runs it
  (its outputs, the marker dump and the workload phase).
--gdb: also `make debug TRACE=1` with hv-trace: the trace read from
  memory at the shell decodes, passes --check, and its exit counts equal
  the vCPUs' counters read at the same stop.

    tests/system/test_trace.py --mode multi|single --build build [--make-trace] [--gdb]
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "scripts"))
from checks import (BAD, ROOT, Checks, console_session, fresh_log, free_port, hyp_search,  # noqa: E402
                    run_qemu_env, wait_for_shell)
from qemu_console import QemuConsole  # noqa: E402
from bench import parse_exit_table  # noqa: E402

TOOL = os.path.join(ROOT, "scripts", "trace.py")
IPI_ROUNDS = 100
# Rows of the exit table the trace can count exactly (hyp/vm/stats.cpp).
COMPARED = ["scheduled", "preempted", "blocked in WFI", "total exits", "HVC/SMC (PSCI)", "MMIO unhandled (abort)",
            "sysreg", "WFI", "IRQ", "SGIs sent", "SGIs received", "kicks sent"]


def tool(*args):
    p = subprocess.run([sys.executable, TOOL] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    return p.returncode, p.stdout, p.stderr


def json_checks(t, mode, path):
    try:
        with open(path) as f:
            j = json.load(f)
    except (OSError, ValueError) as e:
        t.check("the Chrome JSON loads with json.load", False, str(e))
        return
    ev = j.get("traceEvents", [])
    t.check("the Chrome JSON loads with json.load (%d events)" % len(ev), len(ev) > 1000)
    open_b = {}
    unmatched = 0
    for e in ev:
        k = (e.get("pid"), e.get("tid"))
        if e["ph"] == "B":
            open_b[k] = open_b.get(k, 0) + 1
        elif e["ph"] == "E":
            if not open_b.get(k):
                unmatched += 1
            else:
                open_b[k] -= 1
    left = sum(open_b.values())
    xs = [e for e in ev if e["ph"] == "X"]
    t.check("every B has an E and no slice has a negative length",
            left == 0 and unmatched == 0 and all(e["dur"] >= 0 for e in xs),
            "%d B open, %d E without B" % (left, unmatched))
    per_track = {}
    for e in xs:
        s0 = int(e["ts"] * 1000)
        per_track.setdefault((e["pid"], e["tid"]), []).append((s0, s0 + int(e["dur"] * 1000)))
    overlaps = [(k, a, b) for k, v in per_track.items() for a, b in zip(sorted(v), sorted(v)[1:]) if a[1] > b[0]]
    t.check("JSON: no two slices of a track overlap (Perfetto needs proper nesting), even truncated to integer ns",
            not overlaps, str(overlaps[:3]))
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
    guest_pcpus = sorted({names.get((e["pid"], e["tid"])) for e in xs if e["pid"] == 1 and e["cat"] == "guest"})
    want = ["pCPU 0", "pCPU 1", "pCPU 2", "pCPU 3"] if mode == "multi" else ["pCPU 0"]
    t.check("JSON: guest slices on %s" % ", ".join(want), guest_pcpus == want, str(guest_pcpus))
    vcpu_tracks = sorted({names.get((e["pid"], e["tid"])) for e in xs if e["pid"] >= 10})
    t.check("JSON: a state track per vCPU", vcpu_tracks == ["vCPU 0", "vCPU 1", "vCPU 2", "vCPU 3"],
            str(vcpu_tracks))
    starts = {e["id"]: e for e in ev if e["ph"] == "s"}
    ends = {e["id"]: e for e in ev if e["ph"] == "f"}
    t.check("JSON: SGI flows (%d): every start has its end, later or at the same time" % len(starts),
            len(starts) >= IPI_ROUNDS and starts.keys() == ends.keys() and
            all(ends[i]["ts"] >= starts[i]["ts"] for i in starts), "%d starts, %d ends" % (len(starts), len(ends)))


def compare_counts(t, summary, table, label):
    """The summary's exit counts against the hypervisor's exit table."""
    if not table:
        t.check("%s: the exit table is in the log" % label, False)
        return
    rows = summary["vms"]["0"]["counts"]
    mmio = [r for r in table["rows"] if r.startswith("MMIO ") and r != "MMIO unhandled (abort)"]
    diffs = []
    for r in COMPARED + mmio:
        want = [int(x) for x in table["rows"].get(r, [])]
        got = rows.get(r)
        if got != want:
            diffs.append("%s: trace %s, table %s" % (r, got, want))
    t.check("%s: the summary's counts equal the exit table's, row by row and vCPU by vCPU (%s)" % (
        label, ", ".join(COMPARED + mmio)), not diffs and len(mmio) >= 3, "; ".join(diffs))


def traced_boot(t, args, out):
    bin_path = os.path.join(out, "trace-%s.bin" % args.mode)
    log = fresh_log(args.build, "trace-%s.log" % args.mode)
    # quiet: the kernel's boot messages would be most of pCPU 0's records.
    env = run_qemu_env(args.build, MODE=args.mode, DISK="none", TRACE="1", TRACE_FILE=bin_path,
                       APPEND="console=ttyAMA0 quiet")
    con = QemuConsole([os.path.join(ROOT, "scripts", "run-qemu.sh")], log_path=log, env=env)

    def body():
        wait_for_shell(con, args.boot_timeout)
        rc, out_ = con.run("hbench -n %d ipi 0 1" % IPI_ROUNDS, timeout=300)
        t.check("the guest's IPI ping-pong runs (%d round trips)" % IPI_ROUNDS,
                rc == 0 and "BENCH name=ipi_rtt_us" in out_, out_[-300:])
        con.send("poweroff -f")
        code = con.wait_exit(timeout=120)
        t.check("poweroff -f ends QEMU with status 0", code == 0, "status %s" % code)
        bad = BAD.search(con.output)
        t.check("no panic, Oops, stall or lockup", bad is None, bad.group(0) if bad else "")

    rc = console_session(t, con, log, body)
    if rc:
        return
    text = con.output
    m = hyp_search(r"trace: dumped (\d+) records \((\d+) dropped\) to port hyp\.trace \(power-off\)", text)
    if not t.check("the power-off dump was written", m is not None):
        return
    t.check("nothing dropped (%s records): the counts can be compared" % m.group(1), m.group(2) == "0",
            "%s dropped" % m.group(2))
    rc, out_, err = tool(bin_path, "--check")
    t.check("trace.py --check passes", rc == 0 and "check: ok" in out_, (out_ + err)[-1500:])
    sj = os.path.join(out, "trace-%s-summary.json" % args.mode)
    js = os.path.join(out, "trace-%s.json" % args.mode)
    png = os.path.join(out, "trace-%s.png" % args.mode)
    for f in (sj, js, png):
        if os.path.exists(f):
            os.remove(f)
    rc, out_, err = tool(bin_path, "--summary-json", sj, "--json", js, "--png", png)
    if not t.check("trace.py writes the summary, JSON and PNG", rc == 0, err[-800:]):
        return
    with open(sj) as f:
        summary = json.load(f)
    t.check("the dump's header: %s mode, 4 pCPUs, 1 VM, the records the log names" % args.mode,
            (summary["mode"], summary["npcpus"], summary["nvms"], summary["records"]) ==
            (args.mode, 4, 1, int(m.group(1))), str({k: summary[k] for k in ("mode", "npcpus", "nvms", "records")}))
    compare_counts(t, summary, parse_exit_table(text), "power-off dump")
    lat = summary["vms"]["0"]["latency_us_all"]
    t.check("latencies measured: exit handling, SGI send to delivery (%d), runnable time" % lat["sgi"]["count"],
            lat["exit"]["count"] > 1000 and lat["sgi"]["count"] >= IPI_ROUNDS and lat["runnable"]["count"] > 0 and
            (args.mode == "single" or lat["kick"]["count"] >= IPI_ROUNDS), json.dumps(lat)[:600])
    json_checks(t, args.mode, js)
    with open(png, "rb") as f:
        t.check("the PNG is a PNG", f.read(8) == b"\x89PNG\r\n\x1a\n")


def make_trace(t, args):
    env = dict(os.environ, QEMU_LOCK="")    # this test runs under the caller's lock already
    out = os.path.join(args.build, "trace")
    base = os.path.join(out, "%s-ipi" % args.mode)
    for ext in (".bin", ".txt", ".json", ".png"):
        if os.path.exists(base + ext):
            os.remove(base + ext)
    p = subprocess.run(["make", "-C", ROOT, "--no-print-directory", "trace", "BUILD=" + args.build,
                        "WORKLOAD=ipi", "MODE=" + args.mode], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=900)
    t.check("make trace WORKLOAD=ipi MODE=%s succeeds" % args.mode, p.returncode == 0, p.stdout[-1500:])
    t.check("make trace writes .bin .txt .json .png", all(os.path.exists(base + e) for e in (".bin", ".txt",
                                                                                         ".json", ".png")))
    if not os.path.exists(base + ".txt"):
        return
    with open(base + ".txt") as f:
        txt = f.read()
    t.check("its summary uses the power-off dump (2 of 2) and marks the workload phase",
            re.search(r"dump 2: %s mode" % args.mode, txt) is not None and "workload phase from" in txt
            and "all vCPUs, workload phase" in txt, txt[:600])


GDB_SCRIPT = r"""
hv-continue-until "guest:[^\r\n]*# " 300
hv-trace {bin} --json {json}
printf "@@EXITS %d %d %d %d@@\n", g_vms[0].vcpus[0].stats.exits, g_vms[0].vcpus[1].stats.exits, g_vms[0].vcpus[2].stats.exits, g_vms[0].vcpus[3].stats.exits
echo @@DONE@@\n
"""


def gdb_trace(t, args, out):
    logdir = os.path.join(args.build, "test-logs", "trace-gdb-%s" % args.mode)
    os.makedirs(logdir, exist_ok=True)
    bin_path, js = os.path.join(logdir, "hv-trace.bin"), os.path.join(logdir, "hv-trace.json")
    for f in (bin_path, js):
        if os.path.exists(f):
            os.remove(f)
    script = os.path.join(logdir, "session.gdb")
    with open(script, "w") as f:
        f.write(GDB_SCRIPT.format(bin=bin_path, json=js))
    cmd = ["make", "-C", ROOT, "--no-print-directory", "-s", "debug", "BUILD=" + args.build, "MODE=" + args.mode,
           "TRACE=1", "TRACE_FILE=" + os.path.join(logdir, "port.bin"), "GDBPORT=%d" % free_port(),
           "GDBCMDS=" + script, "DEBUGDIR=" + logdir]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
        text, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        text, rc = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or ""), -1
    with open(os.path.join(logdir, "gdb-output.log"), "w") as f:
        f.write(text)
    m = re.search(r"hv-trace: wrote (\d+) records \((\d+) dropped\)", text)
    t.check("hv-trace under make debug TRACE=1 writes the rings to a file",
            rc == 0 and m is not None and "@@DONE@@" in text and os.path.exists(bin_path), text[-1500:])
    if not m or not os.path.exists(bin_path):
        return
    rc, o, e = tool(bin_path, "--check", "--summary-json", "-")
    t.check("hv-trace's dump decodes and passes --check", rc == 0 and "check: ok" in o, (o + e)[-1200:])
    try:
        s = json.loads(o[:o.index("\ncheck:")] if "\ncheck:" in o else o)
    except ValueError:
        s = None
    ex = re.search(r"@@EXITS (\d+) (\d+) (\d+) (\d+)@@", text)
    if s and ex:
        got = s["vms"]["0"]["counts"]["total exits"]
        want = [int(x) for x in ex.groups()]
        # A pCPU stopped between counting an exit and recording it is one behind.
        t.check("hv-trace's exit counts match the vCPUs' counters at the same stop (within 1 each)",
                len(got) == 4 and all(0 <= w - g <= 1 for g, w in zip(got, want)) and sum(want) > 1000,
                "trace %s, counters %s" % (got, want))
    else:
        t.check("hv-trace's summary and the counters are readable", False, text[-800:])
    try:
        with open(js) as f:
            n = len(json.load(f)["traceEvents"])
    except (OSError, ValueError, KeyError):
        n = 0
    t.check("hv-trace --json writes Chrome JSON through trace.py", n > 1000, "%d events" % n)


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--boot-timeout", type=int, default=300)
    ap.add_argument("--mode", default="multi", choices=["multi", "single"])
    ap.add_argument("--make-trace", action="store_true")
    ap.add_argument("--gdb", action="store_true")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    out = os.path.join(args.build, "test-logs")
    os.makedirs(out, exist_ok=True)
    t = Checks(args.mode, "trace")
    traced_boot(t, args, out)
    if args.make_trace:
        make_trace(t, args)
    if args.gdb:
        gdb_trace(t, args, out)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
