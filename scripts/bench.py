#!/usr/bin/env python3
"""make bench: the same guest on the same QEMU, three ways, side by side,
and a VM next to a neighbour VM, two ways.

  native        QEMU boots the guest kernel itself (no hypervisor)
  single        through the hypervisor, all 4 vCPUs time-shared on pCPU 0
  multi         through the hypervisor, vCPU n on pCPU n
  2vm-disjoint  two VMs of 2 vCPUs: VM 0 on pCPUs 0 1, VM 1 on pCPUs 2 3
  2vm-shared    two VMs of 2 vCPUs, both on pCPUs 0 1 (share = yes)

Each run boots each configuration once, interleaved (native, single, multi,
2vm-disjoint, 2vm-shared, native, ...) so that host noise hits all alike.
The first three measure in that one boot: boot time (and, through the
hypervisor, the exits it took), host CPU use while the guest idles, IPI
round trips (futex wake-ups of idle CPUs, and a busy-waited
smp_call_function to a busy CPU), the null hypercall, an emulated MMIO read
and an SVC, parallel integer throughput on 1, 2 and 4 threads, and
(hypervisor only) exits per second by reason during the throughput run.
The two-VM configurations measure VM 0's IPI round trips and throughput
twice in one boot, with VM 1 idle at its shell and with VM 1 running two
busy threads, and report the neighbour's effect as the ratio busy/idle.
docs/performance.md says what each number means.

Output: a table on the terminal and build/bench/{results.txt,results.csv,
summary.csv,bench.png,logs/}. A configuration that fails is reported as
failed in the table; it does not stop the others.

    scripts/bench.py [--runs 5] [--quick] [--build build] [--configs native,multi,2vm-shared]
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

MAIN_CONFIGS = ("native", "single", "multi")
HYP_CONFIGS = ("single", "multi")
# The neighbour comparison: VM 0 and VM 1, 2 vCPUs each, and their pCPUs.
# Shared puts each of VM 0's vCPUs on a pCPU with one of VM 1's, so that
# with VM 1 idle VM 0 has what it has in disjoint, and the busy/idle ratio
# is the neighbour's doing alone (the single preset would time-share VM 0's
# own two vCPUs too).
VM_PLACEMENT = {"2vm-disjoint": ("0 1", "2 3"), "2vm-shared": ("0 1", "0 1")}
VM_CONFIGS = tuple(VM_PLACEMENT)
CONFIGS = MAIN_CONFIGS + VM_CONFIGS
VM_MEMORY = "512M"              # each VM's RAM (VMS=2's default)
COLORS = {"native": "#7f7f7f", "single": "#e08a2c", "multi": "#2c6fbb",
          "2vm-disjoint": "#2c9f5a", "2vm-shared": "#9b4dca"}

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

# The neighbour comparison (VM_CONFIGS): what VM 0 measures with VM 1 in
# each phase, and the ratio busy/idle, taken within each boot (both phases
# share its host conditions), then its median over runs. VM 0 has CPUs 0
# and 1, so its IPIs go 0 <-> 1 and its throughput runs on 1 and 2 threads.
PHASES = ("idle", "busy")
RATIO = "busy/idle"
NB_METRICS = [(k, t, u, b) for k, t, u, b in METRICS
              if k in ("ipi_rtt_us_0_1", "ipi_busy_us_0_1", "ipi_busy_p90_us_0_1", "spin_mops_1", "spin_mops_2")]
# Whether VM 1's two threads did run: its CPUs' non-idle share of the
# time its own kernel accounted, times its 2 CPUs (no ratio: ~0 when idle).
NB_CHECK = ("vm1_busy_cpus", "VM 1: busy CPUs, as its kernel counts them", "CPUs", "n/a")
NB_SPIN_ORDER = (1, 2, 2, 1)


def nb_key(key, phase):
    """The value key of a neighbour metric in one phase (or RATIO)."""
    return "%s@%s" % (key, phase)


NB_KEYS = [nb_key(k, p) for k, _, _, _ in NB_METRICS for p in PHASES + (RATIO,)] + \
    [nb_key(NB_CHECK[0], p) for p in PHASES]

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
STATS_HEAD_RE = hyp_re(r"exit statistics (?:of VM (?P<vm>\d+) )?\((?P<mode>\w+) mode[^\n]*\n")
STATS_END_RE = hyp_re(r"  kicks received[^\n]*\n")
# A hypervisor line with a message: not the empty record (RS, line end) that
# marks where a hypervisor line cut a guest's line, which starts a line once
# the "\r" the guest printed before it is gone.
HYP_LINE_RE = hyp_re(r"(.+)$")
ROW_RE = re.compile(r"^  (\S.*?)((?:\s+\d+(?:\.\d+)?%?)+)\s*$")
SUBHEAD_RE = re.compile(r"^  (\S.*?)((?:\s+[vp]CPU\d+)+)\s*$")


def parse_exit_table(text, start=0, vm=0):
    """Parse the hypervisor's exit table (hyp/vm/stats.cpp) of VM `vm` at
    its first 'exit statistics' header at or after offset `start` of `text`
    ("exit statistics of VM n" on a machine of several VMs, which prints one
    table per VM and the per-pCPU rows after the last). Returns the table or
    None.

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
    m = next((h for h in STATS_HEAD_RE.finditer(text) if int(h.group("vm") or 0) == vm), None)
    if not m:
        return None
    table = {"mode": m.group("mode"), "vm": vm, "columns": {}, "rows": {}, "gauges": set()}
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


