#!/usr/bin/env python3
"""Reads the hypervisor's event trace (docs/tracing.md).

A trace file holds one or more dumps (hyp/trace/trace_format.h): the
hypervisor writes one at power-off and one per Ctrl-] t, appended. This
tool decodes one dump (the last complete one unless --dump N) and writes

  --summary           text: exit counts per vCPU with the labels of the
                      hypervisor's exit table, latency percentiles (exit
                      handling, kick to entry, SGI send to delivery, runnable
                      but not running), per-pCPU busy/idle shares (the default
                      when no other output is asked for)
  --summary-json F    the same as JSON, for tests and scripts
  --json F            Chrome trace-event JSON for Perfetto's UI
                      (ui.perfetto.dev) or chrome://tracing
  --png F             a timeline drawn with gnuplot
  --check             consistency checks; each failure is one line, exit
                      status 1 if any

    scripts/trace.py [FILE] [--dump N] [--window START_MS,LEN_MS] [outputs]

FILE defaults to build/trace.bin (make run TRACE=1's TRACE_FILE). Exit
status: 0, 1 when --check found a problem, 2 for a file that is not a
usable trace (one line saying why) or a bad option.
"""
import argparse
import heapq
import json
import os
import shutil
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------- the format

MAGIC = b"HYPTRACE"
VERSION = 1
HEADER = struct.Struct("<8sIIQIIII")     # TraceDumpHeader, 40 bytes
NAME = struct.Struct("<BB14s")           # TraceName, 16 bytes
PCPU = struct.Struct("<IIQ")             # TracePcpuHeader, 16 bytes
RECORD = struct.Struct("<QHBBIQQ")       # TraceRecord, 32 bytes
assert (HEADER.size, NAME.size, PCPU.size, RECORD.size) == (40, 16, 16, 32)
NONE = 0xFF                              # kTraceNone
NO_INTID = 0xFFFFFFFF                    # kTraceNoIntid
MAX_PCPUS, MAX_VMS, MAX_NAMES = 64, 64, 4096   # plausibility limits of a header

# TraceType
TYPES = ["", "GuestEnter", "ExitSync", "ExitIrq", "ExitOther", "Mmio", "SwitchIn", "SwitchOut", "Block", "Wake",
         "SgiSend", "IrqDeliver", "IrqAck", "IrqDone", "KickSend", "KickRecv", "Psci", "BlkSubmit", "BlkComplete",
         "Idle", "IdleEnd", "VmState"]
T = {name: i for i, name in enumerate(TYPES) if name}
EXITS = (T["ExitSync"], T["ExitIrq"], T["ExitOther"])
SWITCH = ["Turn", "Block", "Yield", "Boost", "Lend", "Back", "First"]       # TraceSwitch
VM_STATES = ["Running", "Stopping", "Resetting", "Stopped"]                 # VmState (vm/lifecycle.h)
MODES = ["multi", "single"]                                                 # Mode (core/options.h)
BLK_OPS = ["read", "write", "flush"]                                        # BlockRequest::Op

# ESR_EL2.EC values (Arm ARM D17.2.37) and what the exit table calls them.
EC_NAMES = {0x00: "unknown", 0x01: "WFI/WFE", 0x03: "MCR/MRC cp15", 0x04: "MCRR/MRRC cp15", 0x05: "MCR/MRC cp14",
            0x06: "LDC/STC cp14", 0x07: "FP/SIMD", 0x0C: "MRRC cp14", 0x0E: "illegal state", 0x16: "HVC",
            0x17: "SMC", 0x18: "sysreg", 0x19: "SVE", 0x20: "instruction abort", 0x22: "PC alignment",
            0x24: "data abort", 0x26: "SP alignment", 0x30: "breakpoint", 0x32: "software step",
            0x34: "watchpoint", 0x38: "BKPT", 0x3C: "BRK"}
EC_WFX, EC_HVC, EC_SMC, EC_SYSREG, EC_IABT, EC_DABT = 0x01, 0x16, 0x17, 0x18, 0x20, 0x24
OTHER_KINDS = {2: "FIQ", 3: "SError"}

# PSCI function IDs (PSCI 1.1, DEN0022), 32- and 64-bit forms.
PSCI_NAMES = {0x84000000: "PSCI_VERSION", 0x84000001: "CPU_SUSPEND", 0xC4000001: "CPU_SUSPEND",
              0x84000002: "CPU_OFF", 0x84000003: "CPU_ON", 0xC4000003: "CPU_ON", 0x84000004: "AFFINITY_INFO",
              0xC4000004: "AFFINITY_INFO", 0x84000006: "MIGRATE_INFO_TYPE", 0x84000008: "SYSTEM_OFF",
              0x84000009: "SYSTEM_RESET", 0x8400000A: "PSCI_FEATURES", 0x80000000: "SMCCC_VERSION",
              0x80000001: "SMCCC_ARCH_FEATURES"}
PSCI_CPU_OFF = 0x84000002


class TraceError(Exception):
    """A file that cannot be used: main() prints it as one line."""


class Dump:
    """One decoded dump: header fields, MMIO range names and, per pCPU,
    its records (tuples: ts, type, vm, vcpu, a, b, c) oldest first."""

    def __init__(self, index, offset, fields):
        (_, self.version, self.npcpus, self.freq, self.nvms, self.nnames, mode, self.events) = fields
        self.index, self.offset = index, offset
        self.mode = MODES[mode] if mode < len(MODES) else "mode %d" % mode
        self.names = {}             # (vm, range) -> name
        self.pcpus = []             # [(pcpu, dropped, [records])]

    @property
    def records(self):
        return sum(len(r) for _, _, r in self.pcpus)

    @property
    def dropped(self):
        return sum(d for _, d, _ in self.pcpus)

    def recorded(self, type_name):
        """Whether the dump's event filter kept this type."""
        return bool(self.events >> T[type_name] & 1)


class Truncated(Exception):
    def __init__(self, need, have):
        super().__init__()
        self.need, self.have = need, have


def _parse_dump(data, off, index, path):
    def take(n):
        if off_[0] + n > len(data):
            raise Truncated(off_[0] + n, len(data))
        b = data[off_[0]:off_[0] + n]
        off_[0] += n
        return b

    off_ = [off]
    fields = HEADER.unpack(take(HEADER.size))
    if fields[1] != VERSION:
        raise TraceError("%s: dump %d has format version %d, this tool reads version %d: use the scripts/trace.py "
                         "of the tree that built the hypervisor" % (path, index, fields[1], VERSION))
    d = Dump(index, off, fields)
    if not (1 <= d.npcpus <= MAX_PCPUS and d.nvms <= MAX_VMS and d.nnames <= MAX_NAMES and d.freq > 0):
        raise TraceError("%s: dump %d has an implausible header (%d pCPUs, %d VMs, %d names, counter %d Hz): "
                         "the file is damaged" % (path, index, d.npcpus, d.nvms, d.nnames, d.freq))
    for _ in range(d.nnames):
        vm, rng, name = NAME.unpack(take(NAME.size))
        d.names[(vm, rng)] = name.split(b"\0", 1)[0].decode("ascii", "replace")
    for _ in range(d.npcpus):
        pcpu, count, dropped = PCPU.unpack(take(PCPU.size))
        raw = take(count * RECORD.size)
        d.pcpus.append((pcpu, dropped, list(RECORD.iter_unpack(raw))))
    return d, off_[0]


