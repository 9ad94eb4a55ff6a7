#!/usr/bin/env python3
"""make bench: the same guest on the same QEMU, three ways, side by side.

  native   QEMU boots the guest kernel itself (no hypervisor)
  single   through the hypervisor, all 4 vCPUs time-shared on pCPU 0
  multi    through the hypervisor, vCPU n on pCPU n

Each run boots each configuration once, interleaved (native, single, multi,
native, ...) so that host noise hits all three alike, and measures in that
one boot: boot time (and, through the hypervisor, the exits it took), host
CPU use while the guest idles, IPI round trips (futex wake-ups of idle CPUs,
and a busy-waited smp_call_function to a busy CPU), the null hypercall, an
emulated MMIO read and an SVC, parallel integer throughput on 1, 2 and 4
threads, and (hypervisor only) exits per second by reason during the
throughput run. docs/performance.md says what each number means.

Output: a table on the terminal and build/bench/{results.txt,results.csv,
summary.csv,bench.png,logs/}. A configuration that fails is reported as
failed in the table; it does not stop the others.

    scripts/bench.py [--runs 5] [--quick] [--build build] [--configs native,multi]
    scripts/bench.py --replot        # table and chart again from results.csv
"""
import argparse
import csv
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
from checks import hyp_re  # noqa: E402
from qemu_console import QemuConsole, ConsoleError  # noqa: E402

CONFIGS = ("native", "single", "multi")
HYP_CONFIGS = ("single", "multi")
COLORS = {"native": "#7f7f7f", "single": "#e08a2c", "multi": "#2c6fbb"}

# key, title, unit, which way is better
METRICS = [
    ("boot_wall_s", "boot: QEMU start to init marker (host clock)", "s", "lower"),
    ("boot_uptime_s", "boot: guest /proc/uptime at the init marker", "s", "lower"),
    ("boot_exits", "boot: hypervisor exits up to the shell", "exits", "lower"),
    ("ipi_rtt_us_0_1", "IPI round trip, CPU 0 <-> CPU 1 (futex)", "us", "lower"),
    ("ipi_rtt_us_0_3", "IPI round trip, CPU 0 <-> CPU 3 (futex)", "us", "lower"),
    ("ipi_busy_us_0_1", "IPI round trip 0 -> busy 1 (spin-wait), median", "us", "lower"),
    ("ipi_busy_p90_us_0_1", "IPI round trip 0 -> busy 1 (spin-wait), p90", "us", "lower"),
    ("spin_mops_1", "integer throughput, 1 thread", "Mops/s", "higher"),
    ("spin_mops_2", "integer throughput, 2 threads", "Mops/s", "higher"),
    ("spin_mops_4", "integer throughput, 4 threads", "Mops/s", "higher"),
    ("speedup_4v1", "speedup, 4 threads over 1", "x", "higher"),
    ("hvc_ns", "null hypercall (PSCI_VERSION) from EL1", "ns", "lower"),
    ("mmio_read_ns", "emulated MMIO read (GICD_IIDR) from EL1", "ns", "lower"),
    ("svc_ns", "SVC round trip (getppid) from EL0, the floor", "ns", "lower"),
    ("disk_write_mbs", "disk: sequential write, 1 MiB O_DIRECT", "MB/s", "higher"),
    ("disk_read_mbs", "disk: sequential read, 1 MiB O_DIRECT", "MB/s", "higher"),
    ("idle_cpu_s", "host CPU of QEMU in 10 s, guest idle", "s", "lower"),
    ("exit_rate", "hypervisor exits/s during the throughput run", "1/s", "lower"),
]
METRIC_KEYS = [m[0] for m in METRICS]
HYP_ONLY = ("boot_exits", "exit_rate")      # "n/a" for native
UNIT_TEXT = {"us": "\u00b5s"}
# Short names for the closing note.
SHORT = {
    "boot_wall_s": "boot, wall clock", "boot_uptime_s": "boot, guest uptime", "boot_exits": "exits during boot",
    "ipi_rtt_us_0_1": "IPI round trip 0<->1", "ipi_rtt_us_0_3": "IPI round trip 0<->3",
    "ipi_busy_us_0_1": "busy IPI 0->1, median", "ipi_busy_p90_us_0_1": "busy IPI 0->1, p90",
    "spin_mops_1": "throughput, 1 thread", "spin_mops_2": "throughput, 2 threads",
    "spin_mops_4": "throughput, 4 threads", "speedup_4v1": "speedup 4 over 1",
    "hvc_ns": "null hypercall", "mmio_read_ns": "MMIO read", "svc_ns": "SVC (floor)",
    "disk_write_mbs": "disk write", "disk_read_mbs": "disk read",
    "idle_cpu_s": "idle host CPU", "exit_rate": "exit rate, throughput run",
}
# The guest's /dev/vda in all three configurations: a scratch image in the
# output directory (never the user's DISK=), behind the same QEMU
# virtio-blk-device options as scripts/run-qemu.sh. The throughput passes
# go over [16, 64) MiB of it.
DISK_MIB, DISK_OFF_MIB, DISK_LEN_MIB = 64, 16, 48
PAIRS = [("multi", "native"), ("single", "native"), ("multi", "single")]

CLK_TCK = os.sysconf("SC_CLK_TCK")
STATS_KEY = b"\x1ds"            # Ctrl-] s: the hypervisor prints its exit table
MODULE = "/lib/hbench/hbench_exit.ko"   # mk/bench.mk puts it in the initramfs
BOOT_RE = r"GUEST-BOOT-OK cpus=(\d+)(?: uptime=(\d+\.\d+))?\r*\n"


# ---------------------------------------------------------------- parsing

BENCH_RE = re.compile(r"BENCH name=(\w+)((?:[ \t]+\w+=[^\s=]+)*)")
# A kernel message ("[   12.345678] ...") can land in the middle of a line
# the guest program is writing: printk does not wait for the tty's line end.
KMSG_RE = re.compile(r"\[ *\d+\.\d+\] [^\n]*\n")


