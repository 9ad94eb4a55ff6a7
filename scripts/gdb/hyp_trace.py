"""hv-trace: the hypervisor's event trace read out of its memory by gdb
(docs/tracing.md), for `make debug TRACE=1`: the per-pCPU rings
(g_pcpus[p].trace: recs_, mask_, head_), written as the same dump as the
hypervisor's own (hyp/trace/trace_format.h), which scripts/trace.py reads.
Loaded by scripts/gdb/hyp.py."""
import os
import struct
import subprocess

import gdb

from hypgdb.structs import ShapeError, array_len, field, path, u, value
from hypgdb.target import physical_memory

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEADER = struct.Struct("<8sIIQIIII")
NAME = struct.Struct("<BB14s")
PCPU = struct.Struct("<IIQ")
RECORD_SIZE = 32
VERSION = 1                 # kTraceVersion
CHUNK = 64 * 1024           # bytes per memory read


def _counter_freq():
    try:
        return int(gdb.parse_and_eval("$CNTFRQ_EL0")) & 0xFFFFFFFF
    except gdb.error as e:
        raise gdb.GdbError("hv-trace: cannot read CNTFRQ_EL0 from the gdb stub (%s): connect to QEMU's stub "
                           "(make debug)" % e)


def _read(inf, addr, n):
    out = bytearray()
    while n:
        k = min(n, CHUNK)
        out += bytes(inf.read_memory(addr, k))
        addr += k
        n -= k
    return bytes(out)


def _names():
    """(vm, range, name) of every VM's MMIO ranges, as a dump lists them."""
    out = []
    for m in range(u(value("g_nvms"))):
        bus = field(value("g_vms[%d]" % m), "bus")
        n = u(field(bus, "n_"))
        ranges = field(bus, "ranges_")
        if n > array_len(ranges):
            raise ShapeError("MmioBus::n_ is %d, more than ranges_ holds" % n)
        for i in range(n):
            dev = field(ranges[i], "dev")
            name = field(dev, "name_").string(length=64) if u(dev) else "?"
            out.append((m, i, name))
    return out


def read_dump():
    """The dump bytes and (records, dropped) of the rings as they are now.

    Like the hypervisor's own dump: oldest record first, and in a full ring
    the oldest slot is left out (a pCPU stopped inside TraceRing::push may
    have written it halfway) and counted as dropped."""
    inf = gdb.selected_inferior()
    events = u(value("trace::g_events")) & 0xFFFFFFFF
    if events == 0:
        raise gdb.GdbError("hv-trace: the trace is not recording (trace::g_events is 0): start with "
                           "make debug TRACE=1 (or a dump is under way: continue and stop again)")
    pcpus = value("g_pcpus")
    rings = []
    for p in range(array_len(pcpus)):
        ring = path(pcpus[p], "trace")
        recs = u(field(ring, "recs_"))
        if recs == 0:
            break               # trace::start gives pCPUs 0..n-1 their rings
        rings.append((p, recs, u(field(ring, "mask_")), u(field(ring, "head_"))))
    if not rings:
        raise gdb.GdbError("hv-trace: no pCPU has a trace ring yet: let the hypervisor boot (continue) first")
    names = _names()
    mode = int(path(value("g_options"), "mode"))
    out = [HEADER.pack(b"HYPTRACE", VERSION, len(rings), _counter_freq(), u(value("g_nvms")), len(names), mode,
                       events)]
    for vm, rng, name in names:
        out.append(NAME.pack(vm, rng, name.encode("ascii", "replace")[:13]))
    total = dropped_all = 0
    for p, recs, mask, head in rings:
        cap = mask + 1
        dropped = head - cap if head > cap else 0
        count = head - dropped
        skip = 1 if dropped else 0
        first = (dropped + skip) & mask
        n = count - skip
        # At most two runs: to the end of the storage, then from its start.
        run1 = min(n, cap - first)
        data = _read(inf, recs + first * RECORD_SIZE, run1 * RECORD_SIZE)
        if n > run1:
            data += _read(inf, recs, (n - run1) * RECORD_SIZE)
        out.append(PCPU.pack(p, n, dropped + skip))
        out.append(data)
        total += n
        dropped_all += dropped + skip
    return b"".join(out), total, dropped_all


class HvTrace(gdb.Command):
    """Write the hypervisor's event trace, read from its memory, to a file.

Usage: hv-trace FILE [--json JSON] [--summary]

The hypervisor must run with the trace on (make debug TRACE=1). Reads each
pCPU's ring as it is now (stop the target first: Ctrl-C, a breakpoint or
hv-continue-until) and writes FILE in the format of the hypervisor's own
dumps (hyp/trace/trace_format.h), which scripts/trace.py reads: --json
also runs it to make Chrome trace-event JSON (Perfetto, chrome://tracing),
--summary prints its text summary. The rings keep recording afterwards."""

    def __init__(self):
        super().__init__("hv-trace", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        usage = "usage: hv-trace FILE [--json JSON] [--summary]"
        if not argv or argv[0].startswith("-"):
            raise gdb.GdbError(usage)
        out, json_out, summary = argv[0], None, False
        i = 1
        while i < len(argv):
            if argv[i] == "--json" and i + 1 < len(argv):
                json_out = argv[i + 1]
                i += 2
            elif argv[i] == "--summary":
                summary = True
                i += 1
            else:
                raise gdb.GdbError(usage)
        with physical_memory():
            data, n, dropped = read_dump()
        try:
            with open(out, "wb") as f:
                f.write(data)
        except OSError as e:
            raise gdb.GdbError("hv-trace: cannot write %s (%s)" % (out, e.strerror))
        gdb.write("hv-trace: wrote %d records (%d dropped) to %s\n" % (n, dropped, out))
        if json_out or summary:
            # gdb's embedded Python has no interpreter of its own to run.
            cmd = ["python3", os.path.join(ROOT, "scripts", "trace.py"), out]
            if json_out:
                cmd += ["--json", json_out]
            if summary:
                cmd += ["--summary"]
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            gdb.write(p.stdout)
            if p.returncode != 0:
                raise gdb.GdbError("hv-trace: scripts/trace.py failed (status %d)" % p.returncode)
            if json_out:
                gdb.write("hv-trace: wrote %s (open it in https://ui.perfetto.dev or chrome://tracing)\n" % json_out)


HvTrace()
