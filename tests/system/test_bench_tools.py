#!/usr/bin/env python3
"""Smoke test of the `make bench` tooling (no timing assertions).

1. scripts/bench.py's parsers on recorded guest and hypervisor output
   (with kernel messages landing mid-line), its report and closing note with
   a failed configuration, the CSV round trip, and mk/bench.mk's checks of
   RUNS= and QUICK=; for the two-VM configurations, exit tables of several
   VMs, VM 1's busy CPUs, the busy/idle ratios, the neighbour table, CSV
   rows and chart panels, and the VM descriptions (checked by machine.py).
2. One multi-mode boot: each guest program (/bin/hbench) runs once with
   small iteration counts and must print well-formed BENCH records; the
   module (/lib/hbench/hbench_exit.ko) loads, its HVC and MMIO loops are
   seen in the hypervisor's exit counters, and the exit table comes on
   demand (Ctrl-] s) and at shutdown.
3. One native boot: the module finds QEMU's SMC conduit and answers, and
   the disk program runs against QEMU's own virtio-blk-device.
4. One boot of each two-VM configuration (2vm-disjoint, 2vm-shared) as
   make bench runs it, with short measurements: VM 0 measures with VM 1
   idle and busy, and every value and ratio comes out.

Prints one TAP-like line per check ("ok - ..." / "not ok - ..."), which
tests/run_all.py counts. Exit status 1 on any failure.

    tests/system/test_bench_tools.py [--build build] [--no-boot]
"""
import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import bench  # noqa: E402
from checks import BAD  # noqa: E402
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


# Guest console output as recorded in bench logs: "\r\n" line ends, a kernel
# message right after a value and one splitting a record, a non-finite
# value, a record without a value, and an error line.
RECORDED_GUEST = (
    "guest:/# hbench -t 1 ipi 0 1\r\n"
    "BENCH name=ipi_rtt_us cpus=0,1 iters=141 value=712.695\r\n"
    "BENCH name=ipi_busy_us cpus=0,1 rounds=56 min=653.3 max=37285.7 p90=25560.8 value=19900.9\r\n"
    "BENCH name=ipi_busy_p90_us cpus=0,1 rounds=56 val[   12.345678] hrtimer: interrupt took 1000 ns\r\n"
    "ue=25560.8\r\n"
    "BENCH name=hvc_ns call=PSCI_VERSION conduit=hvc cpu=0 result=0x10001 batches=83 iters=22083 min=5196.6 "
    "value=7888.5[   95.795355] rcu: INFO: rcu_sched detected stalls on CPUs/tasks:\r\n"
    "[   96.667406] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [hbench:113]\r\n"
    "\r\n"
    "BENCH name=spin_mops threads=4 iters=118060000 che[   71.052958] hrtimer: interrupt took 288239264 ns\r\n"
    "ck=a406 value=109.584\r\n"
    "BENCH name=mmio_read_ns reg=GICD_IIDR cpu=0 result=0x100043b batches=89 iters=18688 min=6178.5 value=7671.7\r\n"
    "BENCH name=svc_ns call=getppid ppid=105 iters=32000 value=nan\r\n"
    "BENCH name=broken iters=3\r\n"
    "BENCH-ERROR open /proc/hbench_exit: No such file or directory\r\n"
)

# The exit table as stats.cpp prints it (from a bench log; every hypervisor
# line starts with RS, 0x1E), with guest output between its lines, one of
# them a forged table row without the RS, and the disk line that follows it.
RECORDED_TABLE = """\x1e[p0] exit statistics (multi mode)
\x1e[p0]   exits by reason             vCPU0      vCPU1      vCPU2      vCPU3
\x1e[p0]   ran on pCPU                     0          1          2          3
\x1e[p0]   scheduled                       1          1          1          1
\x1e[p0]   preempted                       0          0          0          0
\x1e[p0]   blocked in WFI               1416       1080       1036       1075
\x1e[p0]   share of its pCPU           53.7%      35.1%      28.0%      28.6%
\x1e[p0]   total exits                126761       6347       6595       3474
\x1e[p0]   HVC/SMC (PSCI)              55428          0          0          0
\x1e[p0]   MMIO gicd                   42278          1          8          1
guest output that is not the hypervisor's
[p0]   total exits                      7          7          7          7
\x1e[p0]   MMIO pl011                  24586       3466       4817       1197
\x1e[p0]   per pCPU                    pCPU0      pCPU1      pCPU2      pCPU3
\x1e[p0]   ran guest code (1=yes)          1          1          1          1
\x1e[p0]   kicks received               1022        702        283        570
\x1e[p0] VM 0 disk: 3 reads (12 KiB), 0 writes (0 KiB), 0 flushes, 0 errors, 0 unsupported; 3 notifies
\x1e[p0]   total exits                 99999      99999      99999      99999
"""


