"""What QEMU's gdb stub shows: one gdb thread per physical CPU, with the
CPU's live registers. Two facts shape everything here
(shared/docs/platform.md section 7 and docs/debugging.md):

- Memory is read through the selected pCPU's current translation regime.
  A pCPU that is running the guest translates through the guest's stage 1
  and stage 2, so reading the hypervisor's globals from it gives guest
  memory. The helpers therefore switch the stub to physical addresses
  (Qqemu.PhyMemMode) while they read; the hypervisor's own EL2 map is the
  identity, so its symbols' addresses are physical addresses.
- Registers are per thread. A pCPU's $pc/$cpsr are the guest's while it is
  in the guest (EL1/EL0), and the hypervisor's while it is at EL2.
"""
import contextlib
import os
import re

import gdb

from .structs import ShapeError, array_len, u, value

# PSTATE.M[3:0] for AArch64 (M[4] = 0).
_MODES = {0x0: "EL0t", 0x4: "EL1t", 0x5: "EL1h", 0x8: "EL2t", 0x9: "EL2h", 0xC: "EL3t", 0xD: "EL3h"}


def pstate_el(pstate):
    """Exception level of an AArch64 PSTATE; None for AArch32 (never at EL2 here)."""
    return None if pstate & 0x10 else (pstate >> 2) & 3


def pstate_in_guest(pstate):
    return pstate_el(pstate) != 2


def pstate_str(pstate):
    """0x3c5 -> "0x000003c5 EL1h DAIF nzcv" (letters for the flags that are set)."""
    mode = "AArch32" if pstate & 0x10 else _MODES.get(pstate & 0xF, "M=%#x" % (pstate & 0xF))
    daif = "".join(c if pstate & (1 << b) else "-" for c, b in (("D", 9), ("A", 8), ("I", 7), ("F", 6)))
    nzcv = "".join(c.upper() if pstate & (1 << b) else c for c, b in (("n", 31), ("z", 30), ("c", 29), ("v", 28)))
    return "0x%08x %s %s %s" % (pstate, mode, daif, nzcv)


def _packet(text):
    out = gdb.execute("maint packet " + text, to_string=True)
    m = re.search(r'received: "(.*)"', out)
    return m.group(1) if m else None


def _phys_mode():
    try:
        mode = _packet("qqemu.PhyMemMode")
    except gdb.error as e:
        raise gdb.GdbError("hyp-gdb: cannot talk to QEMU's gdb stub (%s): connect first "
                           "(make debug, or target remote :PORT)" % e)
    if mode not in ("0", "1"):
        raise gdb.GdbError("hyp-gdb: the gdb stub does not offer qqemu.PhyMemMode (got %r): "
                           "the helpers need QEMU's stub" % mode)
    return mode


def _set_phys_mode(mode):
    _packet("Qqemu.PhyMemMode:" + mode)
    # Nothing read in the other mode may be reused.
    gdb.execute("maint flush dcache", to_string=True)


@contextlib.contextmanager
def physical_memory():
    """Memory reads inside the block use physical addresses (see above)."""
    before = _phys_mode()
    if before == "0":
        _set_phys_mode("1")
    try:
        yield
    finally:
        if before == "0":
            _set_phys_mode("0")


