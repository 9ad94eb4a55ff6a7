"""The vGIC model (hyp/vgic/state.h, irq.h) and list-register images
(vgic::LrFile), and hv-vgic: the distributor's view of every SPI."""
import gdb

from .args import split_vm
from .model import check_vm, vm_count
from .structs import ShapeError, boolean, elements, field, path, u, value
from .target import physical_memory

NUM_PRIVATE = 32
NO_VCPU = 0xFF  # vgic::kNoVcpu
LR_STATES = {1: "pending", 2: "active", 3: "pending+active"}


def decode_lr(lr):
    """ICH_LR<n>_EL2 fields (GICv3 architecture): "vINTID 27 pending HW pINTID 27 prio 0xa0 G1"."""
    state = (lr >> 62) & 3
    if lr == 0:
        return "-"
    text = "vINTID %d" % (lr & 0xFFFFFFFF)
    if lr & (1 << 61):
        text += " HW pINTID %d" % ((lr >> 32) & 0x1FFF)
    elif lr & (1 << 41):
        text += " EOI"
    text += " prio %#x G%d" % ((lr >> 48) & 0xFF, (lr >> 60) & 1)
    # State 0: the guest has finished with it; the fields are left over.
    return "%s %s" % (LR_STATES[state], text) if state else "free (was %s)" % text


def vgic_state(vm=0):
    return path(value("g_vms[%d]" % vm), "vgic.s_")


class Irq:
    """One vgic::IrqState, decoded."""

    FLAGS = ("enabled", "edge", "hw", "group1", "latch", "line", "lr_pending", "active")
    NUMBERS = ("priority", "target", "irouter", "res_vcpu", "res_lr")

    def __init__(self, intid, v):
        self.intid = intid
        for name in self.FLAGS:
            setattr(self, name, boolean(field(v, name)))
        for name in self.NUMBERS:
            setattr(self, name, u(field(v, name)))

    @property
    def pending(self):
        """GICD_ISPENDR view (IrqState::pending): any source, wherever it lives."""
        return self.latch or (not self.edge and self.line) or self.lr_pending

    def pending_sources(self):
        """Where the pending state is: latch (edge/ISPENDR), line (level high), lr (handed to the guest)."""
        s = []
        if self.latch:
            s.append("latch")
        if not self.edge and self.line:
            s.append("line")
        if self.lr_pending:
            s.append("lr")
        return s

    @property
    def resident(self):
        return self.res_vcpu != NO_VCPU

    def interesting(self):
        return self.enabled or self.pending or self.active or self.resident or self.line

    def short(self):
        """ "27(line,lr HW)" for the vCPU summaries."""
        tags = self.pending_sources() + (["HW"] if self.hw else [])
        return "%d(%s)" % (self.intid, ",".join(tags)) if tags else str(self.intid)


def private_irqs(s, v):
    vs = elements(field(s, "vcpu"), v + 1)[v]
    return [Irq(i, x) for i, x in enumerate(elements(field(vs, "priv"), NUM_PRIVATE, at_least=NUM_PRIVATE))]


def spis(s):
    n = u(field(s, "nr_spis"))
    return [Irq(NUM_PRIVATE + i, x) for i, x in enumerate(elements(field(s, "spi"), n))]


def ranges(ids):
    """[0,1,2,3,25,27] -> "0-3 25 27"."""
    out, ids = [], sorted(ids)
    i = 0
    while i < len(ids):
        j = i
        while j + 1 < len(ids) and ids[j + 1] == ids[j] + 1:
            j += 1
        out.append(str(ids[i]) if i == j else "%d-%d" % (ids[i], ids[j]))
        i = j + 1
    return " ".join(out) or "-"


def irouter_text(irq, nvcpus):
    if irq.irouter & (1 << 31):
        route = "any (IRM=1)"
    else:
        a = irq.irouter
        route = "%d.%d.%d.%d" % ((a >> 32) & 0xFF, (a >> 16) & 0xFF, (a >> 8) & 0xFF, a & 0xFF)
    target = "vCPU%d" % irq.target if irq.target < nvcpus else "none"
    return route, target