def strip_kernel_messages(text):
    return KMSG_RE.sub("", text.replace("\r", ""))


def parse_bench(text):
    """BENCH lines in guest output -> list of dicts (all values strings,
    except 'value', a float). Tolerates \\r and interleaved kernel messages;
    a record without a finite value is dropped."""
    out = []
    for m in BENCH_RE.finditer(strip_kernel_messages(text)):
        d = {"name": m.group(1)}
        for kv in m.group(2).split():
            k, v = kv.split("=", 1)
            d[k] = v
        try:
            d["value"] = float(d["value"])
        except (KeyError, ValueError):
            continue
        if not math.isfinite(d["value"]):
            continue
        out.append(d)
    return out


def bench_key(d):
    """The metric key a BENCH record fills."""
    if d["name"] in ("ipi_rtt_us", "ipi_busy_us", "ipi_busy_p90_us"):
        return d["name"] + "_" + d.get("cpus", "?").replace(",", "_")
    if d["name"] == "spin_mops":
        return "spin_mops_" + d.get("threads", "?")
    return d["name"]


# Hypervisor lines only (checks.hyp_re: they start with the RS byte, which
# the guest cannot print), so guest output can never pass for the table.
STATS_HEAD_RE = hyp_re(r"exit statistics (?:of VM \d+ )?\((\w+) mode[^\n]*\n")
STATS_END_RE = hyp_re(r"  kicks received[^\n]*\n")
HYP_LINE_RE = hyp_re(r"(.*)$")
ROW_RE = re.compile(r"^  (\S.*?)((?:\s+\d+(?:\.\d+)?%?)+)\s*$")
SUBHEAD_RE = re.compile(r"^  (\S.*?)((?:\s+[vp]CPU\d+)+)\s*$")


def parse_exit_table(text, start=0):
    """Parse the hypervisor's exit table (hyp/arch/aarch64/stats.cpp) at the
    first 'exit statistics' header at or after offset `start` of `text`.
    Returns the table or None.

    The table is the header line, then hypervisor lines indented by two
    spaces: column headers ("exits by reason  vCPU0 ..", "per pCPU  pCPU0 ..")
    and rows ("label  n n n n"; a value may be a percentage). It ends at the
    first hypervisor line that is not indented (e.g. the "disk: ..." line).
    Guest output between its lines is skipped.
    table = {"mode": str, "columns": {label: [column names]},
             "rows": {label: [float, ...]}, "gauges": set of labels}
    Rows under a "per pCPU" header are labelled "pCPU: <label>"; gauges
    are rows that are not event counters (percentages, "ran on ...")."""
    text = text[start:].replace("\r", "")
    m = STATS_HEAD_RE.search(text)
    if not m:
        return None
    table = {"mode": m.group(1), "columns": {}, "rows": {}, "gauges": set()}
    cols, prefix = [], ""
    for line in text[m.end():].split("\n")[:100]:
        h = HYP_LINE_RE.match(line)
        if not h:
            continue
        body = h.group(1)
        if not body.startswith("  "):
            break                       # another hypervisor message: table over
        sh = SUBHEAD_RE.match(body)
        if sh:
            cols = sh.group(2).split()
            prefix = "pCPU: " if cols[0].startswith("pCPU") else ""
            continue
        r = ROW_RE.match(body)
        if not r:
            continue
        label = prefix + r.group(1).strip()
        toks = r.group(2).split()
        table["rows"][label] = [float(t.rstrip("%")) for t in toks]
        table["columns"][label] = cols
        if any("%" in t or "." in t for t in toks) or r.group(1).startswith("ran ") or "(1=yes)" in label:
            table["gauges"].add(label)
    return table if table["rows"] else None


def exit_counts(table):
    """The counter rows of a table (gauges left out)."""
    return {k: list(v) for k, v in table["rows"].items() if k not in table["gauges"]}


def exit_rates(before, after, seconds):
    """Per-row, per-column counter rates between two tables (per second).
    Rows that are not counters (gauges) are left out."""
    rates = {}
    for label, b in before["rows"].items():
        a = after["rows"].get(label)
        if a is None or len(a) != len(b) or label in before["gauges"]:
            continue
        rates[label] = [max(0.0, y - x) / seconds for x, y in zip(b, a)]
    return rates


def boot_values(table):
    """Metrics from the exit table taken at the shell: all vCPUs' exits."""
    return {"boot_exits": sum(table["rows"].get("total exits", [0]))}


def throughput_values(rates):
    """Metrics from the exit rates of the throughput run: all vCPUs' exits/s."""
    return {"exit_rate": sum(rates["total exits"])} if "total exits" in rates else {}


# Thread counts of the throughput run, in order: each 4-thread pass next to a
# 1-thread pass, so that their ratio compares the same moment of a shared,
# noisy host.
SPIN_ORDER = (1, 4, 2, 2, 4, 1)


def speedup_of(recs):
    """4-thread over 1-thread throughput: the mean of the ratios of adjacent
    1- and 4-thread passes among the spin records (in their order), or None."""
    spins = [(int(d.get("threads", 0)), d["value"]) for d in recs if d["name"] == "spin_mops"]
    ratios = [(a if n == 4 else b) / (b if n == 4 else a)
              for (n, a), (m, b) in zip(spins, spins[1:]) if {n, m} == {1, 4} and a > 0 and b > 0]
    return sum(ratios) / len(ratios) if ratios else None


# ---------------------------------------------------------------- helpers

def mem_mib(s):
    s = str(s).strip().upper()
    if s.endswith("G"):
        return int(s[:-1]) * 1024
    if s.endswith("M"):
        return int(s[:-1])
    return int(s)


def qemu_cpu_seconds(pid):
    """utime+stime of a process (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def host_busy_seconds():
    """CPU time the whole host has spent busy (all CPUs), in seconds."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return (sum(v) - v[3] - v[4]) / CLK_TCK


def median(xs):
    return statistics.median(xs) if xs else None


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1000:
        return "%.0f" % v
    if a >= 100:
        return "%.1f" % v
    if a >= 10:
        return "%.2f" % v
    return "%.3f" % v


