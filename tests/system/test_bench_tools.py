#!/usr/bin/env python3
"""Smoke test of the `make bench` tooling (no timing assertions).

1. scripts/bench.py's parsers on canned guest and hypervisor output, and its
   report with a failed configuration.
2. One multi-mode boot: each guest program (/bin/hbench) runs once with tiny
   iteration counts and must print a well-formed value; the exit table comes
   on demand (Ctrl-] s) and at shutdown, and both parse.

Prints one TAP-like line per check ("ok - ..." / "not ok - ..."), which
tests/run_all.py counts. Exit status 1 on any failure.

    tests/system/test_bench_tools.py [--build build] [--no-boot]
"""
import argparse
import io
import math
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import bench  # noqa: E402
from qemu_console import QemuConsole, ConsoleError  # noqa: E402

passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok - [bench] %s" % name, flush=True)
    else:
        failed += 1
        print("not ok - [bench] %s%s" % (name, (": " + str(detail)[:600]) if detail else ""), flush=True)
    return cond


CANNED_GUEST = (
    "guest:/# hbench -t 1 ipi 0 1\r\n"
    "BENCH name=ipi_rtt_us cpus=0,1 iters=141 value=7125.695\r\n"
    "[   71.052958] hrtimer: interrupt took 288239264 ns\r\n"
    "BENCH name=spin_mops threads=4 iters=118060000 check=a406 value=109.584\r\n"
    "BENCH name=mmio_read_ns addr=0x8000008 reg=0x0100043b iters=1100 value=997803.1\r\n"
    "BENCH name=syscall_ns call=getppid ppid=105 iters=32000 value=nan\r\n"
    "BENCH name=broken iters=3\r\n"
    "BENCH-ERROR mmap /dev/mem at 0x8000000: Operation not permitted\r\n"
)

CANNED_TABLE = """[p0] exit statistics (multi mode)
[p0]   exits by reason             vCPU0      vCPU1      vCPU2      vCPU3
[p0]   ran on pCPU                     0          1          2          3
[p0]   share of its pCPU           81.9%      76.7%      72.9%      85.3%
[p0]   total exits                  5830       7008       5138      23253
guest output that is not the hypervisor's
[p0]   MMIO gicd                    1245          8          1          1
[p0]   per pCPU                    pCPU0      pCPU1      pCPU2      pCPU3
[p0]   kicks received                236        281        220        176
[p0] guest requested SYSTEM_OFF
[p0]   total exits                 99999      99999      99999      99999
"""


def unit_checks():
    recs = bench.parse_bench(CANNED_GUEST)
    keys = {bench.bench_key(d): d["value"] for d in recs}
    check("parser reads BENCH lines through \\r\\n and kernel messages",
          keys == {"ipi_rtt_us_0_1": 7125.695, "spin_mops_4": 109.584, "mmio_read_ns": 997803.1}, keys)

    # Console output as it arrives: "\r\r\n" line ends, an offset into it.
    before = "guest:/# [p0] exit statistics (multi mode)\r\r\n[p0]   total exits  1 1 1 1\r\r\n"
    raw = before + CANNED_TABLE.replace("\n", "\r\r\n")
    t = bench.parse_exit_table(raw, len(before))
    ok = (t is not None and t["mode"] == "multi" and t["rows"]["total exits"] == [5830, 7008, 5138, 23253]
          and t["rows"]["pCPU: kicks received"] == [236, 281, 220, 176]
          and "share of its pCPU" in t["gauges"] and "ran on pCPU" in t["gauges"])
    check("exit-table parser: rows, per-pCPU rows, gauges, stops at the table's end", ok, t)
    later = CANNED_TABLE.replace("5830", "6830").replace("1245 ", "1745 ")
    t2 = bench.parse_exit_table(later)
    rates = bench.exit_rates(t, t2, 2.0) if t and t2 else {}
    check("exit rates are counter differences per second, gauges left out",
          rates.get("total exits") == [500.0, 0, 0, 0] and rates.get("MMIO gicd") == [250.0, 0, 0, 0]
          and "share of its pCPU" not in rates and "ran on pCPU" not in rates, rates)

    # A report where one configuration never booted must still come out.
    class Fake:
        def __init__(self, cfg, booted, values):
            self.cfg, self.run, self.booted, self.values = cfg, 1, booted, values
            self.profile = {"total exits": [10.0, 20.0, 30.0, 40.0]} if cfg != "native" and booted else None
            self.errors = [] if booted else ["no GUEST-BOOT-OK"]
    vals = {k: 2.0 for k in bench.METRIC_KEYS}
    results = {"native": [Fake("native", True, dict(vals))], "single": [Fake("single", False, {})],
               "multi": [Fake("multi", True, dict(vals, boot_wall_s=4.0))]}
    skipped = {"single": "did not boot in run 1"}
    summ = bench.summarize(results, bench.CONFIGS)
    try:
        text = bench.table_text(summ, results, bench.CONFIGS, skipped, None, ["header"])
        row = [l for l in text.splitlines() if l.startswith("boot: QEMU start")][0]
        ok = "not run" in row and re.search(r"\s2\.00\s", row) is not None   # multi/native = 4/2
        check("report marks a failed configuration and computes ratios", ok, text[:800])
    except Exception as e:  # noqa: BLE001
        check("report marks a failed configuration and computes ratios", False, repr(e))