# Ctrl-] s on a machine of two VMs (from a 2vm-shared bench log): one table
# per VM, then the per-pCPU rows once.
RECORDED_TWO_VMS = """\x1e[p0] exit statistics of VM 0 (multi mode)
\x1e[p0]   exits by reason             vCPU0      vCPU1
\x1e[p0]   ran on pCPU                     0          1
\x1e[p0]   preempted                     623        348
\x1e[p0]   share of its pCPU           43.7%      27.5%
\x1e[p0]   total exits                 24295      13225
\x1e[p0]   IRQ                          1982       1284
\x1e[p0]   kicks sent                    891        837
\x1e[p0] exit statistics of VM 1 (multi mode)
\x1e[p0]   exits by reason             vCPU0      vCPU1
\x1e[p0]   ran on pCPU                     0          1
\x1e[p0]   preempted                     612        397
\x1e[p0]   share of its pCPU           34.9%      28.6%
\x1e[p0]   total exits                 38176       5428
\x1e[p0]   IRQ                         12607       1039
\x1e[p0]   kicks sent                    327        282
\x1e[p0]   per pCPU                    pCPU0      pCPU1      pCPU2      pCPU3
\x1e[p0]   ran guest code (1=yes)          1          1          0          0
\x1e[p0]   kicks received               1100       1199          0          0
"""


def fake_session(cfg, run, booted, values, profile=None, boot_profile=None, phase_profiles=None):
    return types.SimpleNamespace(cfg=cfg, run=run, booted=booted, values=values, profile=profile,
                                 boot_profile=boot_profile, phase_profiles=phase_profiles or {},
                                 errors=[] if booted else ["no GUEST-BOOT-OK"])