class Progress:
    """One status line, rewritten in place on a terminal; elsewhere (a log,
    a pipe) one line when each boot starts."""

    def __init__(self, total):
        self.tty = sys.stderr.isatty()
        self.t0 = time.monotonic()
        self.total = total
        self.done = 0

    def clock(self):
        s = int(time.monotonic() - self.t0)
        return "%d:%02d" % (s // 60, s % 60)

    def status(self, run, runs, cfg, what):
        line = "[bench %s] run %d/%d  %-6s  (boot %d of %d)  %s" % (
            self.clock(), run, runs, cfg, self.done + 1, self.total, what)
        if self.tty:
            sys.stderr.write("\r\033[K" + line[:150])
            sys.stderr.flush()
        elif what == "booting":
            print(line, flush=True)

    def result(self, line):
        if self.tty:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
        print("[bench %s] %s" % (self.clock(), line), flush=True)


# ---------------------------------------------------------------- one boot

class BootFailed(Exception):
    pass


class Session:
    """One boot of one configuration; fills self.values (metric -> number)
    and, through the hypervisor, self.boot_profile (exits by reason up to
    the shell) and self.profile (exits/s by reason during the throughput
    run), both {row: [value per vCPU]}."""

    def __init__(self, cfg, run, args, progress):
        self.cfg, self.run, self.args, self.progress = cfg, run, args, progress
        self.values = {}
        self.profile = None
        self.boot_profile = None
        self.errors = []
        self.booted = False

    def status(self, what):
        self.progress.status(self.run, self.args.runs, self.cfg, what)

    def command(self):
        a = self.args
        if self.cfg == "native":
            # The guest gets the RAM it has under the hypervisor (which
            # keeps 64 MiB of QEMU's for itself, see scripts/run-qemu.sh).
            return ["qemu-system-aarch64", "-M", "virt,gic-version=3,virtualization=on", "-cpu", a.cpu,
                    "-smp", "4", "-m", "%dM" % mem_mib(a.mem), "-nographic", "-nic", "none",
                    "-kernel", a.kernel, "-initrd", a.initrd, "-append", a.append,
                    "-drive", "file=%s,if=none,format=raw,cache=writeback,id=disk0" % a.disk.replace(",", ",,"),
                    "-device", "virtio-blk-device,drive=disk0"], None
        env = dict(os.environ, HYP=a.hyp, KERNEL=a.kernel, INITRD=a.initrd, MODE=self.cfg,
                   MEM=str(a.mem), CPU=a.cpu, APPEND=a.append, DISK=a.disk)
        return [os.path.join(ROOT, "scripts", "run-qemu.sh")], env

    def guest(self, con, cmdline, timeout):
        """Run a guest command; record its BENCH values; return them."""
        rc, out = con.run(cmdline, timeout=timeout)
        recs = parse_bench(out)
        err = re.search(r"BENCH-ERROR ([^\n]*)", out)
        if err or rc != 0 or not recs:
            self.errors.append("%s: %s" % (cmdline, err.group(1) if err else "rc=%d, output %r" % (rc, out[-200:])))
        for d in recs:
            k = bench_key(d)
            # Throughput is measured twice (SPIN_ORDER): keep the better of
            # the two, since other load on the host can only slow it down.
            if k.startswith("spin_mops_") and k in self.values:
                self.values[k] = max(self.values[k], d["value"])
            else:
                self.values[k] = d["value"]
        sp = speedup_of(recs)
        if sp is not None:
            self.values["speedup_4v1"] = sp
        return recs

    def stats_snapshot(self, con, clear=True):
        """Ask the hypervisor for its exit table (Ctrl-] s); (table, time).
        (None, None) if it does not answer; then, with `clear`, Ctrl-C
        clears the shell line the two bytes went to."""
        mark = len(con.output)
        con.send_raw(STATS_KEY)
        try:
            con.expect(STATS_HEAD_RE, timeout=self.args.stats_timeout)
        except ConsoleError:
            if clear:
                con.sendcontrol("c")
                time.sleep(0.5)
            return None, None
        t = time.monotonic()
        try:
            con.expect(STATS_END_RE, timeout=5)
        except ConsoleError:
            time.sleep(1)
        return parse_exit_table(con.output, mark), t

    def profile_run(self, con, spin, timeout):
        """The throughput run between two exit tables. The command's results
        go to a file, so the window between the tables holds the run and a
        marker line, not console traffic; the first table is asked for as
        soon as the marker shows that the run is starting."""
        self.status("throughput on 1, 2, 4 threads, exit table before")
        con.send('echo "@@SPIN""-GO@@"; %s >/tmp/spin.out 2>&1; echo "@@SPIN""-DONE@@"' % spin)
        con.expect(r"@@SPIN-GO@@", timeout=60)
        before, tb = self.stats_snapshot(con, clear=False)
        con.expect(r"@@SPIN-DONE@@", timeout=timeout)
        after = None
        if before is None:
            self.args.no_stats_key[self.cfg] = True
            self.errors.append("no exit table on Ctrl-] s: exit profile not measured")
            con.sendcontrol("c")        # the two bytes were typed ahead to the shell
            time.sleep(0.5)
        else:
            self.status("throughput done, exit table after")
            after, ta = self.stats_snapshot(con)
            if after is None:
                self.errors.append("no exit table on the second Ctrl-] s")
        self.guest(con, "cat /tmp/spin.out", 60)
        if before is not None and after is not None:
            self.profile = exit_rates(before, after, ta - tb)
            self.values.update(throughput_values(self.profile))

    def execute(self, log_path):
        a = self.args
        hyp = self.cfg in HYP_CONFIGS
        cmd, env = self.command()
        self.status("booting")
        con = QemuConsole(cmd, log_path=log_path, env=env)
        t0 = con.start_time
        try:
            try:
                m = con.expect(BOOT_RE, timeout=a.boot_timeout)
            except ConsoleError:
                tail = con.output.replace("\r", "").rstrip().splitlines()[-1:] or [""]
                raise BootFailed("no GUEST-BOOT-OK within %.0f s; console ended with %r" % (
                    time.monotonic() - t0, tail[0][-100:]))
            self.values["boot_wall_s"] = time.monotonic() - t0
            self.booted = True
            if m.group(1) != "4":
                self.errors.append("guest brought up %s CPUs, not 4" % m.group(1))
            con.expect(r"# ", timeout=60)
            if m.group(2):
                self.values["boot_uptime_s"] = float(m.group(2))
            else:
                self.errors.append("boot marker without uptime= (old initramfs? run make)")
            if hyp:
                self.status("exit table after boot")
                table, _ = self.stats_snapshot(con)
                if table:
                    self.boot_profile = exit_counts(table)
                    self.values.update(boot_values(table))
                else:
                    self.errors.append("no exit table on Ctrl-] s after boot")

            self.status("idle %d s" % a.idle_seconds)
            time.sleep(a.settle)
            pid = con.proc.pid
            load0 = (host_busy_seconds(), qemu_cpu_seconds(pid), time.monotonic())
            c0, w0 = qemu_cpu_seconds(pid), time.monotonic()
            time.sleep(a.idle_seconds)
            c1, w1 = qemu_cpu_seconds(pid), time.monotonic()
            self.values["idle_cpu_s"] = (c1 - c0) * 10.0 / (w1 - w0)

            t = a.seconds
            tmo = 60 + 20 * t
            for cpus in ("0 1", "0 3"):
                self.status("IPI round trip CPUs %s" % cpus.replace(" ", "-"))
                self.guest(con, "hbench -t %g ipi %s" % (t, cpus), tmo)
            self.status("loading %s" % os.path.basename(MODULE))
            rc, out = con.run("insmod %s && test -e /proc/hbench_exit" % MODULE, timeout=60)
            if rc != 0:
                self.errors.append("insmod %s: rc=%d %r" % (MODULE, rc, out[-200:]))
            else:
                self.status("IPI to busy CPU 1 (smp_call_function, spin-waited)")
                self.guest(con, "hbench -t %g ipi-busy 0 1" % t, tmo)
                self.status("null hypercall (PSCI_VERSION)")
                self.guest(con, "hbench -t %g exit hvc" % t, tmo)
                self.status("MMIO read (GICD_IIDR)")
                self.guest(con, "hbench -t %g exit mmio" % t, tmo)
            self.status("SVC round trip (getppid)")
            self.guest(con, "hbench -t %g svc" % t, tmo)
            self.status("disk: sequential write, then read")
            self.guest(con, "hbench -t %g disk /dev/vda %d %d" % (t, DISK_OFF_MIB, DISK_LEN_MIB), tmo * 4)

            spin = "hbench -t %g spin %s" % (t, " ".join(map(str, SPIN_ORDER)))
            if not hyp or a.no_stats_key.get(self.cfg):
                self.status("throughput on 1, 2, 4 threads")
                self.guest(con, spin, tmo * 6)
            else:
                self.profile_run(con, spin, tmo * 6)

            # Noise gauge: host CPU used by everything but this QEMU while
            # it was measured, in cores (bench.py's own share is tiny).
            b1, q1, w1 = host_busy_seconds(), qemu_cpu_seconds(pid), time.monotonic()
            self.values["host_other_load"] = max(0.0, (b1 - load0[0]) - (q1 - load0[1])) / (w1 - load0[2])
            self.status("poweroff")
            con.send("poweroff -f")
            try:
                con.wait_exit(60)
            except ConsoleError:
                self.errors.append("QEMU did not exit after poweroff -f")
        except ConsoleError as e:
            self.errors.append("console: " + str(e).splitlines()[0])
        finally:
            con.kill()


# ---------------------------------------------------------------- reports

def summarize(results, configs):
    """results: {cfg: [Session]} -> {metric: {cfg: (median, min, max, n)}}"""
    summ = {}
    for key in METRIC_KEYS:
        summ[key] = {}
        for cfg in configs:
            xs = [s.values[key] for s in results.get(cfg, []) if key in s.values]
            summ[key][cfg] = (median(xs), min(xs), max(xs), len(xs)) if xs else None
    return summ


def ratio(summ, key, a, b):
    x, y = summ[key].get(a), summ[key].get(b)
    if not x or not y or not y[0]:
        return None
    return x[0] / y[0]


def status_word(cfg, results, skipped):
    if cfg in skipped:
        return "not run"
    sess = results.get(cfg, [])
    if not sess or not any(s.booted for s in sess):
        return "failed"
    return None


def cell_word(key, cfg, results, skipped):
    """What a table cell or bar says when there is no value."""
    word = status_word(cfg, results, skipped)
    if word:
        return word
    if key in HYP_ONLY and cfg == "native":
        return "n/a"
    return "-"


def median_profile(profs):
    """Median over runs of {row: [per vCPU]} profiles, rows in first-seen order."""
    out = {}
    for p in profs:
        for label in p:
            out.setdefault(label, None)
    for label in out:
        ncol = max(len(p.get(label, [])) for p in profs)
        out[label] = [median([p[label][i] for p in profs if i < len(p.get(label, []))]) or 0.0 for i in range(ncol)]
    return out


def profile_text(title, profs, number):
    lines = ["", title]
    prof = median_profile(profs)
    ncol = max((len(v) for v in prof.values()), default=0)
    lines.append("  %-28s" % "reason (pCPU: per pCPU)" + "".join("%11s" % ("vCPU%d" % i) for i in range(ncol)) +
                 "%11s" % "all")
    for label, vals in prof.items():
        if not any(vals):
            continue            # a reason that never happened
        # "all": the median of each run's sum over vCPUs (which vCPU did
        # the work, e.g. printed the boot log, changes from run to run).
        total = median([sum(p[label]) for p in profs if label in p])
        lines.append("  %-28s" % label[:28] + "".join(number % v for v in vals) + number % total + " ")
    return [l.rstrip() for l in lines]


def closing_note(summ, configs):
    """Every ratio of medians in words, and the plausibility checks."""
    lines = ["", "closing note: ratios of medians (a/b > 1: a is larger; see docs/performance.md)"]
    for key, _, _, better in METRICS:
        parts = []
        for a_, b_ in PAIRS:
            if a_ in configs and b_ in configs:
                r = ratio(summ, key, a_, b_)
                if r is not None:
                    parts.append("%s/%s %.2f" % (a_, b_, r))
        if parts:
            lines.append("  %-26s %s" % (SHORT[key] + ":", ",  ".join(parts)))
    sp = {c: (summ["speedup_4v1"].get(c) or (None,))[0] for c in configs}
    if sp.get("single") is not None and sp.get("multi") is not None:
        lines.append("  4-thread speedup: %s; multi is %s single (expected: above, since only multi runs vCPUs "
                     "in parallel)" % (", ".join("%s %.2fx" % (c, sp[c]) for c in configs if sp.get(c) is not None),
                                       "above" if sp["multi"] > sp["single"] else "NOT above"))
    return lines


def table_text(summ, results, configs, skipped, args, header):
    lines = list(header)
    w = 46
    cols = ["%-*s" % (w, "metric"), "%-7s" % "unit"]
    for c in configs:
        cols.append("%-24s" % (c + " median (min-max)"))
    pairs = [p for p in PAIRS if p[0] in configs and p[1] in configs]
    for p in pairs:
        cols.append("%13s" % ("%s/%s" % p))
    lines.append(" ".join(cols).rstrip())
    lines.append("-" * len(lines[-1]))
    for key, title, unit, better in METRICS:
        cols = ["%-*s" % (w, title[:w]), "%-7s" % UNIT_TEXT.get(unit, unit)]
        for c in configs:
            v = summ[key].get(c)
            cols.append("%-24s" % ("%s (%s-%s)" % (fmt(v[0]), fmt(v[1]), fmt(v[2])) if v
                                   else cell_word(key, c, results, skipped)))
        for a_, b_ in pairs:
            r = ratio(summ, key, a_, b_)
            cols.append("%13s" % ("%.2f" % r if r is not None else "-"))
        lines.append(" ".join(cols).rstrip())
    loads = []
    for c in configs:
        xs = [s.values["host_other_load"] for s in results.get(c, []) if "host_other_load" in s.values]
        if xs:
            loads.append("%s %.2f (%.2f-%.2f)" % (c, median(xs), min(xs), max(xs)))
    if loads:
        lines.append("%-*s %-7s %s" % (w, "host CPU used by other processes meanwhile", "cores", ",  ".join(loads)))
    lines.append("")
    lines.append("Median over runs, (min-max) across runs; ratios are of medians. Throughput is the better of two "
                 "passes per boot; speedup = 4-thread over 1-thread throughput of adjacent passes of the same boot.")

    for c in configs:
        if c not in HYP_CONFIGS:
            continue
        profs = [s.boot_profile for s in results.get(c, []) if s.boot_profile]
        if profs:
            lines += profile_text("exit profile, %s: exits by reason from power-on to the shell (median of %d run%s)"
                                  % (c, len(profs), "" if len(profs) == 1 else "s"), profs, "%11.0f")
        profs = [s.profile for s in results.get(c, []) if s.profile]
        if profs:
            lines += profile_text("exit profile, %s: exits/s by reason during the throughput run (median of %d run%s)"
                                  % (c, len(profs), "" if len(profs) == 1 else "s"), profs, "%11.1f")
    lines += closing_note(summ, configs)
    errs = [(c, s.run, e) for c in configs for s in results.get(c, []) for e in s.errors]
    if errs or skipped:
        lines.append("")
        lines.append("problems:")
        for c, why in skipped.items():
            lines.append("  %s: %s" % (c, why))
        for c, r, e in errs[:30]:
            lines.append("  %s run %d: %s" % (c, r, e[:200]))
    return "\n".join(lines)


def write_csv(path, results, configs):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["run", "config", "metric", "vcpu", "value", "unit"])
        units = {m[0]: m[2] for m in METRICS}
        for c in configs:
            for s in results.get(c, []):
                if not s.booted:
                    w.writerow([s.run, c, "boot_failed", "", "", ""])
                for key in METRIC_KEYS + ["host_other_load"]:
                    if key in s.values:
                        w.writerow([s.run, c, key, "", "%.6g" % s.values[key], units.get(key, "cores")])
                for prefix, prof, unit in (("boot_exits:", s.boot_profile, "exits"),
                                           ("exits_per_s:", s.profile, "1/s")):
                    for label, vals in (prof or {}).items():
                        for i, v in enumerate(vals):
                            w.writerow([s.run, c, prefix + label.strip(), i, "%.6g" % v, unit])