def qemu_pid(pid):
    """The QEMU process of a boot started as process `pid`: `pid` itself
    (native), or the qemu-system child that scripts/run-qemu.sh starts and
    waits for (it stays QEMU's parent, to check the console log after).
    None if there is none."""
    def comm(p):
        try:
            with open("/proc/%d/comm" % p) as f:
                return f.read().strip()
        except OSError:
            return ""

    if comm(pid).startswith("qemu-system"):
        return pid
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and comm(int(name)).startswith("qemu-system"):
            return int(name)
    return None


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
    run), both {row: [value per vCPU]}. A two-VM configuration
    (VmSession) fills self.phase_profiles instead: {phase: profile}."""

    def __init__(self, cfg, run, args, progress):
        self.cfg, self.run, self.args, self.progress = cfg, run, args, progress
        self.values = {}
        self.profile = None
        self.boot_profile = None
        self.phase_profiles = {}
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

    def guest(self, con, cmdline, timeout, phase=None):
        """Run a guest command; record its BENCH values (under the phase's
        keys, nb_key, if one is given); return them."""
        rc, out = con.run(cmdline, timeout=timeout)
        recs = parse_bench(out)
        err = re.search(r"BENCH-ERROR ([^\n]*)", out)
        if err or rc != 0 or not recs:
            self.errors.append("%s%s: %s" % (cmdline, " (VM 1 %s)" % phase if phase else "",
                                             err.group(1) if err else "rc=%d, output %r" % (rc, out[-200:])))
        for d in recs:
            k = bench_key(d) if phase is None else nb_key(bench_key(d), phase)
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

    def profile_run(self, con, spin, timeout, phase=None):
        """The throughput run between two exit tables (VM 0's); returns the
        exit rates, or None. The command's results go to a file, so the
        window between the tables holds the run and a marker line, not
        console traffic; the first table is asked for as soon as the marker
        shows that the run is starting."""
        self.status("throughput, exit table before")
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
        self.guest(con, "cat /tmp/spin.out", 60, phase)
        if before is None or after is None:
            return None
        rates = exit_rates(before, after, ta - tb)
        if phase is None:
            self.values.update(throughput_values(rates))
        return rates

    def throughput(self, con, counts, timeout, phase=None):
        """hbench spin over `counts`, with the exit profile (as
        profile_run) through the hypervisor unless it has no exit table."""
        spin = "hbench -t %g spin %s" % (self.args.seconds, " ".join(map(str, counts)))
        if self.cfg == "native" or self.args.no_stats_key.get(self.cfg):
            self.status("throughput on %s threads" % ", ".join(map(str, sorted(set(counts)))))
            self.guest(con, spin, timeout, phase)
            return None
        return self.profile_run(con, spin, timeout, phase)

    def wait_boot(self, con, t0, vm=""):
        """The boot marker's match, or BootFailed."""
        try:
            return con.expect(BOOT_RE, timeout=self.args.boot_timeout)
        except ConsoleError:
            tail = con.output.replace("\r", "").rstrip().splitlines()[-1:] or [""]
            raise BootFailed("no GUEST-BOOT-OK%s within %.0f s; console ended with %r" % (
                vm, time.monotonic() - t0, tail[0][-100:]))

    def qemu(self, con, cmd):
        """QEMU's pid (qemu_pid), or BootFailed."""
        pid = qemu_pid(con.proc.pid)
        if pid is None:
            raise BootFailed("no QEMU process under %s (pid %d)" % (os.path.basename(cmd[0]), con.proc.pid))
        return pid

    def power_off(self, con, what):
        """`poweroff -f` in the guest on `con`; QEMU must exit."""
        self.status("poweroff")
        con.send("poweroff -f")
        try:
            con.wait_exit(60)
        except ConsoleError:
            self.errors.append("QEMU did not exit after %s" % what)

    def load_module(self, con):
        """insmod hbench_exit.ko; True if it is there."""
        self.status("loading %s" % os.path.basename(MODULE))
        rc, out = con.run("insmod %s && test -e /proc/hbench_exit" % MODULE, timeout=60)
        if rc != 0:
            self.errors.append("insmod %s: rc=%d %r" % (MODULE, rc, out[-200:]))
        return rc == 0

    def execute(self, log_path):
        a = self.args
        hyp = self.cfg in HYP_CONFIGS
        cmd, env = self.command()
        self.status("booting")
        con = QemuConsole(cmd, log_path=log_path, env=env)
        t0 = con.start_time
        try:
            m = self.wait_boot(con, t0)
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
            pid = self.qemu(con, cmd)
            load = OtherLoad(pid)
            c0, w0 = qemu_cpu_seconds(pid), time.monotonic()
            time.sleep(a.idle_seconds)
            c1, w1 = qemu_cpu_seconds(pid), time.monotonic()
            self.values["idle_cpu_s"] = (c1 - c0) * 10.0 / (w1 - w0)

            t = a.seconds
            tmo = 60 + 20 * t
            for cpus in ("0 1", "0 3"):
                self.status("IPI round trip CPUs %s" % cpus.replace(" ", "-"))
                self.guest(con, "hbench -t %g ipi %s" % (t, cpus), tmo)
            if self.load_module(con):
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

            self.profile = self.throughput(con, SPIN_ORDER, tmo * 6)

            self.values["host_other_load"] = load.cores()
            self.power_off(con, "poweroff -f")
        except ConsoleError as e:
            self.errors.append("console: " + str(e).splitlines()[0])
        finally:
            con.kill()


class OtherLoad:
    """Noise gauge: host CPU used by everything but QEMU (process `pid`)
    from now until cores() is asked, in cores (bench.py's own share, and
    that of a console client, is tiny)."""

    def __init__(self, pid):
        self.pid = pid
        self.start = (host_busy_seconds(), qemu_cpu_seconds(pid), time.monotonic())

    def cores(self):
        b, q, w = host_busy_seconds(), qemu_cpu_seconds(self.pid), time.monotonic()
        return max(0.0, (b - self.start[0]) - (q - self.start[1])) / (w - self.start[2])


def guest_cpu_times(con):
    """The first line of a guest's /proc/stat (all CPUs' jiffies), or None."""
    rc, out = con.run("head -n 1 /proc/stat", timeout=60)
    m = re.search(r"^cpu +(\d+(?: \d+){7,})", out, re.M)
    return [int(x) for x in m.group(1).split()] if rc == 0 and m else None


def busy_cpus(before, after, ncpus):
    """How many of a guest's CPUs were busy between two guest_cpu_times: the
    non-idle share (idle and iowait are idle) of the jiffies its kernel
    accounted, times ncpus. Jiffies, not the wall clock: a vCPU the
    hypervisor did not run accounts fewer of them."""
    if not before or not after:
        return None
    d = [b - a for a, b in zip(before[:8], after[:8])]   # user nice system idle iowait irq softirq steal
    total = sum(d)
    return ncpus * (total - d[3] - d[4]) / total if total > 0 else None


def neighbour_ratios(values):
    """busy/idle of each neighbour metric measured in both phases of a boot."""
    out = {}
    for key, _, _, _ in NB_METRICS:
        idle, busy = values.get(nb_key(key, "idle")), values.get(nb_key(key, "busy"))
        if idle and busy is not None:
            out[nb_key(key, RATIO)] = busy / idle
    return out


class VmSession(Session):
    """One boot of a two-VM configuration (VM_CONFIGS, 2 vCPUs per VM).
    VM 0 is on the UART, as every other configuration's guest; VM 1 on its
    console port, through scripts/console.py. VM 0 measures its IPI round
    trips and throughput in each phase of VM 1 (PHASES): idle at its shell,
    then busy with two threads, or the other way round in even runs, so
    that neither phase always comes first after the boot."""

    def __init__(self, cfg, run, args, progress):
        super().__init__(cfg, run, args, progress)
        self.phase = None

    def status(self, what):
        super().status(("VM 1 %s: " % self.phase if self.phase else "") + what)

    def vmconf(self):
        """Writes the configuration's VM description (scripts/machine.py's
        format) next to the bench's disk; returns its path."""
        a = self.args
        pcpus = VM_PLACEMENT[self.cfg]
        share = "yes" if set(pcpus[0].split()) & set(pcpus[1].split()) else "no"
        lines = ["# scripts/bench.py's %s configuration" % self.cfg]
        for i, p in enumerate(pcpus):
            lines += ["[vm%d]" % i, "vcpus = 2", "pcpus = %s" % p, "memory = %s" % VM_MEMORY, "kernel = %s" % a.kernel,
                      "initrd = %s" % a.initrd, "bootargs = %s" % a.append, "disk = none", "share = %s" % share]
        path = os.path.join(os.path.dirname(a.disk), "%s.vmconf" % self.cfg)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def command(self):
        a = self.args
        env = dict(os.environ, HYP=a.hyp, KERNEL=a.kernel, INITRD=a.initrd, MODE="multi", CPU=a.cpu, DISK="none",
                   VMCONF=self.vmconf())
        env.pop("VMS", None)
        return [os.path.join(ROOT, "scripts", "run-qemu.sh")], env

    def neighbour(self, con1, phase):
        """Puts VM 1 in `phase`: idle at its shell, or busy with hbench's
        throughput workers on its CPUs 0 and 1 (integer work, no system
        calls) until they are killed."""
        if phase == "busy":
            cmd = "hbench -t 1000000 spin 2 >/dev/null 2>&1 & echo $! >/tmp/neighbour.pid"
        else:
            cmd = "if [ -e /tmp/neighbour.pid ]; then kill $(cat /tmp/neighbour.pid); wait; rm /tmp/neighbour.pid; fi"
        rc, out = con1.run(cmd, timeout=60)
        if rc != 0:
            self.errors.append("VM 1 %s: %r: rc=%d %r" % (phase, cmd, rc, out[-200:]))

    def measure(self, con0, phase, module):
        """VM 0's figures with VM 1 in `phase`."""
        t = self.args.seconds
        tmo = 60 + 20 * t
        self.status("IPI round trip CPUs 0-1")
        self.guest(con0, "hbench -t %g ipi 0 1" % t, tmo, phase)
        if module:
            self.status("IPI to busy CPU 1 (smp_call_function, spin-waited)")
            self.guest(con0, "hbench -t %g ipi-busy 0 1" % t, tmo, phase)
        prof = self.throughput(con0, NB_SPIN_ORDER, tmo * 4, phase)
        if prof:
            self.phase_profiles[phase] = prof

    def execute(self, log_path):
        a = self.args
        cmd, env = self.command()
        self.status("booting")
        con0 = QemuConsole(cmd, log_path=log_path, env=env)
        con1 = None
        t0 = con0.start_time
        try:
            con1 = QemuConsole([sys.executable, os.path.join(ROOT, "scripts", "console.py"), "1",
                                "--wait", "%d" % a.boot_timeout], log_path=log_path[:-len(".log")] + "-vm1.log")
            m0 = self.wait_boot(con0, t0, " from VM 0")
            self.values["boot_wall_s"] = time.monotonic() - t0
            m1 = self.wait_boot(con1, t0, " from VM 1")
            self.booted = True
            for vm, m in enumerate((m0, m1)):
                if m.group(1) != "2":
                    self.errors.append("VM %d brought up %s CPUs, not 2" % (vm, m.group(1)))
            con0.expect(r"# ", timeout=60)
            con1.expect(r"# ", timeout=60)
            load = OtherLoad(self.qemu(con0, cmd))
            module = self.load_module(con0)
            for phase in (PHASES if self.run % 2 else PHASES[::-1]):
                self.phase = phase
                self.neighbour(con1, phase)
                time.sleep(a.settle)
                before = guest_cpu_times(con1)
                self.measure(con0, phase, module)
                busy = busy_cpus(before, guest_cpu_times(con1), 2)
                if busy is not None:
                    self.values[nb_key(NB_CHECK[0], phase)] = busy
            self.phase = None
            self.neighbour(con1, "idle")
            self.values["host_other_load"] = load.cores()
            self.values.update(neighbour_ratios(self.values))
            self.status("poweroff")
            con1.send("poweroff -f")
            con0.expect(hyp_re(r"VM 1 stopped"), timeout=60)
            self.power_off(con0, "both VMs' poweroff -f")
        except ConsoleError as e:
            self.errors.append("console: " + str(e).splitlines()[0])
        finally:
            if con1:
                con1.kill()
            con0.kill()


def new_session(cfg, run, args, progress):
    return (VmSession if cfg in VM_CONFIGS else Session)(cfg, run, args, progress)


# ---------------------------------------------------------------- reports

def summarize(results, configs):
    """results: {cfg: [Session]} -> {metric: {cfg: (median, min, max, n)}}
    for the metrics (METRIC_KEYS) and the neighbour values (NB_KEYS)."""
    summ = {}
    for key in METRIC_KEYS + NB_KEYS:
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
    """Every ratio of medians in words, and the plausibility checks; then
    the neighbour ratios."""
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
    vmc = [c for c in configs if c in VM_CONFIGS]
    parts = [(key, ["%s %.2f" % (c, summ[nb_key(key, RATIO)][c][0]) for c in vmc if summ[nb_key(key, RATIO)].get(c)])
             for key, _, _, _ in NB_METRICS]
    if any(p for _, p in parts):
        lines.append("  neighbour, VM 0's figure with VM 1 busy over idle (median of per-boot ratios):")
        lines += ["    %-24s %s" % (SHORT[key] + ":", ",  ".join(p)) for key, p in parts if p]
    return lines


def placement_text(cfg):
    pcpus = VM_PLACEMENT[cfg]
    return "VM 0 on pCPUs %s, VM 1 on pCPUs %s%s" % (
        pcpus[0], pcpus[1], " (share = yes)" if set(pcpus[0].split()) & set(pcpus[1].split()) else "")


def neighbour_text(summ, results, configs, skipped, header):
    """The neighbour table: per two-VM configuration, VM 0's figures with
    VM 1 idle and busy and their ratio."""
    vmc = [c for c in configs if c in VM_CONFIGS]
    w, cw, rw = 46, 22, 18
    lines = ["", "neighbour: VM 0 measured with VM 1 idle at its shell, then running 2 busy threads (hbench spin 2), "
             "in one boot per run; each VM has 2 vCPUs and %s of RAM" % VM_MEMORY]
    lines += ["  %-14s %s" % (c + ":", placement_text(c)) for c in vmc]
    lines.append(" " * (w + 9) + "  ".join(("--- %s " % c).ljust(2 * cw + rw - 2, "-") for c in vmc))
    group = "%-*s%-*s%-*s" % (cw, "VM 1 idle", cw, "VM 1 busy", rw, "busy/idle")
    lines.append(("%-*s %-7s " % (w, "metric (measured in VM 0)", "unit") + "  ".join(group for _ in vmc)).rstrip())
    lines.append("-" * len(lines[-2]))

    def cell(key, c, ratio_fmt=False):
        v = summ[key].get(c)
        if v:
            return spread(v, (lambda x: "%.2f" % x) if ratio_fmt else fmt)
        return status_word(c, results, skipped) or "-"

    for key, title, unit, _ in NB_METRICS + [NB_CHECK]:
        cols = ["%-*s" % (w, title[:w]), "%-7s" % UNIT_TEXT.get(unit, unit)]
        for c in vmc:
            ratio_cell = cell(nb_key(key, RATIO), c, True) if key != NB_CHECK[0] else ""
            cols.append("%-*s%-*s%-*s" % (cw, cell(nb_key(key, "idle"), c), cw, cell(nb_key(key, "busy"), c), rw,
                                          ratio_cell))
        lines.append((" ".join(cols[:2]) + " " + "  ".join(cols[2:])).rstrip())
    lines += load_line(results, vmc, w)
    lines += ["", "busy/idle: VM 0's figure with VM 1 busy over the one with VM 1 idle, taken within each boot, median "
              "(min-max) over runs; above 1 for a time, below 1 for a throughput, VM 0 lost to its neighbour."]
    cores = re.search(r"(\d+) CPUs online", " ".join(header))
    if cores and int(cores.group(1)) < 4:
        lines.append("This host has %s cores for QEMU's 4 pCPU threads: with VM 1 busy, disjoint VMs still share host "
                     "cores (docs/performance.md, Neighbour)." % cores.group(1))
    return lines


def table_text(summ, results, configs, skipped, args, header):
    lines = list(header)
    vmc = [c for c in configs if c in VM_CONFIGS]
    configs = [c for c in configs if c in MAIN_CONFIGS]
    if configs:
        lines += main_table(summ, results, configs, skipped)
    if vmc:
        lines += neighbour_text(summ, results, vmc, skipped, header)

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
    for c in vmc:
        for phase in PHASES:
            profs = [s.phase_profiles[phase] for s in results.get(c, []) if s.phase_profiles.get(phase)]
            if profs:
                lines += profile_text("exit profile, %s, VM 1 %s: VM 0's exits/s by reason during its throughput run "
                                      "(median of %d run%s)" % (c, phase, len(profs), "" if len(profs) == 1 else "s"),
                                      profs, "%11.1f")
    lines += closing_note(summ, configs + vmc)
    errs = [(c, s.run, e) for c in configs + vmc for s in results.get(c, []) for e in s.errors]
    if errs or skipped:
        lines.append("")
        lines.append("problems:")
        for c, why in skipped.items():
            lines.append("  %s: %s" % (c, why))
        for c, r, e in errs[:30]:
            lines.append("  %s run %d: %s" % (c, r, e[:200]))
    return "\n".join(lines)


def spread(v, f=fmt):
    """A summary (median, min, max, n) as "median (min-max)"."""
    return "%s (%s-%s)" % (f(v[0]), f(v[1]), f(v[2]))


def load_line(results, configs, w):
    """The noise gauge's line under a table: other processes' host CPU use
    per configuration, median (min-max) over runs."""
    loads = []
    for c in configs:
        xs = [s.values["host_other_load"] for s in results.get(c, []) if "host_other_load" in s.values]
        if xs:
            loads.append("%s %.2f (%.2f-%.2f)" % (c, median(xs), min(xs), max(xs)))
    if not loads:
        return []
    return ["%-*s %-7s %s" % (w, "host CPU used by other processes meanwhile", "cores", ",  ".join(loads))]


def main_table(summ, results, configs, skipped):
    """native, single and multi side by side, with their ratios."""
    lines = []
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
            cols.append("%-24s" % (spread(v) if v else cell_word(key, c, results, skipped)))
        for a_, b_ in pairs:
            r = ratio(summ, key, a_, b_)
            cols.append("%13s" % ("%.2f" % r if r is not None else "-"))
        lines.append(" ".join(cols).rstrip())
    lines += load_line(results, configs, w)
    lines.append("")
    lines.append("Median over runs, (min-max) across runs; ratios are of medians. Throughput is the better of two "
                 "passes per boot; speedup = 4-thread over 1-thread throughput of adjacent passes of the same boot.")
    return lines


UNITS = {m[0]: m[2] for m in METRICS + [NB_CHECK]}


def unit_of(key):
    """The unit of a value key (a metric, a neighbour value or ratio, the load)."""
    base, _, phase = key.partition("@")
    return "x" if phase == RATIO else UNITS.get(base, "cores")


def write_csv(path, results, configs):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["run", "config", "metric", "vcpu", "value", "unit"])
        for c in configs:
            for s in results.get(c, []):
                if not s.booted:
                    w.writerow([s.run, c, "boot_failed", "", "", ""])
                for key in METRIC_KEYS + NB_KEYS + ["host_other_load"]:
                    if key in s.values:
                        w.writerow([s.run, c, key, "", "%.6g" % s.values[key], unit_of(key)])
                profiles = [("boot_exits:", s.boot_profile, "exits"), ("exits_per_s:", s.profile, "1/s")]
                profiles += [("exits_per_s@%s:" % p, s.phase_profiles.get(p), "1/s") for p in PHASES]
                for prefix, prof, unit in profiles:
                    for label, vals in (prof or {}).items():
                        for i, v in enumerate(vals):
                            w.writerow([s.run, c, prefix + label.strip(), i, "%.6g" % v, unit])


