#!/usr/bin/env python3
"""Host test of scripts/trace.py (no QEMU): dumps built here with
struct.pack in the layout of hyp/trace/trace_format.h, then

- files that are not usable traces (missing, empty, not a trace, another
  format version, cut short, --dump out of range, a bad --window): exit
  status 2 and one line on stderr saying why and what to do;
- a small two-pCPU trace with known events: the exit counts, latencies,
  SGI matching, pCPU shares, Chrome JSON (slices, flows, metadata) and
  --check are exactly what the events say;
- traces that break a rule (a timestamp going back, a switch-in without a
  switch-out, an SGI delivered without a send, a vCPU away from its pCPU in
  multi mode, guest code on another pCPU in single mode): --check fails
  naming the problem;
- two dumps in one file: the last is used, --dump picks another, and the
  end of the first marks the workload phase;
- --png writes a PNG (gnuplot);
- make trace refuses a bad WORKLOAD in one line, and takes the QEMU lock
  itself unless a parent flock holds it.

    tests/system/test_trace_tool.py [--build build]
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import ROOT, Checks  # noqa: E402

TOOL = os.path.join(ROOT, "scripts", "trace.py")

T = {"GuestEnter": 1, "ExitSync": 2, "ExitIrq": 3, "ExitOther": 4, "Mmio": 5, "SwitchIn": 6, "SwitchOut": 7,
     "Block": 8, "Wake": 9, "SgiSend": 10, "IrqDeliver": 11, "IrqAck": 12, "IrqDone": 13, "KickSend": 14,
     "KickRecv": 15, "Psci": 16, "BlkSubmit": 17, "BlkComplete": 18, "Idle": 19, "IdleEnd": 20, "VmState": 21}
ALL = sum(1 << v for v in T.values())
FREQ = 1000000          # 1 tick = 1 us: latencies below are in ticks
EC_WFX, EC_HVC, EC_SYSREG, EC_DABT = 0x01, 0x16, 0x18, 0x24


def rec(ts, typ, vm=0, vcpu=0, a=0, b=0, c=0):
    return struct.pack("<QHBBIQQ", ts, T[typ], vm, vcpu, a, b, c)


def dump(pcpus, mode=0, names=((0, 0, "gicd"), (0, 1, "pl011")), version=1, nvms=1, dropped=None, magic=b"HYPTRACE",
         events=ALL):
    """pcpus: [[record bytes]] per pCPU."""
    out = struct.pack("<8sIIQIIII", magic, version, len(pcpus), FREQ, nvms, len(names), mode, events)
    for vm, rng, name in names:
        out += struct.pack("<BB14s", vm, rng, name.encode())
    for p, recs in enumerate(pcpus):
        out += struct.pack("<IIQ", p, len(recs), (dropped or {}).get(p, 0)) + b"".join(recs)
    return out


def sample(mode=0):
    """Two pCPUs, one VM of two vCPUs (multi: vCPU n on pCPU n).

    pCPU 0, vCPU 0: switched in at 10, enters at 20; a sysreg exit at 100
    sends SGI 1 to vCPU 1 (at 105, kicking pCPU 1 at 106) and re-enters at
    130 (exit handling 30); a pl011 MMIO write exit at 200, entry at 204 (4);
    PSCI_VERSION by HVC at 300, entry at 310 (10); an IRQ exit at 400, entry
    at 450 (50).
    pCPU 1, vCPU 1: switched in at 10, enters at 15; WFI at 50, blocks, idle
    from 52; woken by the kick at 150 (received 151), Wake at 152, SGI 1
    delivered at 153 (48 after the send), enters at 160 (kick to entry 9,
    runnable 8); acknowledges and finishes it, seen at the exit at 500,
    entry at 505 (5)."""
    p0 = [rec(10, "SwitchIn", a=6), rec(20, "GuestEnter"),
          rec(100, "ExitSync", a=EC_SYSREG, b=EC_SYSREG << 26), rec(105, "SgiSend", a=1, b=0b10),
          rec(106, "KickSend", a=1), rec(130, "GuestEnter"),
          rec(200, "ExitSync", a=EC_DABT, b=EC_DABT << 26 | 1 << 24, c=0x9000000),
          rec(201, "Mmio", a=1, b=0, c=4 | 1 << 8), rec(204, "GuestEnter"),
          rec(300, "ExitSync", a=EC_HVC, b=EC_HVC << 26, c=0x84000000), rec(302, "Psci", a=0x84000000, b=0x10001),
          rec(310, "GuestEnter"), rec(400, "ExitIrq", a=27), rec(450, "GuestEnter")]
    p1 = [rec(10, "SwitchIn", vcpu=1, a=6), rec(15, "GuestEnter", vcpu=1),
          rec(50, "ExitSync", vcpu=1, a=EC_WFX, b=EC_WFX << 26), rec(51, "Block", vcpu=1),
          rec(52, "Idle", vm=0xFF, vcpu=0xFF), rec(150, "IdleEnd", vm=0xFF, vcpu=0xFF),
          rec(151, "KickRecv", vcpu=1), rec(152, "Wake", vcpu=1, a=0xFFFFFFFF),
          rec(153, "IrqDeliver", vcpu=1, a=1, b=0), rec(160, "GuestEnter", vcpu=1),
          rec(500, "ExitIrq", vcpu=1, a=27), rec(500, "IrqAck", vcpu=1, a=1), rec(500, "IrqDone", vcpu=1, a=1),
          rec(505, "GuestEnter", vcpu=1), rec(600, "ExitSync", vcpu=1, a=EC_WFX, b=EC_WFX << 26 | 1)]
    return [p0, p1]


def run(*args):
    p = subprocess.run([sys.executable, TOOL] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stdout, p.stderr


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def error_cases(t, d):
    good = dump(sample())
    cases = [
        ("missing file", os.path.join(d, "nonexistent.bin"), [], r"no such file: record a trace with make run TRACE=1"),
        ("empty file", write(os.path.join(d, "empty.bin"), b""), [], "is empty: the hypervisor has not dumped"),
        ("not a trace", write(os.path.join(d, "junk.bin"), b"\x7fELF" + bytes(100)), [],
         "is not a hypervisor trace (it does not start with HYPTRACE)"),
        ("another format version", write(os.path.join(d, "v2.bin"), dump(sample(), version=2)), [],
         "dump 1 has format version 2, this tool reads version 1"),
        ("cut short", write(os.path.join(d, "cut.bin"), good[:-40]), [], "dump 1 is truncated: it needs %d bytes of the "
         "file, which has %d, and there is no complete one" % (len(good), len(good) - 40)),
        ("cut inside the header", write(os.path.join(d, "cut-header.bin"), good[:20]), [], "dump 1 is truncated"),
        ("garbage after a dump", write(os.path.join(d, "tail.bin"), good + b"garbage!" * 8), [],
         "the 64 bytes after dump 1 (offset %d) are not a dump" % len(good)),
        ("--dump out of range", write(os.path.join(d, "one.bin"), good), ["--dump", "3"],
         "holds 1 complete dump: --dump takes 1"),
        ("bad --window", os.path.join(d, "one.bin"), ["--window", "abc"], "--window abc: use --window START_MS,LEN_MS"),
        ("--window after the end", os.path.join(d, "one.bin"), ["--window", "50,1", "--json", os.path.join(d, "w.json")],
         "--window 50,1 starts after the trace ends (0.590 ms)"),
    ]
    for name, path, extra, want in cases:
        rc, out, err = run(path, *extra)
        lines = err.strip().splitlines()
        t.check("%s: exit status 2 and one line saying why" % name,
                rc == 2 and len(lines) == 1 and lines[0].startswith("trace: ") and want in lines[0] and not out,
                "rc=%d stdout=%r stderr=%r" % (rc, out[:200], err[:400]))


def decoding(t, d):
    path = write(os.path.join(d, "sample.bin"), dump(sample()))
    sj, js = os.path.join(d, "sample-summary.json"), os.path.join(d, "sample.json")
    rc, out, err = run(path, "--summary-json", sj, "--json", js, "--check")
    t.check("a consistent trace passes --check", rc == 0 and "check: ok" in out, out + err)
    with open(sj) as f:
        s = json.load(f)
    counts = s["vms"]["0"]["counts"]
    want = {"scheduled": [1, 1], "blocked in WFI": [0, 1], "total exits": [4, 3], "HVC/SMC (PSCI)": [1, 0],
            "MMIO gicd": [0, 0], "MMIO pl011": [1, 0], "MMIO unhandled (abort)": [0, 0], "sysreg": [1, 0],
            "WFI": [0, 1], "IRQ": [1, 1], "SGIs sent": [1, 0], "SGIs received": [0, 1], "kicks sent": [1, 0]}
    bad = {k: (counts.get(k), v) for k, v in want.items() if counts.get(k) != v}
    t.check("exit counts per vCPU under the exit table's labels (WFE is not WFI)", not bad, str(bad))
    lat = s["vms"]["0"]["latency_us"]
    ex0 = lat["0"]["exit"]
    t.check("exit handling of vCPU 0: 4 exits, max 50 us, p50 10 us (nearest rank)",
            (ex0["count"], ex0["max"], ex0["p50"]) == (4, 50.0, 10.0), str(ex0))
    t.check("a WFI exit that blocked is not exit handling time; the one after the wake is (5 us)",
            (lat["1"]["exit"]["count"], lat["1"]["exit"]["max"]) == (1, 5.0), str(lat["1"]["exit"]))
    t.check("kick sent to received: pCPU 0 at 106, pCPU 1 at 151: 45 us, on the receiving vCPU's row",
            (lat["1"]["kicksent"]["count"], lat["1"]["kicksent"]["max"]) == (1, 45.0), str(lat["1"]["kicksent"]))
    t.check("kick to entry: received at 151, entry at 160: 9 us",
            (lat["1"]["kick"]["count"], lat["1"]["kick"]["max"]) == (1, 9.0), str(lat["1"]["kick"]))
    t.check("SGI send to delivery: 105 -> 153: 48 us, on the target's row",
            (lat["1"]["sgi"]["count"], lat["1"]["sgi"]["p50"]) == (1, 48.0) and lat["0"]["sgi"]["count"] == 0,
            str(lat))
    t.check("runnable, not running: Wake at 152, entry at 160: 8 us",
            (lat["1"]["runnable"]["count"], lat["1"]["runnable"]["max"]) == (1, 8.0), str(lat["1"]["runnable"]))
    by = s["exit_handling_by_reason"]
    t.check("exit handling by reason names MMIO pl011, sysreg, HVC/SMC (PSCI), IRQ",
            by.get("MMIO pl011", {}).get("max") == 4.0 and by.get("sysreg", {}).get("max") == 30.0 and
            by.get("HVC/SMC (PSCI)", {}).get("max") == 10.0 and by.get("IRQ", {}).get("count") == 2, str(by))
    sh = s["pcpus"]["1"]
    # pCPU 1 from 10 to 600: guest 15-50, 160-500, 505-600 (470), idle 52-150 (98).
    t.check("pCPU shares from the segments (pCPU 1: 470 of 590 us in the guest, 98 idle)",
            abs(sh["guest"] - 470 / 590) < 1e-9 and abs(sh["idle"] - 98 / 590) < 1e-9, str(sh))
    t.check("summary header: mode, records, nothing dropped", (s["mode"], s["records"], s["dropped"], s["npcpus"]) ==
            ("multi", 29, 0, 2), str({k: s[k] for k in ("mode", "records", "dropped", "npcpus")}))

    with open(js) as f:
        j = json.load(f)
    ev = j["traceEvents"]
    b = sum(1 for e in ev if e["ph"] == "B")
    e_ = sum(1 for e in ev if e["ph"] == "E")
    xs = [e for e in ev if e["ph"] == "X"]
    t.check("JSON: complete slices only (every B has an E: %d B, %d E), none of negative length" % (b, e_),
            b == e_ and xs and all(e["dur"] >= 0 for e in xs))
    guest0 = [(e["ts"], e["dur"]) for e in xs if e["pid"] == 1 and e["tid"] == 1 and e["cat"] == "guest"]
    t.check("JSON: pCPU 0's guest slices, in us from the first record, each ending 1 ns early", guest0 == [
        (10.0, 79.999), (120.0, 69.999), (194.0, 95.999), (300.0, 89.999), (440.0, 149.999)], str(guest0))
    ns_ = {}
    for e in xs:
        ns_.setdefault((e["pid"], e["tid"]), []).append((int(e["ts"] * 1000), int(e["ts"] * 1000) + int(e["dur"] * 1000)))
    overlaps = [(k, a, b) for k, v in ns_.items() for a, b in zip(sorted(v), sorted(v)[1:]) if a[1] > b[0]]
    t.check("JSON: no two slices of a track overlap, even truncated to integer ns", not overlaps, str(overlaps[:3]))
    named = {e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] in ("thread_name", "process_name")}
    t.check("JSON: tracks named pCPUs/pCPU n and VM 0/vCPU n",
            {"pCPUs", "pCPU 0", "pCPU 1", "VM 0", "vCPU 0", "vCPU 1"} <= named, str(named))
    states = [e["name"] for e in xs if e["pid"] == 10 and e["tid"] == 2]
    t.check("JSON: vCPU 1's states in order", states == [
        "off", "in hypervisor", "running in guest", "in hypervisor", "blocked (WFI)", "runnable, not running",
        "running in guest", "in hypervisor", "running in guest", "in hypervisor"], str(states))
    s_ = [e for e in ev if e["ph"] == "s"]
    f_ = [e for e in ev if e["ph"] == "f"]
    t.check("JSON: one SGI flow from pCPU 0 at 95 us to pCPU 1 at 143 us, bound to enclosing slices",
            len(s_) == 1 and len(f_) == 1 and s_[0]["id"] == f_[0]["id"] and (s_[0]["tid"], s_[0]["ts"]) == (1, 95.0)
            and (f_[0]["tid"], f_[0]["ts"], f_[0]["bp"]) == (2, 143.0, "e"), str(s_ + f_))
    inst = {e["name"] for e in ev if e["ph"] == "i"}
    t.check("JSON: instants for the kick, PSCI and switches", {"kick pCPU 1", "kick received", "PSCI PSCI_VERSION",
                                                               "switch in (First)"} <= inst, str(inst))
    rc, out, _ = run(path)
    t.check("the text summary is the default output and uses the exit table's labels",
            rc == 0 and "exit counts of VM 0" in out and "  HVC/SMC (PSCI)" in out and "MMIO pl011" in out
            and "SGI send to delivery" in out, out[:600])

    # A window keeps what overlaps it, clipped.
    rc, _, err = run(path, "--json", js, "--window", "0.1,0.1")
    with open(js) as f:
        xs = [e for e in json.load(f)["traceEvents"] if e["ph"] == "X"]
    t.check("--window 0.1,0.1 keeps the slices between 100 and 200 us, clipped",
            rc == 0 and xs and all(100.0 <= e["ts"] and e["ts"] + e["dur"] <= 200.0 + 1e-6 for e in xs), err)


def broken(t, d):
    def check(name, pcpus, want, mode=0):
        path = write(os.path.join(d, "broken.bin"), dump(pcpus, mode=mode))
        rc, out, err = run(path, "--check")
        t.check("--check finds %s" % name, rc == 1 and want in out and "check: FAILED" in out,
                "rc=%d %s %s" % (rc, out[-600:], err))

    s = sample()
    s[0][5] = rec(90, "GuestEnter")      # before the exit at 100
    check("a timestamp going back on a pCPU", s, "pCPU 0: timestamp goes back by 16 ticks")
    s = sample()
    s[0].insert(2, rec(25, "SwitchIn", vcpu=0, a=0))
    check("a second switch-in without a switch-out", s, "VM 0 vCPU 0 switched in (Turn) while VM 0 vCPU 0 has not "
          "switched out")
    s = sample()
    del s[0][3]                          # the SgiSend
    check("an SGI delivered without a send", s, "SGI 1 delivered to VM 0 vCPU 1 without an earlier SgiSend to it")
    s = sample()
    s[1][3] = rec(52, "ExitSync", vcpu=0, a=EC_WFX, b=EC_WFX << 26)
    check("a vCPU on another pCPU in multi mode", s, "multi mode: VM 0 vCPU 0 on pCPU 1, and earlier on pCPU 0")
    s = sample()
    check("guest code on pCPU 1 in single mode", s, "single mode: VM 0 vCPU 1 entered the guest on pCPU 1", mode=1)
    # Recorded without SgiSend (TRACE_EVENTS=...): deliveries cannot be
    # matched, which is not a problem of the trace; the counts say so.
    s = sample()
    del s[0][3]
    path = write(os.path.join(d, "filtered.bin"), dump(s, events=ALL & ~(1 << T["SgiSend"])))
    rc, out, _ = run(path, "--check", "--summary-json", "-")
    t.check("with SgiSend filtered out, --check skips the SGI rule and says so; SGI counts are not recorded",
            rc == 0 and "not checked (the event filter left out their events): SGI deliveries" in out and
            '"SGIs sent": null' in out, out[-800:])
    # The same SGI sent twice while the first copy is still pending in an
    # LR: one delivery, and no complaint.
    s = sample()
    s[0].insert(4, rec(105, "SgiSend", a=1, b=0b10))
    path = write(os.path.join(d, "coalesced.bin"), dump(s))
    rc, out, _ = run(path, "--check", "--summary-json", "-")
    t.check("two sends before one delivery are one delivery, not a problem",
            rc == 0 and '"delivered": 1' in out and '"coalesced": 1' in out, out[-800:])


def two_dumps(t, d):
    first = dump([[rec(10, "SwitchIn", a=6), rec(20, "GuestEnter"), rec(60, "ExitIrq", a=27), rec(70, "GuestEnter")],
                  [rec(5, "Idle", vm=0xFF, vcpu=0xFF)]])
    path = write(os.path.join(d, "two.bin"), first + dump(sample()))
    rc, out, _ = run(path, "--summary-json", "-")
    s = json.loads(out) if rc == 0 else {}
    t.check("two dumps: the last one is used, and the first one's end (70) marks the workload phase",
            s.get("dump") == 2 and s.get("records") == 29 and s.get("workload_start_ms") == 0.06, out[:300])
    rc, out, _ = run(path, "--dump", "1", "--summary-json", "-")
    s = json.loads(out) if rc == 0 else {}
    t.check("--dump 1 picks the first", s.get("dump") == 1 and s.get("records") == 5, out[:300])
    path = write(os.path.join(d, "two-cut.bin"), first + dump(sample())[:-8])
    rc, out, err = run(path, "--summary-json", "-")
    t.check("a cut-short last dump: a warning, and the complete one before it is used",
            rc == 0 and "warning" in err and "dump 2 is truncated" in err and json.loads(out).get("dump") == 1, err)


def png(t, d):
    path = write(os.path.join(d, "sample.bin"), dump(sample()))
    out = os.path.join(d, "sample.png")
    if os.path.exists(out):
        os.remove(out)
    rc, _, err = run(path, "--png", out)
    with open(out, "rb") if os.path.exists(out) else open(os.devnull, "rb") as f:
        head = f.read(8)
    t.check("--png writes a PNG with gnuplot", rc == 0 and head == b"\x89PNG\r\n\x1a\n", err[-400:])


def make_trace_args(t, d):
    """make trace's checks before it boots, and its QEMU lock (no QEMU)."""
    p = subprocess.run(["make", "-C", ROOT, "-s", "--no-print-directory", "trace", "WORKLOAD=nope"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    lines = p.stderr.strip().splitlines()
    t.check("make trace WORKLOAD=nope: one line naming the workloads", p.returncode != 0 and len(lines) == 1 and
            "WORKLOAD=nope is not a workload: use WORKLOAD=boot" in lines[0] and "WORKLOAD=ipi" in lines[0],
            p.stderr)
    rec = os.path.join(ROOT, "scripts", "trace_record.py")
    p = subprocess.run([sys.executable, rec, "--workload", "nope"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    t.check("trace_record.py --workload nope: status 2, one line", p.returncode == 2 and
            p.stderr.count("\n") == 1 and "is not a workload" in p.stderr, p.stderr)

    lock = os.path.join(d, "qemu.lock")
    probe = ("import sys; sys.path.insert(0, %r); import trace_record as t; "
             "f = t.take_lock(sys.argv[1]); print('LOCK', 'none' if f is None else 'taken')" %
             os.path.join(ROOT, "scripts"))

    def take(prefix=(), lock_path=lock):
        return subprocess.run(list(prefix) + [sys.executable, "-c", probe, lock_path], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=60)

    p = take()
    t.check("make trace takes a free QEMU lock itself", "LOCK taken" in p.stdout and "waiting" not in p.stdout,
            p.stdout)
    p = take(["flock", lock])
    t.check("under `flock LOCK make trace` it sees the lock held by its parent and does not wait for itself",
            "held by a parent" in p.stdout and "LOCK none" in p.stdout, p.stdout)
    holder = subprocess.Popen(["flock", lock, "sleep", "2"])
    try:
        time.sleep(0.5)
        p = take()
    finally:
        holder.wait()
    t.check("another boot's lock: it says it waits, then takes it", "waiting for %s" % lock in p.stdout and
            "LOCK taken" in p.stdout, p.stdout)
    p = take(lock_path="")
    t.check("QEMU_LOCK= (empty): no lock", "LOCK none" in p.stdout, p.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    d = os.path.join(os.path.abspath(args.build), "test-logs", "trace-tool")
    os.makedirs(d, exist_ok=True)
    t = Checks("host", "trace tool")
    error_cases(t, d)
    decoding(t, d)
    broken(t, d)
    two_dumps(t, d)
    png(t, d)
    make_trace_args(t, d)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