class HvMemory(gdb.Command):
    """How gdb's memory accesses are translated: physical (the default of make debug) or virtual.

Usage: hv-memory [physical|virtual]     (no argument: show the current one)

QEMU's stub translates memory accesses through the selected pCPU's current
translation regime. For a pCPU that is in the guest (EL1/EL0) that is the
guest's stage 1 and stage 2: `print g_vms[0]` from such a thread would read
guest memory, and `set var` would write into the guest. `physical` makes
every access use physical addresses, which for the hypervisor's own symbols
are the same (EL2 maps memory 1:1), whatever thread is selected. Switch to
`virtual` to look at guest memory by guest virtual address, e.g. `x/4i $pc`
on a pCPU that is in the guest. The hv-* helpers always read physically."""

    def __init__(self):
        super().__init__("hv-memory", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        want = {"": None, "physical": "1", "virtual": "0"}.get(arg.strip(), "?")
        if want == "?":
            raise gdb.GdbError("usage: hv-memory [physical|virtual]")
        if want is not None:
            _set_phys_mode(want)
        mode = _phys_mode()
        gdb.write("memory accesses: %s\n" % ("physical addresses (qqemu.PhyMemMode 1)" if mode == "1" else
                                              "virtual, through the selected pCPU's current translation"))


class PcpuThread:
    """One pCPU as QEMU's stub shows it, read while the target is stopped."""

    def __init__(self, index, thread, qemu_state, regs, where):
        self.index = index          # pCPU index (QEMU's CPU#N, = g_pcpus[N])
        self.thread = thread        # gdb.InferiorThread
        self.qemu_state = qemu_state  # "running", or "halted" (in WFI)
        self.regs = regs            # pc, cpsr, ELR_EL2, SPSR_EL2, TPIDR_EL2
        self.where = where          # EL2: "function (file:line)"; guest: None

    @property
    def el(self):
        return pstate_el(self.regs["cpsr"])

    @property
    def in_guest(self):
        return pstate_in_guest(self.regs["cpsr"])


_REGS = ("pc", "cpsr", "ELR_EL2", "SPSR_EL2", "TPIDR_EL2")


def _frame_where(frame):
    name = frame.name() or "??"
    sal = frame.find_sal()
    if sal.symtab:
        return "%s (%s:%d)" % (name, os.path.basename(sal.symtab.filename), sal.line)
    return name


def pcpu_threads():
    """Every pCPU thread, in pCPU order, with its registers."""
    inf = gdb.selected_inferior()
    threads = sorted(inf.threads(), key=lambda t: t.num)
    if not threads:
        raise gdb.GdbError("hyp-gdb: no threads: connect to QEMU first (make debug, or target remote :PORT)")
    if any(t.is_running() for t in threads):
        raise gdb.GdbError("hyp-gdb: the target is running: stop it first (Ctrl-C or `interrupt`)")
    pcpus = value("g_pcpus")
    npcpus = array_len(pcpus)
    base = u(pcpus.address)
    stride = pcpus[0].type.sizeof
    selected = gdb.selected_thread()
    try:
        frame = gdb.selected_frame()
    except gdb.error:
        frame = None
    out = []
    try:
        for t in threads:
            m = re.match(r"CPU#(\d+) \[(\w+)", t.details or "")
            index = int(m.group(1)) if m else t.num - 1
            t.switch()
            f = gdb.newest_frame()
            regs = {}
            for r in _REGS:
                try:
                    regs[r] = u(f.read_register(r))
                except (gdb.error, ValueError) as e:
                    raise gdb.GdbError("hyp-gdb: cannot read $%s of thread %d (%s): the helpers need QEMU's "
                                       "AArch64 stub with EL2 system registers" % (r, t.num, e))
            if index >= npcpus:
                raise ShapeError("QEMU has CPU#%d but g_pcpus has %d entries" % (index, npcpus))
            tp = regs["TPIDR_EL2"]
            # TPIDR_EL2 = &g_pcpus[n] once pCPU n has entered hyp_cpu_entry.
            if tp and tp != base + index * stride:
                raise ShapeError("thread %d (CPU#%d) has TPIDR_EL2 %#x, expected &g_pcpus[%d] = %#x"
                                 % (t.num, index, tp, index, base + index * stride))
            # A guest PC is not symbolised: guest IPAs overlap the
            # hypervisor's link addresses.
            out.append(PcpuThread(index, t, m.group(2) if m else "?", regs,
                                  None if pstate_in_guest(regs["cpsr"]) else _frame_where(f)))
    finally:
        selected.switch()
        if frame is not None and frame.is_valid():
            frame.select()
    return sorted(out, key=lambda p: p.index)