def write_summary_csv(path, summ, configs):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["metric", "unit", "config", "median", "min", "max", "runs"])
        for key in METRIC_KEYS + NB_KEYS:
            for c in configs:
                v = summ[key].get(c)
                if v:
                    w.writerow([key, unit_of(key), c, "%.6g" % v[0], "%.6g" % v[1], "%.6g" % v[2], v[3]])


class Loaded:
    """A run read back from results.csv (for --replot)."""

    def __init__(self, cfg, run):
        self.cfg, self.run = cfg, run
        self.values, self.profile, self.boot_profile, self.errors, self.booted = {}, None, None, [], True
        self.phase_profiles = {}


def read_csv(path):
    results = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            c, r = row["config"], int(row["run"])
            sess = results.setdefault(c, {}).setdefault(r, Loaded(c, r))
            m = row["metric"]
            if m == "boot_failed":
                sess.booted = False
            elif re.match(r"(exits_per_s|boot_exits)(@\w+)?:", m):
                kind, label = m.split(":", 1)
                kind, _, phase = kind.partition("@")
                if phase:
                    prof = sess.phase_profiles.setdefault(phase, {})
                else:
                    attr = "profile" if kind == "exits_per_s" else "boot_profile"
                    if getattr(sess, attr) is None:
                        setattr(sess, attr, {})
                    prof = getattr(sess, attr)
                prof.setdefault(label, []).append(float(row["value"]))
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