def unit_checks():
    recs = bench.parse_bench(RECORDED_GUEST)
    keys = {bench.bench_key(d): d["value"] for d in recs}
    check("parser reads BENCH records through \\r\\n and kernel messages mid-line",
          keys == {"ipi_rtt_us_0_1": 712.695, "ipi_busy_us_0_1": 19900.9, "ipi_busy_p90_us_0_1": 25560.8,
                   "hvc_ns": 7888.5, "spin_mops_4": 109.584, "mmio_read_ns": 7671.7},
          keys)
    spins = bench.parse_bench("".join("BENCH name=spin_mops threads=%d iters=1 value=%g\n" % tv for tv in
                                       ((1, 100), (4, 300), (2, 150), (2, 160), (4, 160), (1, 80))))
    sp = bench.speedup_of(spins)
    check("speedup is the mean ratio of adjacent 1- and 4-thread passes", sp is not None and abs(sp - 2.5) < 1e-9, sp)
    hvc = [d for d in recs if d["name"] == "hvc_ns"]
    check("parser keeps a record's other fields", hvc and hvc[0].get("conduit") == "hvc"
          and hvc[0].get("result") == "0x10001", hvc)

    # Console output as it arrives: "\r\r\n" line ends, an offset into it.
    before = "guest:/# \r\r\n\x1e[p0] exit statistics (multi mode)\r\r\n\x1e[p0]   total exits  1 1 1 1\r\r\n"
    raw = before + RECORDED_TABLE.replace("\n", "\r\r\n")
    t = bench.parse_exit_table(raw, len(before))
    ok = (t is not None and t["mode"] == "multi" and t["rows"]["total exits"] == [126761, 6347, 6595, 3474]
          and t["rows"]["pCPU: kicks received"] == [1022, 702, 283, 570]
          and t["rows"]["MMIO pl011"] == [24586, 3466, 4817, 1197]
          and {"share of its pCPU", "ran on pCPU", "pCPU: ran guest code (1=yes)"} <= t["gauges"]
          and "scheduled" not in t["gauges"])
    check("exit-table parser: rows, per-pCPU rows, gauges, ends at the disk line; guest lines and a forged row "
          "(no RS) are skipped", ok, t)
    # The guest's prompt printed one byte at a time between the table's
    # lines (from a bench log): each guest byte a table line cut is followed
    # by an empty record (RS, line end), at a line start once "\r" is gone.
    cut = ("@@QC9-E=0@@\x1e\r\r\n\x1e[p0] exit statistics (multi mode)\r\r\n\r\x1e\r\r\n"
           "\x1e[p0]   exits by reason             vCPU0      vCPU1      vCPU2      vCPU3\r\r\n"
           "\x1e[p0]   HVC/SMC (PSCI)               3009          0          0          0\r\r\n\r\n"
           "\x1e[p0]   MMIO gicd                     144         10          8          1\r\r\ng\x1e\r\r\n"
           "\x1e[p0]   per pCPU                    pCPU0      pCPU1      pCPU2      pCPU3\r\r\nu\x1e\r\r\n"
           "\x1e[p0]   kicks received                249        318        298        222\r\r\n"
           "\x1e[p0] VM 0 disk: 9 reads (8196 KiB)\r\r\n\x1e[p0]   total exits  9 9 9 9\r\r\n")
    t2 = bench.parse_exit_table(cut)
    check("exit-table parser: the empty records that mark guest bytes cut by the table do not end it",
          t2 is not None and t2["rows"].get("HVC/SMC (PSCI)") == [3009, 0, 0, 0]
          and t2["rows"].get("MMIO gicd") == [144, 10, 8, 1]
          and t2["rows"].get("pCPU: kicks received") == [249, 318, 298, 222] and "total exits" not in t2["rows"], t2)
    counts = bench.exit_counts(t) if t else {}
    check("boot exit counts leave the gauges out", "total exits" in counts and "share of its pCPU" not in counts
          and "ran on pCPU" not in counts, counts)
    bv = bench.boot_values(t) if t else {}
    check("boot metric: exits summed over vCPUs", bv == {"boot_exits": 126761 + 6347 + 6595 + 3474}, bv)
    later = RECORDED_TABLE.replace("126761", "127761").replace("42278 ", "42778 ")
    t2 = bench.parse_exit_table(later)
    rates = bench.exit_rates(t, t2, 2.0) if t and t2 else {}
    check("exit rates are counter differences per second, gauges left out",
          rates.get("total exits") == [500.0, 0, 0, 0] and rates.get("MMIO gicd") == [250.0, 0, 0, 0]
          and "share of its pCPU" not in rates and "ran on pCPU" not in rates, rates)
    tv = bench.throughput_values(rates)
    check("throughput metric: exit rate summed over vCPUs", tv == {"exit_rate": 500.0}, tv)

    # A report where one configuration never booted must still come out,
    # with the ratios of the others and a closing note naming every ratio.
    vals = {k: 2.0 for k in bench.METRIC_KEYS}
    prof = {"total exits": [10.0, 20.0, 30.0, 40.0], "MMIO gicd": [5.0, 0.0, 0.0, 0.0]}
    native = {k: v for k, v in vals.items() if k not in bench.HYP_ONLY}
    results = {"native": [fake_session("native", 1, True, dict(native, speedup_4v1=1.5))],
               "single": [fake_session("single", 1, False, {})],
               "multi": [fake_session("multi", 1, True, dict(vals, boot_wall_s=4.0, speedup_4v1=1.8), prof, prof)]}
    skipped = {"single": "did not boot in run 1"}
    summ = bench.summarize(results, bench.CONFIGS)
    try:
        text = bench.table_text(summ, results, bench.CONFIGS, skipped, None, ["header"])
        row = [l for l in text.splitlines() if l.startswith("boot: QEMU start")][0]
        ok = "not run" in row and re.search(r"\s2\.00(\s|$)", row) is not None   # multi/native = 4/2
        check("report marks a failed configuration and computes ratios", ok, text[:900])
        note = text[text.index("closing note"):] if "closing note" in text else ""
        check("closing note lists the ratio of every metric measured in two configurations",
              all(bench.SHORT[k] + ":" in note for k in bench.METRIC_KEYS if k not in bench.HYP_ONLY)
              and "multi/native 2.00" in note and "exit rate" not in note and "exits during boot" not in note, note[:900])
        rows = [l[:46].rstrip() for l in text.splitlines()]   # the metric column (table_text: w = 46)
        futex = rows.index(bench.METRICS[bench.METRIC_KEYS.index("ipi_rtt_us_0_3")][1])
        check("report has the spin-waited IPI rows (median, p90) right after the futex IPI rows",
              rows[futex + 1:futex + 3] == [bench.METRICS[bench.METRIC_KEYS.index(k)][1]
                                            for k in ("ipi_busy_us_0_1", "ipi_busy_p90_us_0_1")]
              and "busy IPI 0->1, median:" in note, text[:1500])
        check("report shows both exit profiles of a hypervisor configuration",
              "exits by reason from power-on to the shell" in text and "exits/s by reason during the throughput"
              in text and "MMIO gicd" in text, text[-1500:])
    except Exception as e:  # noqa: BLE001
        check("report marks a failed configuration and computes ratios", False, repr(e))

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "results.csv")
        bench.write_csv(path, results, bench.CONFIGS)
        back = bench.read_csv(path)
        m = back.get("multi", [None])[0]
        check("results.csv reads back (values and both profiles)",
              m is not None and m.values.get("boot_wall_s") == 4.0 and m.values.get("ipi_busy_p90_us_0_1") == 2.0
              and m.profile == prof and m.boot_profile == prof
              and not back["single"][0].booted, back)

    neighbour_unit_checks()

    # mk/bench.mk: a bad RUNS= or QUICK= is a one-line error naming the fix
    # (make -n: nothing would run even if the check were missing).
    for var, want in (("RUNS=abc", "use RUNS=N"), ("RUNS=0", "use RUNS=N"), ("QUICK=yes", "use QUICK=1")):
        p = subprocess.run(["make", "-n", "-C", ROOT, "bench", var], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        err = [l for l in p.stdout.splitlines() if "***" in l]
        check("make bench %s: one-line error naming the fix" % var, p.returncode != 0 and len(err) == 1
              and want in err[0], p.stdout[-400:])


def neighbour_unit_checks():
    """The two-VM configurations: exit tables of several VMs, VM 1's busy
    CPUs, the ratios, the report, the CSV files, the chart and the VM
    descriptions the bench writes."""
    t0 = bench.parse_exit_table(RECORDED_TWO_VMS.replace("\n", "\r\r\n"))
    t1 = bench.parse_exit_table(RECORDED_TWO_VMS, vm=1)
    check("exit-table parser on two VMs: VM 0's table ends at VM 1's header, without the per-pCPU rows",
          t0 is not None and t0["vm"] == 0 and t0["rows"]["total exits"] == [24295, 13225]
          and t0["rows"]["preempted"] == [623, 348] and not any(k.startswith("pCPU:") for k in t0["rows"]), t0)
    check("exit-table parser on two VMs: VM 1's table, followed by the machine's per-pCPU rows",
          t1 is not None and t1["rows"]["total exits"] == [38176, 5428]
          and t1["rows"]["pCPU: kicks received"] == [1100, 1199, 0, 0], t1)
    check("exit-table parser: no table of a VM the machine does not have",
          bench.parse_exit_table(RECORDED_TWO_VMS, vm=2) is None
          and bench.parse_exit_table(RECORDED_TABLE, vm=1) is None)

    # /proc/stat's cpu line: user nice system idle iowait irq softirq steal guest guest_nice
    stat = "cpu  100 0 50 1000 10 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"
    con = types.SimpleNamespace(run=lambda cmd, timeout: (0, stat))
    before = bench.guest_cpu_times(con)
    after = [100 + 200, 0, 50 + 40, 1000 + 50, 10 + 10, 0, 0, 0, 0, 0]
    busy = bench.busy_cpus(before, after, 2)
    check("VM 1's busy CPUs: the non-idle share of its accounted jiffies times its CPUs",
          before == [100, 0, 50, 1000, 10, 0, 0, 0, 0, 0] and busy is not None and abs(busy - 2 * 240 / 300) < 1e-9
          and bench.busy_cpus(None, after, 2) is None, (before, busy))

    def nb_values(idle_ipi, busy_ipi, idle_mops, busy_mops):
        v = {}
        for phase, ipi, mops in (("idle", idle_ipi, idle_mops), ("busy", busy_ipi, busy_mops)):
            v.update({bench.nb_key("ipi_rtt_us_0_1", phase): ipi, bench.nb_key("ipi_busy_us_0_1", phase): ipi / 2,
                      bench.nb_key("ipi_busy_p90_us_0_1", phase): ipi, bench.nb_key("spin_mops_1", phase): mops / 2,
                      bench.nb_key("spin_mops_2", phase): mops,
                      bench.nb_key("vm1_busy_cpus", phase): 0.01 if phase == "idle" else 2.0})
        v.update(bench.neighbour_ratios(v))
        return dict(v, boot_wall_s=15.0, host_other_load=0.1)

    v = nb_values(200.0, 800.0, 250.0, 125.0)
    check("neighbour ratios: busy over idle for every metric, none for VM 1's busy CPUs",
          v.get("ipi_rtt_us_0_1@busy/idle") == 4.0 and v.get("spin_mops_2@busy/idle") == 0.5
          and all(bench.nb_key(k, bench.RATIO) in v for k, _, _, _ in bench.NB_METRICS)
          and "vm1_busy_cpus@busy/idle" not in v, v)

    prof = {"preempted": [50.0, 40.0], "total exits": [300.0, 200.0]}
    results = {"2vm-disjoint": [fake_session("2vm-disjoint", 1, True, nb_values(200.0, 210.0, 250.0, 240.0),
                                             phase_profiles={"idle": prof, "busy": prof}),
                                fake_session("2vm-disjoint", 2, True, nb_values(220.0, 242.0, 260.0, 234.0))],
               "2vm-shared": [fake_session("2vm-shared", 1, False, {})]}
    configs = list(bench.VM_CONFIGS)
    summ = bench.summarize(results, configs)
    text = bench.table_text(summ, results, configs, {}, None, ["host: x, 2 CPUs online, 1 GiB", "", ""])
    lines = text.splitlines()
    rows = {title: next((l for l in lines if l.startswith(title)), "") for _, title, _, _ in bench.NB_METRICS}
    ipi = rows[bench.NB_METRICS[0][1]]
    check("report: the neighbour table has a row per metric with VM 1 idle, busy and busy/idle per configuration",
          all(rows.values()) and re.search(r"210\.0 \(200\.0-220\.0\)\s+226\.0 \(210\.0-242\.0\)\s+1\.08 "
                                          r"\(1\.05-1\.10\)\s+failed", ipi) is not None
          and "VM 0 on pCPUs 0 1, VM 1 on pCPUs 0 1 (share = yes)" in text and "metric\t" not in text, text[:2500])
    check("report: VM 1's busy CPUs row, the host-core caveat, the per-phase exit profiles, the closing note",
          any(l.startswith(bench.NB_CHECK[1]) and "2.000" in l for l in lines)
          and "disjoint VMs still share host cores" in text
          and "exit profile, 2vm-disjoint, VM 1 busy: VM 0's exits/s" in text
          and re.search(r"IPI round trip 0<->1:\s+2vm-disjoint 1\.08", text) is not None
          and not any(l.startswith("boot: QEMU start") for l in lines), text[-2500:])

    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "results.csv")
        bench.write_csv(path, results, configs)
        back = bench.read_csv(path)
        r1 = back.get("2vm-disjoint", [None])[0]
        check("results.csv reads back the neighbour values, ratios and per-phase profiles",
              r1 is not None and r1.values.get("ipi_rtt_us_0_1@idle") == 200.0
              and r1.values.get("spin_mops_2@busy/idle") == 0.96 and r1.phase_profiles == {"idle": prof, "busy": prof}
              and not back["2vm-shared"][0].booted, back)
        bench.write_summary_csv(os.path.join(d, "summary.csv"), summ, configs)
        with open(os.path.join(d, "summary.csv")) as f:
            summary = f.read()
        check("summary.csv has the neighbour rows, the ratio in x",
              re.search(r"^ipi_rtt_us_0_1@busy/idle,x,2vm-disjoint,1\.075,1\.05,1\.1,2$", summary, re.M) is not None
              and re.search(r"^spin_mops_2@idle,Mops/s,2vm-disjoint,255,250,260,2$", summary, re.M) is not None,
              summary)
        panels = bench.chart_panels(summ, results, list(bench.CONFIGS), {})
        nb = [p for p in panels if "beside VM 1" in p[0]]
        check("chart: a panel per neighbour metric, VM 1 idle and busy bars per configuration, the ratio above them",
              len(nb) == len(bench.NB_METRICS) and all(len(p[3]) == 4 for p in nb)
              and nb[0][4][0][1] == "busy/idle 1.08" and nb[0][4][1][1] == ""
              and len(panels) == len(bench.METRICS) + len(bench.NB_METRICS), nb[:1])
        if bench.shutil.which("gnuplot"):
            png = os.path.join(d, "bench.png")
            ok = bench.plot(png, summ, results, configs, {}, "test")
            check("chart: gnuplot draws the neighbour panels", ok and os.path.getsize(png) > 0)

        # The VM descriptions the bench boots: accepted by scripts/machine.py
        # with the documented placement.
        build = os.path.join(ROOT, "build")
        for cfg in bench.VM_CONFIGS:
            args = types.SimpleNamespace(hyp="/nonexistent", kernel=os.path.join(build, "guest", "Image"),
                                         initrd=os.path.join(build, "guest", "initramfs.cpio.gz"), mem="1024",
                                         cpu="cortex-a57", append="console=ttyAMA0", disk=os.path.join(d, "disk.img"))
            cmd, env = bench.VmSession(cfg, 1, args, None).command()
            p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "machine.py"), "--desc",
                                os.path.join(d, "desc")], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
            desc = open(os.path.join(d, "desc")).read() if p.returncode == 0 else p.stdout
            pcpus = re.findall(r"^pcpus (.*)$", desc, re.M)
            check("%s: the VM description it boots is accepted, VM 0 on pCPUs %s and VM 1 on %s, no disk" % (
                  (cfg,) + bench.VM_PLACEMENT[cfg]), p.returncode == 0 and pcpus == list(bench.VM_PLACEMENT[cfg])
                  and re.findall(r"^disk (.*)$", desc, re.M) == ["none", "none"], desc)