def number(s):
    try:
        v = float(s)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def boot_checks(build):
    log = os.path.join(build, "test-logs", "bench-tools.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    if os.path.exists(log):
        os.remove(log)
    env = dict(os.environ, HYP=os.path.join(build, "hyp.elf"), KERNEL=os.path.join(build, "guest", "Image"),
               INITRD=os.path.join(build, "guest", "initramfs.cpio.gz"), MODE="multi",
               APPEND="console=ttyAMA0 iomem=relaxed")
    con = QemuConsole([os.path.join(ROOT, "scripts", "run-qemu.sh")], log_path=log, env=env)
    try:
        con.expect(r"GUEST-BOOT-OK cpus=(\d+)", timeout=300)
        con.expect(r"# ", timeout=60)
        programs = [
            ("hbench -n 20 ipi 0 1", ["ipi_rtt_us_0_1"]),
            ("hbench -n 20 ipi 0 3", ["ipi_rtt_us_0_3"]),
            ("hbench -n 200 mmio", ["mmio_read_ns"]),
            ("hbench -n 200 syscall", ["syscall_ns"]),
            ("hbench -n 100000 spin 1 2 4", ["spin_mops_1", "spin_mops_2", "spin_mops_4"]),
        ]
        for cmd, keys in programs:
            rc, out = con.run(cmd, timeout=180)
            got = {bench.bench_key(d): d["value"] for d in bench.parse_bench(out)}
            ok = rc == 0 and all(number(got.get(k)) for k in keys)
            check("guest '%s' prints %s" % (cmd, ", ".join(keys)), ok, "rc=%d %r" % (rc, out[-300:]))
        rc, out = con.run("cat /proc/uptime", timeout=60)
        check("guest /proc/uptime reads", re.search(r"^\d+\.\d+ \d+\.\d+$", out, re.M) is not None, repr(out))

        mark = len(con.output)
        con.send_raw(bench.STATS_KEY)
        try:
            con.expect(r"kicks received[^\n]*\n", timeout=30)
            t = bench.parse_exit_table(con.output, mark)
        except ConsoleError:
            t = None
        check("exit table on demand (Ctrl-] s) parses with 4 vCPU columns",
              t is not None and len(t["rows"].get("total exits", [])) == 4, con.output[mark:][-600:])
        rc, out = con.run("echo still-here", timeout=60)
        check("shell unaffected by the debug key", out.strip().endswith("still-here"), repr(out))

        mark = len(con.output)
        con.send("poweroff -f")
        code = con.wait_exit(120)
        t = bench.parse_exit_table(con.output, mark)
        check("poweroff, and the shutdown exit table parses",
              code == 0 and t is not None and len(t["rows"].get("total exits", [])) == 4, "exit %s" % code)
    except ConsoleError as e:
        check("console session completes", False, str(e)[-1500:])
    finally:
        con.kill()
    print("log: %s" % log)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--no-boot", action="store_true", help="parser checks only")
    args = ap.parse_args()
    unit_checks()
    if not args.no_boot:
        boot_checks(os.path.abspath(args.build))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