def tint(color, share):
    """An RRGGBB colour moved `share` of the way to white, as an int."""
    rgb = [int(color[k:k + 2], 16) for k in (1, 3, 5)]
    return sum(int(c + (255 - c) * share) << (16 - 8 * n) for n, c in enumerate(rgb))


def chart_panels(summ, results, configs, skipped):
    """The chart's panels: (title, unit, better, bars, ratios). A bar is
    (x, tic, summary or None, colour, word if no value); a ratio is
    (x, text) written above a pair of bars."""
    panels = []
    main = [c for c in configs if c in MAIN_CONFIGS]
    vmc = [c for c in configs if c in VM_CONFIGS]
    for key, title, unit, better in METRICS if main else []:
        bars = [(x, c, summ[key].get(c), int(COLORS[c][1:], 16), cell_word(key, c, results, skipped))
                for x, c in enumerate(main)]
        panels.append((title, unit, better, bars, []))
    # Neighbour panels: per two-VM configuration, VM 1 idle (pale) and busy.
    for key, title, unit, better in NB_METRICS if vmc else []:
        bars, ratios = [], []
        for i, c in enumerate(vmc):
            word = status_word(c, results, skipped) or "-"
            for k, phase in enumerate(PHASES):
                bars.append((2.5 * i + k, "%s\\n%s" % (c[4:], phase), summ[nb_key(key, phase)].get(c),
                             tint(COLORS[c], 0.55 if phase == "idle" else 0.0), word))
            r = summ[nb_key(key, RATIO)].get(c)
            ratios.append((2.5 * i + 0.5, "busy/idle %.2f" % r[0] if r else ""))
        panels.append((title + "\\nin VM 0, beside VM 1 idle or busy", unit, better, bars, ratios))
    return panels