class HvVgic(gdb.Command):
    """The virtual distributor: enable, pending, active, trigger, priority and routing per SPI.

Usage: hv-vgic [all] [vm=M]     (M: that VM's distributor, VM 0's without it)

Reads g_vms[M].vgic.s_ (vgic::VgicState). Without `all`, only SPIs that are
enabled, pending, active, resident in a list register or have their line
high are listed. "pending" names where the pending state is (IrqState):
latch = an edge or ISPENDR write not yet in an LR, line = a level device
input that is high, lr = handed to the guest in a list register. IROUTER is
the guest's GICD_IROUTER<n> (Aff3.Aff2.Aff1.Aff0, or IRM=1), target the vCPU
it resolves to, LR the vCPU and list register holding it. Then, per vCPU,
the SGIs/PPIs (redistributor state)."""

    def __init__(self):
        super().__init__("hv-vgic", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        usage = "hv-vgic [all] [vm=M]"
        vm, rest = split_vm(arg, usage)
        show_all = rest == "all"
        if rest not in ("", "all"):
            raise gdb.GdbError("usage: " + usage)
        with physical_memory():
            check_vm(vm, "hv-vgic")
            s = vgic_state(vm)
            ctlr = u(field(s, "ctlr"))
            nvcpus = u(field(s, "nvcpus"))
            nr = u(field(s, "nr_spis"))
            if nvcpus == 0:
                raise gdb.GdbError("hv-vgic: the vGIC is not set up yet (g_vms[%d].vgic.s_.nvcpus = 0): " % vm +
                                   "continue past setup_vm")
            # VgicState::ctlr holds the group enables; ARE and DS always read as 1.
            nvms = vm_count()
            out = ["VM %d of %d" % (vm, nvms)] if nvms > 1 else []
            out += ["distributor: group enables %#x (EnableGrp0=%d EnableGrp1=%d), %d SPIs (INTID 32-%d), "
                   "%d vCPUs" % (ctlr, ctlr & 1, (ctlr >> 1) & 1, nr, 31 + nr, nvcpus),
                   "INTID enabled pending        active trigger prio group IROUTER      target LR"]
            all_spis = spis(s)
            listed = [i for i in all_spis if show_all or i.interesting()]
            for i in listed:
                route, target = irouter_text(i, nvcpus)
                res = "vCPU%d LR%d" % (i.res_vcpu, i.res_lr) if i.resident else "-"
                out.append("%5d %-7s %-14s %-6s %-7s %#4x G%-4d %-12s %-6s %s" % (
                    i.intid, "yes" if i.enabled else "no",
                    "yes(%s)" % ",".join(i.pending_sources()) if i.pending else "no",
                    "yes" if i.active else "no", "edge" if i.edge else "level", i.priority,
                    1 if i.group1 else 0, route, target, res))
            if not show_all:
                out.append("(%d other SPIs disabled, idle and not resident: `hv-vgic all` lists them)"
                           % (len(all_spis) - len(listed)))
            out.append("private interrupts (redistributors):")
            for v in range(nvcpus):
                priv = private_irqs(s, v)
                out.append("  vCPU%d: enabled %s; pending %s; active %s" % (
                    v, ranges(i.intid for i in priv if i.enabled),
                    " ".join(i.short() for i in priv if i.pending) or "-",
                    ranges(i.intid for i in priv if i.active)))
        gdb.write("\n".join(out) + "\n")


def check_lr_file(lrs):
    """(num, [lr values], hcr) of a vgic::LrFile, with num checked."""
    num = u(field(lrs, "num"))
    regs = elements(field(lrs, "lr"))
    if num > len(regs):
        raise ShapeError("LrFile.num is %d but LrFile.lr has %d entries" % (num, len(regs)))
    return num, [u(x) for x in regs[:num]], u(field(lrs, "hcr"))
