"""hv-log: the hypervisor's log ring (g_log_ring, hyp/arch/aarch64/log.cpp)."""
import gdb

from .args import optional_int
from .structs import ShapeError, array_len, u, value
from .target import physical_memory


def log_lines():
    """Complete lines still in the ring, oldest first."""
    ring = value("g_log_ring")
    size = array_len(ring)
    if ring.type.strip_typedefs().target().sizeof != 1:
        raise ShapeError("g_log_ring is %s, expected an array of char" % ring.type)
    head = u(value("g_log_ring_head"))
    inf = gdb.selected_inferior()
    data = bytes(inf.read_memory(u(ring.address), size))
    if head <= size:
        text = data[:head]
    else:
        # head counts every byte ever written; the oldest byte still held
        # is at head % size, and the first line there is cut: drop it.
        start = head % size
        text = data[start:] + data[:start]
        text = text[text.find(b"\n") + 1:]
    lines = text.decode("utf-8", "replace").split("\n")
    if lines[-1]:
        # Stopped while a pCPU was in the middle of put_line().
        lines[-1] += "  <- (line still being written)"
    else:
        lines.pop()
    return lines


class HvLog(gdb.Command):
    """The hypervisor's recent log, oldest line first.

Usage: hv-log [N]      (N: only the last N lines)

Every hyp_log() line ("[pN] message") is also kept in g_log_ring, a ring of
the last 16 KiB, with g_log_ring_head counting all bytes ever logged. This
shows the lines still there: useful when the console scrolled away or went
to a log file, and after a panic (the panic report itself is printed
without the log, on the console only)."""

    def __init__(self):
        super().__init__("hv-log", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        n = optional_int(arg, "hv-log [N]")
        with physical_memory():
            lines = log_lines()
        if n is not None:
            lines = lines[-n:] if n > 0 else []
        gdb.write("".join(l + "\n" for l in lines) if lines else "(the log is empty)\n")