def plot(png, summ, results, configs, skipped, title):
    """One panel per metric, one bar per configuration (median, min-max);
    for the neighbour metrics, a bar per two-VM configuration and phase."""
    if not gnuplot_available():
        print("bench: no gnuplot, no chart", flush=True)
        return False
    d = os.path.dirname(png)
    dat = os.path.join(d, "plot.dat")
    gp = os.path.join(d, "plot.gp")
    panels = chart_panels(summ, results, configs, skipped)
    # Columns: x, median, min, max (clipped to the panel), colour, value
    # label, label height, off-scale note, its height. A panel's scale is
    # set by its medians: one wild run (the host is shared) must not flatten
    # the other bars, so a whisker above 2.5x the largest median is cut and
    # its maximum written beside it. A second block per panel holds the
    # ratios written above pairs of bars.
    tops = []
    with open(dat, "w") as f:
        for ptitle, _, _, bars, ratios in panels:
            vals = [v for _, _, v, _, _ in bars if v]
            top = max([v[2] for v in vals] or [1.0])
            if vals and max(v[0] for v in vals) > 0:
                top = min(top, 2.5 * max(v[0] for v in vals))
            top = top or 1.0
            tops.append(top)
            f.write("# %s\n" % ptitle)
            for x, _, v, color, word in bars:
                if v:
                    hi = min(v[2], top)
                    note = "max %s" % fmt(v[2]) if v[2] > top else ""
                    f.write('%g %g %g %g %d "%s" %g "%s" %g\n' % (x, v[0], v[1], hi, color, fmt(v[0]), hi, note,
                                                                  top * 0.97))
                else:
                    f.write('%g 0 0 0 %d "%s" 0 "" 0\n' % (x, color, word))
            f.write("\n\n")
            for x, text in ratios or [(0, "")]:
                f.write('%g %g "%s"\n' % (x, top * 1.32, text))
            f.write("\n\n")
    ncols = 4
    nrows = (len(panels) + ncols - 1) // ncols
    s = ['set terminal pngcairo size 1600,%d font "DejaVu Sans,10" noenhanced' % (300 * nrows + 60),
         'set encoding utf8',
         'set output "%s"' % png,
         'set style fill solid 0.85 noborder',
         'set boxwidth 0.6',
         'set grid ytics lc rgb "#dddddd"',
         'unset key',
         'set ytics nomirror',
         'set border 3',
         'set bmargin 3.5',
         'set multiplot layout %d,%d title "%s" font ",13"' % (nrows, ncols, title.replace('"', "'"))]
    for i, (ptitle, unit, better, bars, ratios) in enumerate(panels):
        s.append('set title "%s\\n(%s, %s is better)" font ",10"' % (ptitle, UNIT_TEXT.get(unit, unit), better))
        s.append('set xrange [-0.6:%g]' % (bars[-1][0] + 0.6))
        s.append('set xtics (%s) nomirror scale 0' % ", ".join('"%s" %g' % (tic, x) for x, tic, _, _, _ in bars))
        s.append('set yrange [0:%g]' % (tops[i] * (1.42 if ratios else 1.25)))
        b, r = 2 * i, 2 * i + 1
        s.append('plot "%s" index %d using 1:2:5 with boxes lc rgb variable, '
                 '"" index %d using 1:3:(0):($4-$3) with vectors heads size screen 0.008,90 lc rgb "#222222" lw 1, '
                 '"" index %d using 1:7:6 with labels offset 0,0.7 font ",9", '
                 '"" index %d using ($1+0.05):9:8 with labels left font ",8" tc rgb "#aa0000", '
                 '"" index %d using 1:2:3 with labels font ",9" tc rgb "#333333"' % (dat, b, b, b, b, r))
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
            s = new_session(cfg, run, args, prog)
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
                prog.result("run %d/%d %-6s %s (%.0f s): %s, other load %s cores%s" % (
                    run, args.runs, cfg, "ok" if not s.errors else "partial", time.monotonic() - t0,
                    run_line(s.values, cfg), fmt(s.values.get("host_other_load")),
                    "" if not s.errors else "; " + s.errors[0][:80]))
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