def number(s):
    try:
        v = float(s)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def run_programs(con, programs, tag):
    for cmd, keys in programs:
        rc, out = con.run(cmd, timeout=180)
        got = {bench.bench_key(d): d for d in bench.parse_bench(out)}
        ok = rc == 0 and all(k in got and number(got[k]["value"]) for k in keys) and "BENCH-ERROR" not in out
        check("%s guest '%s' prints %s" % (tag, cmd, ", ".join(keys)), ok, "rc=%d %r" % (rc, out[-300:]))


def snapshot(con):
    mark = len(con.output)
    con.send_raw(bench.STATS_KEY)
    try:
        con.expect(bench.STATS_END_RE, timeout=30)
    except ConsoleError:
        return None
    return bench.parse_exit_table(con.output, mark)


def exit_record(con, op, n):
    rc, out = con.run("hbench -n %d exit %s" % (n, op), timeout=180)
    recs = [d for d in bench.parse_bench(out) if d["name"] == ("hvc_ns" if op == "hvc" else "mmio_read_ns")]
    return rc, out, (recs[0] if recs else None)


def hyp_boot_checks(build):
    log = os.path.join(build, "test-logs", "bench-tools.log")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    if os.path.exists(log):
        os.remove(log)
    cmd, env = bench_command("multi", build)
    con = QemuConsole(cmd, log_path=log, env=env)
    try:
        m = con.expect(bench.BOOT_RE, timeout=300)
        check("boot marker carries the guest's uptime", m.group(2) is not None and float(m.group(2)) > 0, m.group(0))
        con.expect(r"# ", timeout=60)
        # The host CPU figures (idle cost, other processes' load) are QEMU's
        # own: run-qemu.sh is its parent, not QEMU.
        pid = bench.qemu_pid(con.proc.pid)
        cpu0 = bench.qemu_cpu_seconds(pid) if pid else None
        run_programs(con, [
            ("hbench -n 20 ipi 0 1", ["ipi_rtt_us_0_1"]),
            ("hbench -n 20 ipi 0 3", ["ipi_rtt_us_0_3"]),
            ("hbench -n 200 svc", ["svc_ns"]),
            ("hbench -n 100000 spin 1 4 2", ["spin_mops_1", "spin_mops_2", "spin_mops_4"]),
            ("hbench -n 2 disk /dev/vda 16 4", ["disk_write_mbs", "disk_read_mbs"]),
        ], "[multi]")
        cpu1 = bench.qemu_cpu_seconds(pid) if pid else None
        check("[multi] the bench measures QEMU's process, whose CPU time grows while the guest runs programs",
              pid is not None and pid != con.proc.pid and cpu1 > cpu0, "pid %s (run-qemu.sh %d), CPU %s -> %s s" % (
                  pid, con.proc.pid, cpu0, cpu1))
        rc, out = con.run("hbench -n 1 disk /dev/vdz 0 1", timeout=60)
        check("[multi] hbench disk on a missing device: BENCH-ERROR naming it",
              rc != 0 and re.search(r"BENCH-ERROR cannot open /dev/vdz", out) is not None, out[-300:])
        rc, out = con.run("hbench -n 10 exit hvc", timeout=60)
        check("[multi] hbench exit without the module: BENCH-ERROR naming insmod",
              rc != 0 and re.search(r"BENCH-ERROR .*insmod", out) is not None, out[-300:])
        rc, out = con.run("insmod %s && test -e /proc/hbench_exit" % bench.MODULE, timeout=60)
        check("[multi] insmod %s" % bench.MODULE, rc == 0, out[-300:])

        # Each call must be a real exit: the hypervisor's counters for
        # vCPU0 (hbench pins to CPU 0) grow by at least the call count.
        n = 3000
        for op, row, want in (("hvc", "HVC/SMC (PSCI)", "0x10001"), ("mmio", "MMIO gicd", "0x100043b")):
            t0 = snapshot(con)
            rc, out, rec = exit_record(con, op, n)
            t1 = snapshot(con)
            ok = rc == 0 and rec is not None and number(rec["value"]) and rec.get("result") == want
            if op == "hvc":
                ok = ok and rec.get("conduit") == "hvc"
            check("[multi] hbench exit %s: well-formed record, PSCI/GICD answer %s%s" % (
                op, want, ", conduit hvc" if op == "hvc" else ""), ok, "rc=%d %r" % (rc, out[-300:]))
            grew = t0 and t1 and t1["rows"][row][0] - t0["rows"][row][0]
            check("[multi] hbench exit %s: %d calls are >= %d exits in '%s' on vCPU0" % (op, n, n, row),
                  grew is not None and grew >= n, "grew by %r" % grew)
        # The busy-waited IPI: every round is one SGI from vCPU0, trapped.
        n = 30
        t0 = snapshot(con)
        run_programs(con, [("hbench -n %d ipi-busy 0 1" % n, ["ipi_busy_us_0_1", "ipi_busy_p90_us_0_1"])], "[multi]")
        t1 = snapshot(con)
        grew = t0 and t1 and t1["rows"]["SGIs sent"][0] - t0["rows"]["SGIs sent"][0]
        check("[multi] hbench ipi-busy: %d rounds are >= %d SGIs sent by vCPU0" % (n, n),
              grew is not None and grew >= n, "grew by %r" % grew)
        rc, out = con.run("echo still-here", timeout=60)
        check("shell unaffected by the debug key", out.strip().endswith("still-here"), repr(out))

        mark = len(con.output)
        con.send("poweroff -f")
        code = con.wait_exit(120)
        t = bench.parse_exit_table(con.output, mark)
        check("poweroff, and the shutdown exit table parses",
              code == 0 and t is not None and len(t["rows"].get("total exits", [])) == 4, "exit %s" % code)
    except ConsoleError as e:
        check("[multi] console session completes", False, str(e)[-1500:])
    finally:
        con.kill()
    print("log: %s" % log)