def write_summary_csv(path, summ, configs):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["metric", "unit", "config", "median", "min", "max", "runs"])
        for key, title, unit, better in METRICS:
            for c in configs:
                v = summ[key].get(c)
                if v:
                    w.writerow([key, unit, c, "%.6g" % v[0], "%.6g" % v[1], "%.6g" % v[2], v[3]])


class Loaded:
    """A run read back from results.csv (for --replot)."""

    def __init__(self, cfg, run):
        self.cfg, self.run = cfg, run
        self.values, self.profile, self.boot_profile, self.errors, self.booted = {}, None, None, [], True


def read_csv(path):
    results = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            c, r = row["config"], int(row["run"])
            sess = results.setdefault(c, {}).setdefault(r, Loaded(c, r))
            m = row["metric"]
            if m == "boot_failed":
                sess.booted = False
            elif m.startswith("exits_per_s:") or m.startswith("boot_exits:"):
                attr = "profile" if m.startswith("exits_per_s:") else "boot_profile"
                if getattr(sess, attr) is None:
                    setattr(sess, attr, {})
                getattr(sess, attr).setdefault(m.split(":", 1)[1], []).append(float(row["value"]))
            else:
                sess.values[m] = float(row["value"])
    return {c: [runs[r] for r in sorted(runs)] for c, runs in results.items()}