def read_dumps(path):
    """(complete dumps, description of a truncated last one or None)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise TraceError("%s: no such file: record a trace with make run TRACE=1 (then poweroff -f in the guest) "
                         "or make trace" % path)
    except OSError as e:
        raise TraceError("%s: cannot read it (%s)" % (path, e.strerror))
    if not data:
        raise TraceError("%s is empty: the hypervisor has not dumped into it yet (it does at power-off, "
                         "poweroff -f in the guest, and on Ctrl-] t)" % path)
    dumps, off, truncated = [], 0, None
    while off < len(data):
        if data[off:off + len(MAGIC)] != MAGIC:
            if len(data) - off < len(MAGIC) and MAGIC.startswith(data[off:]):
                truncated = "dump %d is truncated after %d bytes" % (len(dumps) + 1, len(data) - off)
                break
            if off == 0:
                raise TraceError("%s is not a hypervisor trace (it does not start with %s): give the TRACE_FILE "
                                 "of make run TRACE=1" % (path, MAGIC.decode()))
            raise TraceError("%s: the %d bytes after dump %d (offset %d) are not a dump (no %s magic): the file "
                             "is damaged" % (path, len(data) - off, len(dumps), off, MAGIC.decode()))
        try:
            d, off = _parse_dump(data, off, len(dumps) + 1, path)
        except Truncated as t:
            truncated = "dump %d is truncated: it needs %d bytes of the file, which has %d" % (
                len(dumps) + 1, t.need, t.have)
            break
        dumps.append(d)
    return dumps, truncated


def load(path, which=None, warn=sys.stderr):
    """The dump to work on: number `which` (1-based), else the last complete one."""
    dumps, truncated = read_dumps(path)
    if not dumps:
        raise TraceError("%s: %s, and there is no complete one: the dump was cut short (QEMU stopped before the "
                         "hypervisor logged 'trace: dumped ...'?)" % (path, truncated))
    if which is not None:
        if not 1 <= which <= len(dumps):
            raise TraceError("%s holds %d complete dump%s: --dump takes 1%s" % (
                path, len(dumps), "" if len(dumps) == 1 else "s", "" if len(dumps) == 1 else "-%d" % len(dumps)))
        return dumps[which - 1], dumps
    if truncated and warn:
        warn.write("trace: warning: %s: %s; using dump %d\n" % (path, truncated, len(dumps)))
    return dumps[-1], dumps


# ---------------------------------------------------------------- analysis


def pct(values, p):
    """Nearest-rank percentile of a sorted list."""
    if not values:
        return None
    k = max(0, min(len(values) - 1, int(-(-p * len(values) // 100)) - 1))
    return values[k]


def stats_of(values):
    v = sorted(values)
    return {"count": len(v), "p50": pct(v, 50), "p90": pct(v, 90), "p99": pct(v, 99),
            "max": v[-1] if v else None}


LATENCIES = [("exit", "exit handling"), ("kicksent", "kick sent to received"), ("kick", "kick to entry"),
             ("sgi", "SGI send to delivery"), ("runnable", "runnable, not running")]


class VcpuInfo:
    def __init__(self, vm, vcpu):
        self.vm, self.vcpu = vm, vcpu
        self.counts = {}
        self.lat = {k: [] for k, _ in LATENCIES}
        self.state = None           # guest, hyp, runnable, blocked, off
        self.since = None
        self.segments = []          # [start, end, state, args]
        self.pcpus = set()

    def inc(self, label, n=1):
        self.counts[label] = self.counts.get(label, 0) + n


class Analysis:
    """Walks a dump's records in time order (per pCPU in ring order) and
    derives the per-pCPU and per-vCPU timelines, exit counts, latencies,
    SGI flows and the consistency problems --check reports."""

    def __init__(self, dump, mark=None):
        self.d = dump
        self.mark = mark            # ticks: the workload phase starts here (None: no marker)
        firsts = [r[0][0] for _, _, r in dump.pcpus if r]
        lasts = [r[-1][0] for _, _, r in dump.pcpus if r]
        self.t0 = min(firsts) if firsts else 0
        self.t_end = max(lasts) if lasts else 0
        # Records older than this may be missing (rings that overflowed).
        drops = [r[0][0] for _, dr, r in dump.pcpus if dr and r]
        self.horizon = max(drops) if drops else None
        self.vcpus = {}
        self.pseg = {p: [] for p, _, _ in dump.pcpus}   # pCPU segments [start, end, kind, label, args]
        self.flows = []             # (send ts, send pcpu, deliver ts, deliver pcpu, vm, sender, target, intid)
        self.instants = []          # (ts, pcpu, vm, vcpu or None, name, args)
        self.problems = []
        self.exit_by_reason = {}    # reason -> [us]
        self.phase_by_reason = {}   # the same within the workload phase
        self.phase_lat = {}         # (vm, vcpu) -> {metric: [us]} within the workload phase
        self.sgi = {"sent": 0, "delivered": 0, "coalesced": 0, "redelivered": 0, "unchecked": 0}
        self.nonmonotonic = 0
        self._walk()

    # -- helpers

    def us(self, ticks):
        return ticks * 1e6 / self.d.freq

    def rel_us(self, ts):
        return self.us(ts - self.t0)

    def vc(self, vm, vcpu):
        key = (vm, vcpu)
        if key not in self.vcpus:
            self.vcpus[key] = VcpuInfo(vm, vcpu)
        return self.vcpus[key]

    def problem(self, ts, pcpu, text):
        self.problems.append("%.3f ms pCPU %s: %s" % (self.rel_us(ts) / 1000, pcpu, text))

    def latency(self, v, metric, ticks, at, reason=None):
        us = self.us(ticks)
        v.lat[metric].append(us)
        if self.mark is not None and at >= self.mark:
            self.phase_lat.setdefault((v.vm, v.vcpu), {k: [] for k, _ in LATENCIES})[metric].append(us)
        if reason is not None:
            self.exit_by_reason.setdefault(reason, []).append(us)
            if self.mark is not None and at >= self.mark:
                self.phase_by_reason.setdefault(reason, []).append(us)

    def vstate(self, v, ts, state, **args):
        if v.state == state and not args:
            return
        if v.state is not None and v.segments and v.segments[-1][1] is None:
            v.segments[-1][1] = ts
        v.state, v.since = state, ts
        v.segments.append([ts, None, state, args])

    def pset(self, p, ts, kind, label, args=None):
        segs = self.pseg[p]
        if segs and segs[-1][1] is None:
            segs[-1][1] = ts
        segs.append([ts, None, kind, label, args or {}])

    def exit_reason(self, typ, vm, a, b):
        if typ == T["ExitIrq"]:
            return "IRQ"
        if typ == T["ExitOther"]:
            return OTHER_KINDS.get(a, "exit kind %d" % a)
        if a == EC_SYSREG:
            return "sysreg"
        if a == EC_WFX:
            return "WFI" if b & 3 == 0 else "WFE" if b & 3 == 1 else "WFIT/WFET"
        if a in (EC_HVC, EC_SMC):
            return "HVC/SMC (PSCI)"
        if a in (EC_DABT, EC_IABT):
            return "MMIO unhandled (abort)"      # until an Mmio record names the device
        return "EC 0x%02x %s" % (a, EC_NAMES.get(a, "")) if a in EC_NAMES else "EC 0x%02x" % a

    # -- the walk

    def _walk(self):
        d = self.d
        multi_pinned = d.mode == "multi"
        def stream(p, recs):
            for i, r in enumerate(recs):
                yield r[0], p, i, r

        streams = [stream(p, recs) for p, _, recs in d.pcpus]
        # Per pCPU: the vCPU switched in, the exit being handled (ts, vm,
        # vcpu) and its reason, kicks received since the last entry, the
        # last timestamp, the open guest slice, and the last record before
        # an entry's vGIC flush (IrqDeliver records come from that flush).
        ps = {p: {"loaded": None, "exit": None, "exit_reason": None, "kicks": [], "prev_ts": None,
                  "guest_seg": None, "before_flush": None}
              for p, _, _ in d.pcpus}
        sends = {}          # (vm, target, intid) -> [(ts, pcpu, sender)] not yet delivered
        kicks_to = {}       # pcpu -> [ts] kicks sent to it, not yet received (one receipt takes all)
        unacked = {}        # (vm, vcpu, intid) -> True: delivered and not yet acknowledged
        home = {}           # (vm, vcpu) -> pcpu, multi mode
        # Rules whose events the filter left out are not checked.
        check_sgis = all(d.recorded(x) for x in ("SgiSend", "IrqDeliver", "IrqAck", "GuestEnter"))
        check_switches = d.recorded("SwitchIn") and d.recorded("SwitchOut")
        self.unchecked_rules = ([] if check_sgis else ["SGI deliveries"]) + \
            ([] if check_switches else ["switch-ins"])
        vm_stopping = set()
        for p, _, recs in d.pcpus:
            if recs:
                self.pset(p, recs[0][0], "unknown", "before the first record")
        for ts, p, _, r in heapq.merge(*streams, key=lambda x: x[0]):
            _, typ, vm, vcpu, a, b, c = r
            st = ps[p]
            if st["prev_ts"] is not None and ts < st["prev_ts"]:
                self.nonmonotonic += 1
                self.problem(ts, p, "timestamp goes back by %d ticks (record %s after one at %.3f ms)" % (
                    st["prev_ts"] - ts, TYPES[typ] if typ < len(TYPES) else typ, self.rel_us(st["prev_ts"]) / 1000))
            st["prev_ts"] = ts
            if typ >= len(TYPES) or not TYPES[typ]:
                self.problem(ts, p, "record of unknown type %d" % typ)
                continue
            v = self.vc(vm, vcpu) if vcpu != NONE and vm != NONE else None
            if v is not None:
                if v.state is None and self.horizon is None:
                    self.vstate(v, self.t0, "off")      # not started yet
                v.pcpus.add(p)
                if multi_pinned:
                    h = home.setdefault((vm, vcpu), p)
                    if h != p:
                        self.problem(ts, p, "multi mode: VM %d vCPU %d on pCPU %d, and earlier on pCPU %d" % (
                            vm, vcpu, p, h))
                    elif d.nvms == 1 and vcpu != p:
                        self.problem(ts, p, "multi mode: vCPU %d's %s on pCPU %d, not on pCPU %d" % (
                            vcpu, TYPES[typ], p, vcpu))

            if typ == T["GuestEnter"]:
                if d.mode == "single" and p != 0:
                    self.problem(ts, p, "single mode: VM %d vCPU %d entered the guest on pCPU %d" % (vm, vcpu, p))
                if check_switches and st["loaded"] not in (None, (vm, vcpu)):
                    self.problem(ts, p, "VM %d vCPU %d entered while VM %d vCPU %d is switched in" % (
                        vm, vcpu, st["loaded"][0], st["loaded"][1]))
                seg_args = {"vm": vm, "vcpu": vcpu}
                self.pset(p, ts, "guest", "VM %d vCPU %d" % (vm, vcpu), seg_args)
                st["guest_seg"] = self.pseg[p][-1]
                ex = st["exit"]
                if ex and ex[1:3] == (vm, vcpu):
                    self.latency(v, "exit", ts - ex[0], ts, st["exit_reason"])
                st["exit"] = None
                for k in st["kicks"]:
                    self.latency(v, "kick", ts - k, ts)
                st["kicks"] = []
                if v.state == "runnable":
                    self.latency(v, "runnable", ts - v.since, ts)
                self.vstate(v, ts, "guest")
                # SGIs made pending before this entry's flush that it did not
                # deliver were folded into a copy still pending in an LR.
                flush_before = st["before_flush"]
                for key in [k for k in sends if k[0] == vm and k[1] == vcpu and unacked.get(k)]:
                    q = [s for s in sends[key] if flush_before is None or s[0] > flush_before]
                    self.sgi["coalesced"] += len(sends[key]) - len(q)
                    if q:
                        sends[key] = q
                    else:
                        del sends[key]
            elif typ in EXITS:
                reason = self.exit_reason(typ, vm, a, b)
                v.inc("total exits")
                if typ == T["ExitIrq"]:
                    v.inc("IRQ")
                elif typ == T["ExitSync"]:
                    if a == EC_SYSREG:
                        v.inc("sysreg")
                    elif a == EC_WFX and b & 3 == 0:
                        v.inc("WFI")
                    elif a in (EC_DABT, EC_IABT):
                        v.inc("MMIO unhandled (abort)")     # taken back by an Mmio record
                args = {"reason": reason}
                if typ == T["ExitSync"]:
                    args.update({"EC": "0x%02x" % a, "ESR": "0x%x" % b})
                    if a in (EC_DABT, EC_IABT):
                        args["IPA"] = "0x%x" % c
                    elif a in (EC_HVC, EC_SMC):
                        args["x0"] = "0x%x" % c
                elif typ == T["ExitIrq"]:
                    args["INTID"] = a
                g = st["guest_seg"]
                if g is not None and g[1] is None:
                    g[4].update(args)
                self.pset(p, ts, "hyp", "hyp: " + reason, dict(args, vm=vm, vcpu=vcpu))
                st["exit"], st["exit_reason"] = (ts, vm, vcpu), reason
                if v.state != "off":
                    self.vstate(v, ts, "hyp", reason=reason)
            elif typ == T["Mmio"]:
                name = d.names.get((vm, a), "range %d" % a)
                v.inc("MMIO " + name)
                if st["exit"] and st["exit"][1:3] == (vm, vcpu) and st["exit_reason"] == "MMIO unhandled (abort)":
                    v.inc("MMIO unhandled (abort)", -1)
                    reason = "MMIO " + name
                    st["exit_reason"] = reason
                    extra = {"reason": reason, "offset": "0x%x" % b, "access": "%s %d" % (
                        "write" if c >> 8 & 1 else "read", (c & 0xFF) * 8)}
                    seg = self.pseg[p][-1]
                    seg[3] = "hyp: " + reason
                    seg[4].update(extra)
                    g = st["guest_seg"]
                    if g is not None:
                        g[4].update(extra)
                    if v.segments and v.segments[-1][2] == "hyp":
                        v.segments[-1][3]["reason"] = reason
            elif typ == T["Psci"]:
                v.inc("HVC/SMC (PSCI)")
                fn = PSCI_NAMES.get(a, "0x%x" % a)
                self.instants.append((ts, p, vm, vcpu, "PSCI " + fn, {"function": "0x%x" % a, "x0 returned":
                                                                      "0x%x" % b}))
                if a == PSCI_CPU_OFF:
                    self.vstate(v, ts, "off")
            elif typ == T["SwitchIn"]:
                v.inc("scheduled")
                why = SWITCH[a] if a < len(SWITCH) else str(a)
                if check_switches and st["loaded"] is not None:
                    self.problem(ts, p, "VM %d vCPU %d switched in (%s) while VM %d vCPU %d has not switched out" % (
                        vm, vcpu, why, st["loaded"][0], st["loaded"][1]))
                st["loaded"] = (vm, vcpu)
                if v.state == "runnable":
                    self.latency(v, "runnable", ts - v.since, ts)
                self.vstate(v, ts, "hyp", reason="switched in (%s)" % why)
                self.instants.append((ts, p, vm, vcpu, "switch in (%s)" % why, {"vm": vm, "vcpu": vcpu}))
            elif typ == T["SwitchOut"]:
                why = SWITCH[a] if a < len(SWITCH) else str(a)
                if check_switches and st["loaded"] != (vm, vcpu) and not (
                        st["loaded"] is None and self.horizon is not None and ts <= self.horizon):
                    self.problem(ts, p, "VM %d vCPU %d switched out (%s) but %s" % (
                        vm, vcpu, why, "nothing is switched in" if st["loaded"] is None else
                        "VM %d vCPU %d is" % st["loaded"]))
                st["loaded"] = None
                if st["exit"] and st["exit"][1:3] == (vm, vcpu):
                    st["exit"] = None
                if v.state not in ("blocked", "off") and vm not in vm_stopping:
                    v.inc("preempted")
                    self.vstate(v, ts, "runnable", reason="switched out (%s)" % why)
                self.instants.append((ts, p, vm, vcpu, "switch out (%s)" % why, {"vm": vm, "vcpu": vcpu}))
            elif typ == T["Block"]:
                v.inc("blocked in WFI")
                if st["exit"] and st["exit"][1:3] == (vm, vcpu):
                    st["exit"] = None
                self.vstate(v, ts, "blocked")
            elif typ == T["Wake"]:
                self.vstate(v, ts, "runnable", reason="woken" if a == NO_INTID else "woken by INTID %d" % a)
            elif typ == T["SgiSend"]:
                targets = [t for t in range(64) if b >> t & 1]
                v.inc("SGIs sent", len(targets))
                self.sgi["sent"] += len(targets)
                for t in targets:
                    self.vc(vm, t).inc("SGIs received")
                    sends.setdefault((vm, t, a), []).append((ts, p, vcpu))
            elif typ == T["IrqDeliver"]:
                if a < 16:
                    key = (vm, vcpu, a)
                    # Records come in time order: every queued send is older.
                    q = sends.pop(key, [])
                    if q:
                        first = q[0]
                        self.sgi["delivered"] += 1
                        self.sgi["coalesced"] += len(q) - 1
                        self.latency(v, "sgi", ts - first[0], ts)
                        self.flows.append((first[0], first[1], ts, p, vm, first[2], vcpu, a))
                    elif unacked.get(key):
                        self.sgi["redelivered"] += 1     # taken back from an LR and placed again
                    elif not check_sgis or (self.horizon is not None and ts <= self.horizon):
                        self.sgi["unchecked"] += 1
                    else:
                        self.problem(ts, p, "SGI %d delivered to VM %d vCPU %d without an earlier SgiSend to it" % (
                            a, vm, vcpu))
                    unacked[key] = True
            elif typ == T["IrqAck"]:
                unacked.pop((vm, vcpu, a), None)
            elif typ == T["IrqDone"]:
                pass
            elif typ == T["KickSend"]:
                kicks_to.setdefault(a, []).append(ts)
                if v is not None:
                    v.inc("kicks sent")
                self.instants.append((ts, p, vm if v else None, vcpu if v else None, "kick pCPU %d" % a,
                                      {"target pCPU": a}))
            elif typ == T["KickRecv"]:
                st["kicks"].append(ts)
                sent = kicks_to.pop(p, [])
                if sent and v is not None:
                    self.latency(v, "kicksent", ts - sent[0], ts)
                self.instants.append((ts, p, None, None, "kick received", {}))
            elif typ == T["Idle"]:
                self.pset(p, ts, "idle", "idle")
                st["exit"] = None
                st["kicks"] = []        # they brought no entry: nothing was runnable
            elif typ == T["IdleEnd"]:
                self.pset(p, ts, "hyp", "hyp: woken from idle", {"reason": "woken from idle"})
            elif typ == T["BlkSubmit"]:
                op = a & 0xFFFF
                self.instants.append((ts, p, vm, None, "blk %s" % (BLK_OPS[op] if op < len(BLK_OPS) else op), {
                    "tag": a >> 16, "sector": b, "bytes": c}))
            elif typ == T["BlkComplete"]:
                self.instants.append((ts, p, vm, None, "blk done%s" % ("" if a == 0 else " (error)"), {"tag": b}))
            elif typ == T["VmState"]:
                s = VM_STATES[a] if a < len(VM_STATES) else str(a)
                self.instants.append((ts, p, vm, None, "VM %d %s" % (vm, s), {}))
                if s in ("Stopping", "Resetting"):
                    vm_stopping.add(vm)
                elif s == "Running":
                    vm_stopping.discard(vm)
                if s == "Stopped":
                    for (m, _), w in self.vcpus.items():
                        if m == vm:
                            self.vstate(w, ts, "off")
            if typ not in (T["IrqDeliver"], T["GuestEnter"]):
                st["before_flush"] = ts
        # The end: open segments end with the trace; a vCPU still switched
        # in has its switch-in closed here.
        for p in self.pseg:
            segs = self.pseg[p]
            if segs and segs[-1][1] is None:
                segs[-1][1] = max(self.t_end, segs[-1][0])
        for v in self.vcpus.values():
            if v.segments and v.segments[-1][1] is None:
                v.segments[-1][1] = max(self.t_end, v.segments[-1][0])
        self.pending_sgis = sum(len(q) for q in sends.values())

    # -- results

    def count_rows(self, vm):
        """Exit-table rows of one VM: {label: [value per vCPU]} (None where
        the event filter left out what the row needs)."""
        d = self.d
        ids = sorted(c for m, c in self.vcpus if m == vm)
        n = max(ids) + 1 if ids else 0
        names = [d.names[k] for k in sorted(d.names) if k[0] == vm]
        need = {"scheduled": ["SwitchIn"], "preempted": ["SwitchOut", "Block"], "blocked in WFI": ["Block"],
                "total exits": ["ExitSync", "ExitIrq", "ExitOther"], "HVC/SMC (PSCI)": ["Psci"],
                "MMIO unhandled (abort)": ["ExitSync", "Mmio"], "sysreg": ["ExitSync"], "WFI": ["ExitSync"],
                "IRQ": ["ExitIrq"], "SGIs sent": ["SgiSend"], "SGIs received": ["SgiSend"],
                "kicks sent": ["KickSend"]}
        labels = ["scheduled", "preempted", "blocked in WFI", "total exits", "HVC/SMC (PSCI)"] + \
            ["MMIO " + x for x in names] + ["MMIO unhandled (abort)", "sysreg", "WFI", "IRQ", "SGIs sent",
                                            "SGIs received", "kicks sent"]
        rows = {}
        for label in labels:
            req = need.get(label, ["Mmio"])
            ok = all(d.recorded(x) for x in req)
            rows[label] = [self.vcpus[(vm, i)].counts.get(label, 0) if (vm, i) in self.vcpus else 0
                           for i in range(n)] if ok else None
        return rows

    def pcpu_shares(self):
        """Per pCPU: share of the traced time in the guest, the hypervisor
        and idle (from its first record to the end of the trace)."""
        out = {}
        for p, segs in self.pseg.items():
            tot = {"guest": 0, "hyp": 0, "idle": 0, "unknown": 0}
            for s, e, kind, _, _ in segs:
                tot[kind] += e - s
            span = sum(tot.values())
            out[p] = {k: (v / span if span else 0.0) for k, v in tot.items()}
            out[p]["span_ms"] = self.us(span) / 1000
            out[p]["guest_ran"] = any(k == "guest" for _, _, k, _, _ in segs)
        return out

    def summary(self, path=None):
        d = self.d
        res = {"file": path, "dump": d.index, "version": d.version, "mode": d.mode, "npcpus": d.npcpus,
               "nvms": d.nvms, "freq": d.freq, "events": "0x%x" % d.events, "records": d.records,
               "dropped": d.dropped, "dropped_per_pcpu": {str(p): dr for p, dr, _ in d.pcpus},
               "duration_ms": self.us(self.t_end - self.t0) / 1000,
               "workload_start_ms": (self.rel_us(self.mark) / 1000) if self.mark is not None else None,
               "vms": {}, "exit_handling_by_reason": {}, "pcpus": {}, "sgi": dict(self.sgi, pending=self.pending_sgis),
               "problems": len(self.problems)}
        for vm in sorted({m for m, _ in self.vcpus}):
            rows = self.count_rows(vm)
            lat = {}
            for (m, c), v in sorted(self.vcpus.items()):
                if m == vm:
                    lat[str(c)] = {k: stats_of(v.lat[k]) for k, _ in LATENCIES}
            allv = {k: stats_of([x for (m, _), v in self.vcpus.items() if m == vm for x in v.lat[k]])
                    for k, _ in LATENCIES}
            phase = None
            if self.mark is not None:
                phase = {k: stats_of([x for (m, _), pl in self.phase_lat.items() if m == vm for x in pl[k]])
                         for k, _ in LATENCIES}
            res["vms"][str(vm)] = {"counts": rows, "latency_us": lat, "latency_us_all": allv,
                                   "latency_us_workload": phase}
        for reason, xs in sorted(self.exit_by_reason.items(), key=lambda kv: -len(kv[1])):
            res["exit_handling_by_reason"][reason] = stats_of(xs)
        res["exit_handling_by_reason_workload"] = None if self.mark is None else {
            reason: stats_of(xs) for reason, xs in sorted(self.phase_by_reason.items(), key=lambda kv: -len(kv[1]))}
        for p, sh in self.pcpu_shares().items():
            res["pcpus"][str(p)] = sh
        return res


# ---------------------------------------------------------------- text summary

def fmt_us(x):
    if x is None:
        return "-"
    if x >= 1000:
        return "%.0f" % x
    if x >= 10:
        return "%.1f" % x
    return "%.2f" % x


def summary_text(s, a):
    d = a.d
    out = ["trace %s, dump %d: %s mode, %d pCPU%s, %d VM%s, %d records (%d dropped), %.1f ms, counter %.1f MHz, "
           "events %s" % (s["file"] or "-", s["dump"], s["mode"], s["npcpus"], "" if s["npcpus"] == 1 else "s",
                          s["nvms"], "" if s["nvms"] == 1 else "s", s["records"], s["dropped"], s["duration_ms"],
                          s["freq"] / 1e6, "all" if d.events == a_all_mask() else s["events"])]
    if s["dropped"]:
        out.append("  dropped per pCPU: %s: the oldest records were overwritten; counts cover only what is left" %
                   ", ".join("pCPU%s %d" % kv for kv in s["dropped_per_pcpu"].items()))
    if s["workload_start_ms"] is not None:
        out.append("  workload phase from %.3f ms (where the previous dump in the file ended)" % s["workload_start_ms"])
    if s["dump"] > 1:
        out.append("  recording paused while the %d earlier dump%s in the file %s written: what happened meanwhile "
                   "is missing (counts may fall short of the exit table's)" % (
                       s["dump"] - 1, "" if s["dump"] == 2 else "s", "was" if s["dump"] == 2 else "were"))
    for vm, info in s["vms"].items():
        rows = info["counts"]
        n = max((len(v) for v in rows.values() if v), default=0)
        out.append("")
        out.append("exit counts of VM %s (the hypervisor's exit table rows)" % vm)
        out.append("  %-22s" % "exits by reason" + "".join(" %9s%d" % ("vCPU", i) for i in range(n)))
        for label, vals in rows.items():
            if vals is None:
                out.append("  %-22s %s" % (label, "(not recorded: event filter)"))
            else:
                out.append("  %-22s" % label + "".join(" %10d" % x for x in vals))
        out.append("")
        out.append("latencies of VM %s in us (nearest-rank percentiles)" % vm)
        out.append("  %-32s %8s %9s %9s %9s %9s" % ("", "count", "p50", "p90", "p99", "max"))
        groups = [("vCPU %s" % c, lat) for c, lat in info["latency_us"].items()] + [("all vCPUs", info["latency_us_all"])]
        if info["latency_us_workload"]:
            groups.append(("all vCPUs, workload phase", info["latency_us_workload"]))
        for title, lat in groups:
            out.append("  %s" % title)
            for k, name in LATENCIES:
                st = lat[k]
                if st["count"]:
                    out.append("    %-30s %8d %9s %9s %9s %9s" % (name, st["count"], fmt_us(st["p50"]),
                                                                  fmt_us(st["p90"]), fmt_us(st["p99"]),
                                                                  fmt_us(st["max"])))
    for title, table in (("", s["exit_handling_by_reason"]), (", workload phase", s["exit_handling_by_reason_workload"])):
        if table is None:
            continue
        out.append("")
        out.append("exit handling by reason, all vCPUs%s (us; exits that blocked or switched the vCPU out are left "
                   "out)" % title)
        out.append("  %-32s %8s %9s %9s %9s %9s" % ("", "count", "p50", "p90", "p99", "max"))
        for reason, st in table.items():
            out.append("  %-32s %8d %9s %9s %9s %9s" % (reason[:32], st["count"], fmt_us(st["p50"]),
                                                        fmt_us(st["p90"]), fmt_us(st["p99"]), fmt_us(st["max"])))
    sg = s["sgi"]
    out.append("")
    out.append("SGIs: %d sent (per target), %d delivered, %d folded into a copy still pending, %d placed again, "
               "%d never delivered by the end%s" % (sg["sent"], sg["delivered"], sg["coalesced"], sg["redelivered"],
                                                    sg["pending"], ", %d not checked (before the dropped records' "
                                                    "horizon)" % sg["unchecked"] if sg["unchecked"] else ""))
    out.append("")
    out.append("pCPUs (share of each pCPU's traced time)")
    out.append("  %-8s %9s %9s %9s %9s %12s" % ("", "guest", "hyp", "idle", "unknown", "traced ms"))
    for p, sh in s["pcpus"].items():
        out.append("  pCPU%-4s %8.1f%% %8.1f%% %8.1f%% %8.1f%% %12.1f" % (p, 100 * sh["guest"], 100 * sh["hyp"],
                                                                      100 * sh["idle"], 100 * sh["unknown"],
                                                                      sh["span_ms"]))
    return "\n".join(out) + "\n"


def a_all_mask():
    m = 0
    for i in range(1, len(TYPES)):
        m |= 1 << i
    return m


# ---------------------------------------------------------------- Chrome JSON

VCPU_COLOURS = ["thread_state_running", "rail_load", "rail_animation", "cq_build_attempt_failed", "rail_response",
                "olive", "yellow", "good"]
STATE_COLOURS = {"guest": "thread_state_running", "hyp": "thread_state_iowait", "runnable": "thread_state_runnable",
                 "blocked": "thread_state_sleeping", "off": "grey"}
STATE_NAMES = {"guest": "running in guest", "hyp": "in hypervisor", "runnable": "runnable, not running",
               "blocked": "blocked (WFI)", "off": "off"}
PCPU_PID = 1


def vm_pid(vm):
    return 10 + vm


def in_window(s, e, win):
    return win is None or (e >= win[0] and s <= win[1])


def chrome_json(a, win=None):
    """Chrome trace-event JSON (the "JSON Object Format"): complete ("X")
    slices, instants ("i"), flows ("s"/"f") and metadata ("M")."""
    d = a.d
    ev = []

    def ns(t):
        return int(round(a.rel_us(t) * 1000))

    def ts(t):
        return ns(t) / 1000.0

    # Slices on one track must not overlap (Perfetto rejects improper
    # nesting), and a viewer turning these µs back into integer ns may be
    # off by one: each slice ends 1 ns before the next one starts.
    def dur(s, e):
        return max(0, ns(e) - ns(s) - 1) / 1000.0

    def clip(s, e):
        if win is None:
            return s, e
        return max(s, win[0]), min(e, win[1])

    ev.append({"ph": "M", "pid": PCPU_PID, "tid": 0, "name": "process_name", "args": {"name": "pCPUs"}})
    ev.append({"ph": "M", "pid": PCPU_PID, "tid": 0, "name": "process_sort_index", "args": {"sort_index": 0}})
    for p in a.pseg:
        ev.append({"ph": "M", "pid": PCPU_PID, "tid": p + 1, "name": "thread_name", "args": {"name": "pCPU %d" % p}})
        ev.append({"ph": "M", "pid": PCPU_PID, "tid": p + 1, "name": "thread_sort_index", "args": {"sort_index": p}})
    for vm in sorted({m for m, _ in a.vcpus}):
        ev.append({"ph": "M", "pid": vm_pid(vm), "tid": 0, "name": "process_name", "args": {"name": "VM %d" % vm}})
        ev.append({"ph": "M", "pid": vm_pid(vm), "tid": 0, "name": "process_sort_index",
                   "args": {"sort_index": 1 + vm}})
        ev.append({"ph": "M", "pid": vm_pid(vm), "tid": 999, "name": "thread_name", "args": {"name": "devices"}})
    for (vm, c) in sorted(a.vcpus):
        ev.append({"ph": "M", "pid": vm_pid(vm), "tid": c + 1, "name": "thread_name",
                   "args": {"name": "vCPU %d" % c}})
        ev.append({"ph": "M", "pid": vm_pid(vm), "tid": c + 1, "name": "thread_sort_index", "args": {"sort_index": c}})
    for p, segs in a.pseg.items():
        for s, e, kind, label, args in segs:
            if kind == "unknown" or not in_window(s, e, win):
                continue
            s, e = clip(s, e)
            x = {"ph": "X", "pid": PCPU_PID, "tid": p + 1, "ts": ts(s), "dur": dur(s, e),
                 "name": label, "cat": kind, "args": args}
            if kind == "guest":
                x["cname"] = VCPU_COLOURS[(args.get("vm", 0) * 4 + args.get("vcpu", 0)) % len(VCPU_COLOURS)]
            elif kind == "idle":
                x["cname"] = "grey"
            else:
                x["cname"] = "thread_state_iowait"
            ev.append(x)
    for (vm, c), v in sorted(a.vcpus.items()):
        for s, e, state, args in v.segments:
            if not in_window(s, e, win):
                continue
            s, e = clip(s, e)
            ev.append({"ph": "X", "pid": vm_pid(vm), "tid": c + 1, "ts": ts(s), "dur": dur(s, e),
                       "name": STATE_NAMES[state], "cat": state, "cname": STATE_COLOURS[state], "args": args})
    for t, p, vm, vcpu, name, args in a.instants:
        if not in_window(t, t, win):
            continue
        if name.startswith("kick") or name.startswith("switch"):
            pid, tid = PCPU_PID, p + 1
        elif vcpu is not None:
            pid, tid = vm_pid(vm), vcpu + 1
        elif vm is not None:
            pid, tid = vm_pid(vm), 999
        else:
            pid, tid = PCPU_PID, p + 1
        ev.append({"ph": "i", "s": "t", "pid": pid, "tid": tid, "ts": ts(t), "name": name,
                   "cat": name.split()[0].lower(), "args": dict(args, pCPU=p)})
    fid = 0
    for st, sp, dt, dp, vm, sender, target, intid in a.flows:
        if not (in_window(st, st, win) and in_window(dt, dt, win)):
            continue
        fid += 1
        name = "SGI %d" % intid
        fargs = {"VM": vm, "from vCPU": sender, "to vCPU": target, "latency us": round(a.us(dt - st), 3)}
        # Bound to the enclosing slices: the sender's exit handling and the
        # target's hypervisor time before its entry.
        ev.append({"ph": "s", "id": fid, "pid": PCPU_PID, "tid": sp + 1, "ts": ts(st), "name": name, "cat": "ipi",
                   "args": fargs})
        ev.append({"ph": "f", "bp": "e", "id": fid, "pid": PCPU_PID, "tid": dp + 1, "ts": ts(dt), "name": name,
                   "cat": "ipi", "args": fargs})
    meta = {"hypervisor trace": {"mode": d.mode, "pCPUs": d.npcpus, "VMs": d.nvms, "dump": d.index,
                                 "records": d.records, "dropped": d.dropped, "counter Hz": d.freq}}
    if win is not None:
        meta["hypervisor trace"]["window ms"] = [round(a.rel_us(win[0]) / 1000, 3),
                                                 round(a.rel_us(win[1]) / 1000, 3)]
    return {"traceEvents": ev, "displayTimeUnit": "ns", "otherData": meta}


# ---------------------------------------------------------------- PNG (gnuplot)

PNG_VCPU_RGB = ["#2c6fbb", "#e08a2c", "#3a9a3a", "#b03aa0", "#1fa6a6", "#a0522d", "#7a7a00", "#555599"]
PNG_STATE_RGB = {"guest": "#3a9a3a", "hyp": "#d62728", "runnable": "#f2c12e", "blocked": "#aec7e8", "off": None}


def gnuplot_available():
    if shutil.which("gnuplot"):
        return True
    sys.stderr.write("trace: gnuplot missing, running scripts/setup-host.sh\n")
    subprocess.run(["bash", os.path.join(ROOT, "scripts", "setup-host.sh")])
    return shutil.which("gnuplot") is not None


def draw_png(a, png, win, title):
    """Rows: one per pCPU (guest time coloured by vCPU, hypervisor time
    dark red, idle blank), then one per vCPU (its states); arrows from each
    SGI's send to its delivery, between vCPU rows."""
    if not gnuplot_available():
        raise TraceError("gnuplot is not installed and scripts/setup-host.sh could not install it: "
                         "apt-get install gnuplot-nox")
    s0, s1 = win
    ms = lambda t: a.rel_us(t) / 1000.0  # noqa: E731
    pcpus = sorted(a.pseg)
    vcpus = sorted(a.vcpus)
    rows = ["pCPU %d" % p for p in pcpus] + ["VM%d vCPU%d" % k for k in vcpus]
    y_of_p = {p: len(rows) - 1 - i for i, p in enumerate(pcpus)}
    y_of_v = {k: len(rows) - 1 - len(pcpus) - i for i, k in enumerate(vcpus)}
    vcol = {k: int(PNG_VCPU_RGB[i % len(PNG_VCPU_RGB)][1:], 16) for i, k in enumerate(vcpus)}
    base = os.path.splitext(png)[0]
    dat, gp = base + ".plot.dat", base + ".plot.gp"
    n_boxes = 0
    with open(dat, "w") as f:
        f.write("# boxes: x_lo x_hi y half_height rgb\n")
        f.write("%.6f %.6f -5 0.1 0\n" % (ms(s0), ms(s0)))     # never empty (gnuplot refuses that)
        for p in pcpus:
            for s, e, kind, _, args in a.pseg[p]:
                if kind in ("unknown", "idle") or not in_window(s, e, (s0, s1)):
                    continue
                s, e = max(s, s0), min(e, s1)
                if kind == "guest":
                    f.write("%.6f %.6f %d 0.38 %d\n" % (ms(s), ms(e), y_of_p[p], vcol.get((args["vm"], args["vcpu"]), 0)))
                else:
                    f.write("%.6f %.6f %d 0.12 %d\n" % (ms(s), ms(e), y_of_p[p], 0x8b1a1a))
                n_boxes += 1
        for k in vcpus:
            for s, e, state, _ in a.vcpus[k].segments:
                rgb = PNG_STATE_RGB[state]
                if rgb is None or not in_window(s, e, (s0, s1)):
                    continue
                s, e = max(s, s0), min(e, s1)
                f.write("%.6f %.6f %d 0.38 %d\n" % (ms(s), ms(e), y_of_v[k], int(rgb[1:], 16)))
                n_boxes += 1
        f.write("\n\n# SGI arrows: x y dx dy\n")
        n_arrows = 0
        for st, _, dt, _, vm, sender, target, _ in a.flows:
            if st < s0 or dt > s1 or (vm, sender) not in y_of_v or (vm, target) not in y_of_v:
                continue
            f.write("%.6f %d %.6f %d\n" % (ms(st), y_of_v[(vm, sender)], ms(dt) - ms(st),
                                           y_of_v[(vm, target)] - y_of_v[(vm, sender)]))
            n_arrows += 1
        if not n_arrows:
            f.write("NaN NaN NaN NaN\n")
    legend = [("guest: VM%d vCPU%d" % k, PNG_VCPU_RGB[i % len(PNG_VCPU_RGB)]) for i, k in enumerate(vcpus)]
    legend += [("hypervisor", "#8b1a1a"), ("vCPU in guest", PNG_STATE_RGB["guest"]),
               ("vCPU in hypervisor", PNG_STATE_RGB["hyp"]), ("runnable, not running", PNG_STATE_RGB["runnable"]),
               ("blocked (WFI)", PNG_STATE_RGB["blocked"]), ("SGI send -> delivery", "#000000")]
    height = 120 + 46 * len(rows)
    s = ['set terminal pngcairo size 1400,%d font "DejaVu Sans,10" noenhanced' % max(height, 360),
         'set output "%s"' % png,
         'set title "%s"' % title.replace('"', "'"),
         'set xrange [%.6f:%.6f]' % (ms(s0), ms(s1)),
         'set yrange [-0.7:%g]' % (len(rows) - 0.3),
         'set ytics (%s)' % ", ".join('"%s" %d' % (r, len(rows) - 1 - i) for i, r in enumerate(rows)),
         'set xlabel "ms since the first record"',
         'set grid xtics lc rgb "#dddddd"',
         'set border 3', 'set xtics nomirror', 'set ytics nomirror scale 0',
         'set key outside right top vertical Left reverse samplen 1.5 font ",9"',
         'set style fill solid 1.0 noborder']
    plots = ['"%s" index 0 using (($1+$2)/2):3:(($2-$1)/2):4:5 with boxxyerror lc rgb variable notitle' % dat,
             '"%s" index 1 using 1:2:3:4 with vectors head filled size screen 0.006,20 lc rgb "#000000" lw 0.6 '
             'notitle' % dat]
    for name, rgb in legend:
        plots.append('NaN with boxes lc rgb "%s" title "%s"' % (rgb, name))
    s.append("plot " + ", \\\n     ".join(plots))
    with open(gp, "w") as f:
        f.write("\n".join(s) + "\n")
    p = subprocess.run(["gnuplot", gp], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0 or not os.path.exists(png):
        raise TraceError("gnuplot failed on %s: %s" % (gp, p.stdout.strip().splitlines()[-1:] or "?"))
    for x in (dat, gp):
        os.remove(x)


def default_window(a):
    """The workload phase when the file marks one, else the whole trace."""
    start = a.mark if a.mark is not None else a.t0
    return start, max(a.t_end, start + 1)


# ---------------------------------------------------------------- main

def parse_window(text, a):
    try:
        start_ms, len_ms = (float(x) for x in text.split(","))
    except ValueError:
        raise TraceError("--window %s: use --window START_MS,LEN_MS (ms since the first record), e.g. "
                         "--window 9500,5" % text)
    if start_ms < 0 or len_ms <= 0:
        raise TraceError("--window %s: the start must be >= 0 and the length > 0 (ms)" % text)
    s = a.t0 + int(start_ms * a.d.freq / 1000)
    e = s + max(1, int(len_ms * a.d.freq / 1000))
    if s > a.t_end:
        raise TraceError("--window %s starts after the trace ends (%.3f ms)" % (text, a.rel_us(a.t_end) / 1000))
    return s, e


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog="See docs/tracing.md.")
    ap.add_argument("file", nargs="?", default=os.path.join(ROOT, "build", "trace.bin"))
    ap.add_argument("--dump", type=int, metavar="N", help="which dump of the file (1 = the first; default: the "
                    "last complete one)")
    ap.add_argument("--summary", action="store_true", help="text summary on stdout (the default)")
    ap.add_argument("--summary-out", metavar="F", help="write the text summary to F as well")
    ap.add_argument("--summary-json", metavar="F", help="the summary as JSON ('-': stdout)")
    ap.add_argument("--json", metavar="F", help="Chrome trace-event JSON (Perfetto UI, chrome://tracing)")
    ap.add_argument("--png", metavar="F", help="timeline picture (gnuplot)")
    ap.add_argument("--window", metavar="START_MS,LEN_MS", help="what --json and --png show (ms since the first "
                    "record; default: the workload phase if the file marks one, else everything)")
    ap.add_argument("--check", action="store_true", help="consistency checks; exit status 1 on a problem")
    ap.add_argument("--title", help="the PNG's title")
    args = ap.parse_args(argv)
    try:
        dump, dumps = load(args.file, args.dump)
        # Several dumps in one file: the one before marks where the workload began
        # (make trace dumps with Ctrl-] t right before it starts).
        mark = None
        if dump.index > 1:
            prev = dumps[dump.index - 2]
            ends = [r[-1][0] for _, _, r in prev.pcpus if r]
            mark = max(ends) if ends else None
        a = Analysis(dump, mark)
        win = parse_window(args.window, a) if args.window else None
        s = a.summary(args.file)
        want_summary = args.summary or not (args.json or args.png or args.check or args.summary_json)
        if want_summary or args.summary_out:
            text = summary_text(s, a)
            if want_summary:
                sys.stdout.write(text)
            if args.summary_out:
                with open(args.summary_out, "w") as f:
                    f.write(text)
        if args.summary_json:
            text = json.dumps(s, indent=1, sort_keys=True)
            if args.summary_json == "-":
                print(text)
            else:
                with open(args.summary_json, "w") as f:
                    f.write(text + "\n")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(chrome_json(a, win), f, separators=(",", ":"))
                f.write("\n")
        if args.png:
            w = win or default_window(a)
            title = args.title or "%s mode, %s, %.3f-%.3f ms" % (dump.mode, os.path.basename(args.file),
                                                                a.rel_us(w[0]) / 1000, a.rel_us(w[1]) / 1000)
            draw_png(a, args.png, w, title)
    except TraceError as e:
        sys.stderr.write("trace: %s\n" % e)
        return 2
    except OSError as e:
        sys.stderr.write("trace: %s: %s\n" % (e.filename or "?", e.strerror))
        return 2
    if args.check:
        ok = not a.problems
        for p in a.problems[:200]:
            print("check: FAIL %s" % p)
        if len(a.problems) > 200:
            print("check: ... and %d more" % (len(a.problems) - 200))
        if a.unchecked_rules:
            print("check: not checked (the event filter left out their events): %s" % ", ".join(a.unchecked_rules))
        print("check: %s: %d records, %d SGI deliveries matched to sends, %d problem%s" % (
            "ok" if ok else "FAILED", dump.records, a.sgi["delivered"], len(a.problems),
            "" if len(a.problems) == 1 else "s"))
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