def bench_args(build, **more):
    """make bench's arguments with the default build's files and a fresh
    scratch disk of the bench's size, plus `more`."""
    disk = os.path.join(build, "test-logs", "bench-tools-disk.img")
    os.makedirs(os.path.dirname(disk), exist_ok=True)
    with open(disk, "wb") as f:
        f.truncate(bench.DISK_MIB << 20)
    return types.SimpleNamespace(hyp=os.path.join(build, "hyp.elf"), kernel=os.path.join(build, "guest", "Image"),
                                 initrd=os.path.join(build, "guest", "initramfs.cpio.gz"), mem="1024",
                                 cpu="cortex-a57", append="console=ttyAMA0", disk=disk, **more)


def bench_command(cfg, build):
    """The QEMU command line and environment make bench uses for cfg."""
    return bench.Session(cfg, 1, bench_args(build), None).command()


def vm_boot_checks(build):
    """Each two-VM configuration as make bench runs it (bench.VmSession),
    with short measurements: both VMs boot, VM 0 measures in both phases of
    VM 1, the ratios come out, and both VMs power off."""
    quiet = types.SimpleNamespace(status=lambda *a: None)
    for cfg in bench.VM_CONFIGS:
        args = bench_args(build, boot_timeout=300, seconds=0.2, settle=0.5, stats_timeout=10, no_stats_key={},
                          runs=1)
        log = os.path.join(build, "test-logs", "bench-tools-%s.log" % cfg)
        for f in (log, log[:-4] + "-vm1.log"):
            if os.path.exists(f):
                os.remove(f)
        s = bench.VmSession(cfg, 1, args, quiet)
        try:
            s.execute(log)
        except bench.BootFailed as e:
            s.errors.append(str(e))
        v = s.values
        check("[%s] both VMs boot, VM 0 measures with VM 1 idle and busy, both power off, no problem reported"
              % cfg, s.booted and not s.errors, "; ".join(s.errors)[:600])
        missing = [k for k in bench.NB_KEYS if not (k in v and math.isfinite(v[k]) and
                                                    (v[k] > 0 or k.startswith(bench.NB_CHECK[0])))]
        check("[%s] every neighbour value and busy/idle ratio is there" % cfg, not missing, "missing %s" % missing)
        idle, busy = v.get(bench.nb_key(bench.NB_CHECK[0], "idle")), v.get(bench.nb_key(bench.NB_CHECK[0], "busy"))
        check("[%s] VM 1's two threads ran in the busy phase only (its busy CPUs: idle %s, busy %s)" % (
              cfg, bench.fmt(idle), bench.fmt(busy)), idle is not None and busy is not None and idle < 0.5
              and busy > 1.5)
        profs = s.phase_profiles
        check("[%s] VM 0's exit profile of each phase comes from VM 0's table (2 vCPUs)" % cfg,
              set(profs) == set(bench.PHASES) and all(len(p.get("total exits", [])) == 2 for p in profs.values()),
              profs)
        logs = ""
        for f in (log, log[:-4] + "-vm1.log"):
            with open(f, errors="replace") as fh:
                logs += fh.read()
        bad = BAD.search(logs)
        check("[%s] no panic, Oops, stall or lockup in either VM's log" % cfg, bad is None,
              bad.group(0) if bad else "")
        print("log: %s" % log)