def gnuplot_available():
    if shutil.which("gnuplot"):
        return True
    setup = os.path.join(ROOT, "scripts", "setup-host.sh")
    print("bench: gnuplot missing, running scripts/setup-host.sh", flush=True)
    subprocess.run(["bash", setup])
    return shutil.which("gnuplot") is not None


def plot(png, summ, results, configs, skipped, title):
    """One panel per metric, one bar per configuration (median, min-max)."""
    if not gnuplot_available():
        print("bench: no gnuplot, no chart", flush=True)
        return False
    d = os.path.dirname(png)
    dat = os.path.join(d, "plot.dat")
    gp = os.path.join(d, "plot.gp")
    # Columns: x, config, median, min, max (clipped to the panel), colour,
    # value label, label height, off-scale note, its height. A panel's
    # scale is set by its medians: one wild run (the host is shared) must
    # not flatten the other bars, so a whisker above 2.5x the largest
    # median is cut and its maximum written beside it.
    tops = {}
    with open(dat, "w") as f:
        for key, _, _, _ in METRICS:
            vals = [v for v in summ[key].values() if v]
            top = max([v[2] for v in vals] or [1.0])
            if vals and max(v[0] for v in vals) > 0:
                top = min(top, 2.5 * max(v[0] for v in vals))
            top = top or 1.0
            tops[key] = top
            f.write("# %s\n" % key)
            for x, c in enumerate(configs):
                v = summ[key].get(c)
                color = int(COLORS[c][1:], 16)
                if v:
                    hi = min(v[2], top)
                    note = "max %s" % fmt(v[2]) if v[2] > top else ""
                    f.write('%d %s %g %g %g %d "%s" %g "%s" %g\n' % (
                        x, c, v[0], v[1], hi, color, fmt(v[0]), hi, note, top * 0.97))
                else:
                    f.write('%d %s 0 0 0 %d "%s" 0 "" 0\n' % (x, c, color, cell_word(key, c, results, skipped)))
            f.write("\n\n")
    ncols = 4
    nrows = (len(METRICS) + ncols - 1) // ncols
    s = ['set terminal pngcairo size 1600,%d font "DejaVu Sans,10" noenhanced' % (300 * nrows + 60),
         'set encoding utf8',
         'set output "%s"' % png,
         'set style fill solid 0.85 noborder',
         'set boxwidth 0.6',
         'set grid ytics lc rgb "#dddddd"',
         'unset key',
         'set xrange [-0.6:%g]' % (len(configs) - 0.4),
         'set xtics (%s) nomirror scale 0' % ", ".join('"%s" %d' % (c, i) for i, c in enumerate(configs)),
         'set ytics nomirror',
         'set border 3',
         'set multiplot layout %d,%d title "%s" font ",13"' % (nrows, ncols, title.replace('"', "'"))]
    for i, (key, t, unit, better) in enumerate(METRICS):
        s.append('set title "%s\\n(%s, %s is better)" font ",10"' % (t, UNIT_TEXT.get(unit, unit), better))
        s.append('set yrange [0:%g]' % (tops[key] * 1.25))
        s.append('plot "%s" index %d using 1:3:6 with boxes lc rgb variable, '
                 '"" index %d using 1:4:(0):($5-$4) with vectors heads size screen 0.008,90 lc rgb "#222222" lw 1, '
                 '"" index %d using 1:8:7 with labels offset 0,0.7 font ",9", '
                 '"" index %d using ($1+0.05):10:9 with labels left font ",8" tc rgb "#aa0000"' % (dat, i, i, i, i))
    s.append("unset multiplot")
    with open(gp, "w") as f:
        f.write("\n".join(s) + "\n")
    p = subprocess.run(["gnuplot", gp], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        print("bench: gnuplot failed:\n" + p.stdout[-2000:], flush=True)
        return False
    return True


def host_description(args):
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            cpu = m.group(1) if m else cpu
    except OSError:
        pass
    try:
        qv = subprocess.run(["qemu-system-aarch64", "--version"], stdout=subprocess.PIPE,
                            text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        qv = "qemu ?"
    kver = "?"
    try:
        with open(os.path.join(args.build, "guest", "kver")) as f:
            kver = f.read().strip()
    except OSError:
        pass
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // (1024 * 1024)
    return ["host: %s, %d CPUs online, %d GiB, Linux %s" % (cpu, os.cpu_count() or 0, mem, platform.release()),
            "%s, TCG, -cpu %s -smp 4, guest kernel %s, guest RAM %s MiB" % (qv, args.cpu, kver, mem_mib(args.mem))]


class QuietWait:
    """Between boots nothing of ours runs, so all host CPU use is someone
    else's (other builds and tests on a shared machine). Before each boot,
    wait for it to drop below --quiet-below cores, but no longer than
    --max-wait seconds per boot and --wait-budget seconds in all, so the
    waiting can never eat the run's time budget."""

    def __init__(self, args):
        self.args = args
        self.left = args.wait_budget
        self.waited = 0.0

    def __call__(self, prog, run, cfg):
        a = self.args
        t0 = time.monotonic()
        t_end = t0 + min(a.max_wait, max(0.0, self.left))
        while True:
            b0, w0 = host_busy_seconds(), time.monotonic()
            time.sleep(1.0)
            load = (host_busy_seconds() - b0) / (time.monotonic() - w0)
            if load < a.quiet_below or time.monotonic() >= t_end:
                break
            prog.status(run, a.runs, cfg, "waiting for a quieter host (others use %.1f cores; %.0f s of %.0f s "
                        "waiting budget left)" % (load, self.left - (time.monotonic() - t0), a.wait_budget))
        spent = max(0.0, time.monotonic() - t0 - 1.0)    # the 1 s sample itself is not waiting
        self.left -= spent
        self.waited += spent
        return load


# ---------------------------------------------------------------- main

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--hyp")
    ap.add_argument("--kernel")
    ap.add_argument("--initrd")
    ap.add_argument("--mem", default="1024", help="guest RAM (as MEM= of make run)")
    ap.add_argument("--cpu", default="cortex-a57")
    ap.add_argument("--append", default="console=ttyAMA0", help="guest kernel command line")
    ap.add_argument("--runs", type=int)
    ap.add_argument("--quick", action="store_true", help="shorter measurements, 2 runs unless --runs")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--boot-timeout", type=float, default=180)
    ap.add_argument("--stats-timeout", type=float, default=10)
    ap.add_argument("--out", help="output directory (default BUILD/bench)")
    ap.add_argument("--quiet-below", type=float, default=0.5,
                    help="before each boot, wait until other processes use fewer host cores than this")
    ap.add_argument("--max-wait", type=float, help="but no longer than this many seconds per boot (30, QUICK 15)")
    ap.add_argument("--wait-budget", type=float, help="nor this many seconds in all (300, QUICK 60)")
    ap.add_argument("--deadline", type=float,
                    help="start no boot that would end after this many seconds (QUICK: 540, i.e. done in 10 min)")
    ap.add_argument("--no-trace-overhead", dest="trace_overhead", action="store_false",
                    help="skip the event trace's cost per exit (two more boots per hypervisor mode)")
    ap.add_argument("--replot", action="store_true",
                    help="measure nothing: redo the table and chart from OUT/results.csv and results.txt")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    args.hyp = os.path.abspath(args.hyp or os.path.join(args.build, "hyp.elf"))
    args.kernel = os.path.abspath(args.kernel or os.path.join(args.build, "guest", "Image"))
    args.initrd = os.path.abspath(args.initrd or os.path.join(args.build, "guest", "initramfs.cpio.gz"))
    if args.runs is None:
        args.runs = 2 if args.quick else 5
    if not 1 <= args.runs <= 50:
        ap.error("--runs must be from 1 to 50")
    try:
        mem_mib(args.mem)
    except ValueError:
        ap.error("--mem %s is not a size (1024, 1024M, 1G)" % args.mem)
    args.seconds = 0.5 if args.quick else 2.0     # per guest measurement
    args.idle_seconds = 10.0
    args.settle = 1.0 if args.quick else 2.0
    args.no_stats_key = {}
    if args.max_wait is None:
        args.max_wait = 15.0 if args.quick else 30.0
    if args.wait_budget is None:
        args.wait_budget = 60.0 if args.quick else 300.0
    if args.deadline is None and args.quick:
        args.deadline = 540.0
    args.configs = [c for c in args.configs.split(",") if c]
    for c in args.configs:
        if c not in CONFIGS:
            ap.error("unknown configuration %r (use %s)" % (c, ",".join(CONFIGS)))
    args.out = os.path.abspath(args.out or os.path.join(args.build, "bench"))
    args.disk = os.path.join(args.out, "disk.img")
    return args


def main():
    args = parse_args()
    out = args.out
    if args.replot:
        results = read_csv(os.path.join(out, "results.csv"))
        configs = [c for c in CONFIGS if c in results]
        with open(os.path.join(out, "results.txt")) as f:
            header = [l.rstrip("\n") for l in f.readlines()[:3]]
        args.runs = max(len(v) for v in results.values())
        skipped = {c: "did not boot" for c in configs if not any(x.booted for x in results[c])}
        return report(args, out, results, configs, skipped, header, write_data=False)
    for f in (args.hyp, args.kernel, args.initrd):
        if not os.path.isfile(f):
            sys.exit("bench: missing %s: run make first" % f)
    configs = args.configs
    logs = os.path.join(out, "logs")
    os.makedirs(logs, exist_ok=True)
    with open(args.disk, "wb") as f:
        f.truncate(DISK_MIB << 20)
    for name in os.listdir(logs):
        os.remove(os.path.join(logs, name))

    header = host_description(args)
    header.append("%d run%s per configuration, interleaved%s; %s" % (
        args.runs, "" if args.runs == 1 else "s", " (QUICK)" if args.quick else "",
        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
    for h in header:
        print("bench: " + h, flush=True)

    results = {c: [] for c in configs}
    skipped = {}
    prog = Progress(args.runs * len(configs))
    wait = QuietWait(args)
    longest = 0.0               # the longest boot so far, to keep to --deadline
    stopped = None
    for run in range(1, args.runs + 1):
        for cfg in configs:
            if cfg in skipped:
                prog.done += 1
                continue
            elapsed = time.monotonic() - prog.t0
            if args.deadline and run > 1 and elapsed + longest > args.deadline:
                stopped = run
                break
            wait(prog, run, cfg)
            s = Session(cfg, run, args, prog)
            t0 = time.monotonic()
            log = os.path.join(logs, "%s-run%d.log" % (cfg, run))
            try:
                s.execute(log)
            except BootFailed as e:
                s.errors.append(str(e))
            except Exception as e:   # a tool bug must not lose the other configurations
                s.errors.append("%s: %s" % (type(e).__name__, e))
            results[cfg].append(s)
            prog.done += 1
            longest = max(longest, time.monotonic() - t0)
            if not s.booted:
                # A slow host can make one boot miss the timeout; a
                # configuration that fails twice in a row is given up.
                prev = results[cfg][-2] if len(results[cfg]) > 1 else None
                if prev is not None and not prev.booted:
                    skipped[cfg] = "did not boot in runs %d and %d (%s); not run again. Log: %s" % (
                        run - 1, run, s.errors[-1][:160] if s.errors else "?", os.path.relpath(log, ROOT))
                prog.result("run %d/%d %-6s FAILED to boot (%.0f s): %s" % (
                    run, args.runs, cfg, time.monotonic() - t0, s.errors[-1][:120] if s.errors else ""))
            else:
                v = s.values
                prog.result("run %d/%d %-6s %s (%.0f s): boot %s s, IPI %s us, busy IPI %s us, HVC %s ns, MMIO %s ns, "
                            "4/1 %s x, other load %s cores%s" % (
                                run, args.runs, cfg, "ok" if not s.errors else "partial", time.monotonic() - t0,
                                fmt(v.get("boot_wall_s")), fmt(v.get("ipi_rtt_us_0_1")), fmt(v.get("ipi_busy_us_0_1")),
                                fmt(v.get("hvc_ns")),
                                fmt(v.get("mmio_read_ns")), fmt(v.get("speedup_4v1")),
                                fmt(v.get("host_other_load")), "" if not s.errors else "; " + s.errors[0][:80]))
        if stopped:
            break
    if stopped:
        prog.result("stopped before run %d: another boot would end after the %.0f s deadline" % (stopped, args.deadline))
        skipped["all"] = "stopped before run %d of %d to keep to the %.0f s deadline (QUICK)" % (
            stopped, args.runs, args.deadline)
    print("bench: %s in all, %.0f s of it waiting for a quieter host" % (prog.clock(), wait.waited), flush=True)
    rc = report(args, out, results, configs, skipped, header, write_data=True)
    if args.trace_overhead:
        trace_overhead(args, out, [c for c in configs if c in HYP_CONFIGS])
    return rc


# ---------------------------------------------------------------- event trace cost

TRACE_PASSES = 5        # exit measurements per boot, alternating hvc and mmio


def traced_exit_costs(args, mode, trace, log):
    """One boot of `mode` with the event trace on or off: the null
    hypercall's and the emulated MMIO read's ns per call (one exit each),
    the fastest of TRACE_PASSES passes (other load on the host can only
    slow a pass down). {} if the boot fails."""
    env = dict(os.environ, HYP=args.hyp, KERNEL=args.kernel, INITRD=args.initrd, MODE=mode, MEM=str(args.mem),
               CPU=args.cpu, APPEND=args.append + " quiet", DISK="none", TRACE="1" if trace else "0",
               TRACE_FILE=os.path.join(args.out, "trace-cost-%s.bin" % mode))
    con = QemuConsole([os.path.join(ROOT, "scripts", "run-qemu.sh")], log_path=log, env=env)
    vals = {"hvc_ns": [], "mmio_read_ns": []}
    try:
        con.expect(BOOT_RE, timeout=args.boot_timeout)
        con.expect(r"# ", timeout=60)
        rc, _ = con.run("insmod %s && test -e /proc/hbench_exit" % MODULE, timeout=60)
        if rc != 0:
            return {}
        for _ in range(TRACE_PASSES):
            for what in ("hvc", "mmio"):
                _, out = con.run("hbench -t %g exit %s" % (args.seconds, what), timeout=120)
                for d in parse_bench(out):
                    if d["name"] in vals:
                        vals[d["name"]].append(d["value"])
        con.send("poweroff -f")
        con.wait_exit(60)
    except ConsoleError:
        return {}
    finally:
        con.kill()
    return {k: min(v) for k, v in vals.items() if v}


def trace_overhead(args, out, modes):
    """The event trace's cost per exit: per hypervisor mode, a boot with
    tracing off and one with it on (docs/tracing.md), back to back, each
    timing the two one-exit round trips; the difference is what recording
    the exit's records (ExitSync, Psci or Mmio, GuestEnter) adds. Printed
    and appended to results.txt."""
    pairs = 1 if args.quick else 2
    lines = ["", "event trace cost per exit (per mode %d pair%s of boots, TRACE=0 then TRACE=1; each figure the "
             "fastest of %d passes of %g s, %d per boot; docs/tracing.md)" % (
                 pairs, "" if pairs == 1 else "s", TRACE_PASSES * pairs, args.seconds, TRACE_PASSES)]
    for mode in modes:
        off, on = {}, {}
        for n in range(pairs):
            print("bench: trace cost, %s mode, pair %d/%d: a boot with the trace off, then on" % (mode, n + 1, pairs),
                  flush=True)
            for trace, acc in ((False, off), (True, on)):
                got = traced_exit_costs(args, mode, trace, os.path.join(
                    out, "logs", "trace-%s-%s-%d.log" % ("on" if trace else "off", mode, n + 1)))
                for k, v in got.items():
                    acc[k] = min(v, acc.get(k, v))
        for key, what in (("hvc_ns", "null hypercall"), ("mmio_read_ns", "MMIO read")):
            if key in off and key in on:
                lines.append("  %-6s %-15s trace off %7.0f ns, on %7.0f ns: trace overhead per exit: %.0f ns" % (
                    mode, what, off[key], on[key], on[key] - off[key]))
            else:
                lines.append("  %-6s %-15s not measured (a boot failed; logs in %s)" % (
                    mode, what, os.path.relpath(os.path.join(out, "logs"), ROOT)))
    print("\n".join(lines), flush=True)
    with open(os.path.join(out, "results.txt"), "a") as f:
        f.write("\n".join(lines) + "\n")


def report(args, out, results, configs, skipped, header, write_data):
    summ = summarize(results, configs)
    text = table_text(summ, results, configs, skipped, args, header + [""])
    print()
    print(text, flush=True)
    with open(os.path.join(out, "results.txt"), "w") as f:
        f.write(text + "\n")
    if write_data:
        write_csv(os.path.join(out, "results.csv"), results, configs)
    write_summary_csv(os.path.join(out, "summary.csv"), summ, configs)
    png = os.path.join(out, "bench.png")
    qv = re.search(r"version (\d+\.\d+\.\d+)", header[1])
    day = re.search(r"\d{4}-\d\d-\d\d", " ".join(header))
    title = "hyp: native vs single-pCPU vs multi-pCPU on QEMU %s TCG, %s  (bar: median of %d run%s, whiskers: min-max)" % (
        qv.group(1) if qv else "?", day.group(0) if day else "", args.runs, "" if args.runs == 1 else "s")
    ok = plot(png, summ, results, configs, skipped, title)
    print("\nbench: wrote %s, %s, %s%s" % (
        os.path.relpath(os.path.join(out, "results.txt"), ROOT), os.path.relpath(os.path.join(out, "results.csv"), ROOT),
        os.path.relpath(os.path.join(out, "summary.csv"), ROOT),
        (", " + os.path.relpath(png, ROOT)) if ok else ""), flush=True)
    booted = [c for c in configs if any(s.booted for s in results[c])]
    return 0 if booted else 1


if __name__ == "__main__":
    sys.exit(main())