def run_line(v, cfg):
    """The main figures of one boot, for its progress line."""
    if cfg in VM_CONFIGS:
        return "boot %s s; VM 1 idle -> busy: IPI %s -> %s us, busy IPI %s -> %s us, 2 threads %s -> %s Mops/s" % (
            fmt(v.get("boot_wall_s")), *(fmt(v.get(nb_key(k, p))) for k in ("ipi_rtt_us_0_1", "ipi_busy_us_0_1",
                                                                             "spin_mops_2") for p in PHASES))
    return "boot %s s, IPI %s us, busy IPI %s us, HVC %s ns, MMIO %s ns, 4/1 %s x" % (
        fmt(v.get("boot_wall_s")), fmt(v.get("ipi_rtt_us_0_1")), fmt(v.get("ipi_busy_us_0_1")), fmt(v.get("hvc_ns")),
        fmt(v.get("mmio_read_ns")), fmt(v.get("speedup_4v1")))


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
    what = " and ".join(w for w, cs in (("native vs single-pCPU vs multi-pCPU", MAIN_CONFIGS),
                                        ("a VM beside an idle or busy VM", VM_CONFIGS)) if set(cs) & set(configs))
    title = "hyp: %s on QEMU %s TCG, %s  (bar: median of %d run%s, whiskers: min-max)" % (
        what, qv.group(1) if qv else "?", day.group(0) if day else "", args.runs, "" if args.runs == 1 else "s")
    ok = plot(png, summ, results, configs, skipped, title)
    print("\nbench: wrote %s, %s, %s%s" % (
        os.path.relpath(os.path.join(out, "results.txt"), ROOT), os.path.relpath(os.path.join(out, "results.csv"), ROOT),
        os.path.relpath(os.path.join(out, "summary.csv"), ROOT),
        (", " + os.path.relpath(png, ROOT)) if ok else ""), flush=True)
    booted = [c for c in configs if any(s.booted for s in results[c])]
    return 0 if booted else 1


if __name__ == "__main__":
    sys.exit(main())