def native_boot_checks(build):
    log = os.path.join(build, "test-logs", "bench-tools-native.log")
    if os.path.exists(log):
        os.remove(log)
    cmd, env = bench_command("native", build)
    con = QemuConsole(cmd, log_path=log, env=env)
    try:
        con.expect(bench.BOOT_RE, timeout=180)
        con.expect(r"# ", timeout=60)
        rc, out = con.run("insmod %s && test -e /proc/hbench_exit" % bench.MODULE, timeout=60)
        check("[native] insmod %s" % bench.MODULE, rc == 0, out[-300:])
        rc, out, rec = exit_record(con, "hvc", 200)
        check("[native] hbench exit hvc: QEMU's firmware answers PSCI_VERSION over SMC",
              rc == 0 and rec is not None and rec.get("conduit") == "smc" and rec.get("result") == "0x10001"
              and number(rec["value"]), "rc=%d %r" % (rc, out[-300:]))
        rc, out, rec = exit_record(con, "mmio", 200)
        check("[native] hbench exit mmio: well-formed record", rc == 0 and rec is not None and number(rec["value"]),
              "rc=%d %r" % (rc, out[-300:]))
        run_programs(con, [("hbench -n 2 disk /dev/vda 16 4", ["disk_write_mbs", "disk_read_mbs"]),
                           ("hbench -n 20 ipi-busy 0 1", ["ipi_busy_us_0_1", "ipi_busy_p90_us_0_1"])], "[native]")
        con.send("poweroff -f")
        check("[native] poweroff", con.wait_exit(60) == 0)
    except ConsoleError as e:
        check("[native] console session completes", False, str(e)[-1500:])
    finally:
        con.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--no-boot", action="store_true", help="parser checks only")
    args = ap.parse_args()
    unit_checks()
    if not args.no_boot:
        build = os.path.abspath(args.build)
        hyp_boot_checks(build)
        native_boot_checks(build)
        vm_boot_checks(build)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
