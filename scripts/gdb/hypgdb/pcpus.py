"""hv-pcpus: one line per physical CPU."""
import gdb

from .model import Hyp
from .structs import field, u
from .target import pcpu_threads, physical_memory, pstate_str


def pcpu_state(hyp, p, t):
    """What pCPU p is doing, from its registers and the scheduler's data."""
    v = hyp.loaded(p)
    nrun = u(field(hyp.pcpus[p], "nrun"))
    if t.in_guest:
        if v is None:
            return "guest code, but g_pcpus[%d].vcpu is null" % p
        return "in guest: vCPU %s, PC %#x" % (v, t.regs["pc"])
    if t.regs["TPIDR_EL2"] == 0:
        return "boot: before hyp_cpu_entry, at %s" % t.where
    wfi = t.qemu_state == "halted"
    if not hyp.released:
        return "boot: %s%s" % ("WFI in " if wfi else "", t.where)
    if nrun == 0:
        return "parked: no vCPU placed here; %s%s" % ("WFI in " if wfi else "", t.where)
    if wfi:
        return "idle: WFI in %s, no runnable vCPU" % t.where
    return "hypervisor: %s%s" % (t.where, ", exit of vCPU %s" % v if v is not None else "")


class HvPcpus(gdb.Command):
    """Each pCPU: exception level, loaded vCPU, run queue, what it is doing.

Usage: hv-pcpus

Columns: pCPU index (QEMU's CPU#n, g_pcpus[n]) and its gdb thread; the pCPU's
live PSTATE ($cpsr of that thread: EL1h/EL0t = in the guest, EL2h = in the
hypervisor); the vCPU it has loaded (Pcpu::vcpu: the frame SP_EL2 points at
while in the guest); its run queue (Pcpu::runq); VM 0's vCPU n shows as n,
another VM m's as m:n (hv-vms lists every VM); physical interrupts and
kick SGIs taken; and the state:
  in guest     running vCPU n; PC is the guest's live PC
  hypervisor   at EL2 in the named function (handling an exit of vCPU n)
  idle         WFI in the scheduler: nothing runnable on this pCPU
  parked       no vCPU placed here (single-pCPU mode, pCPUs 1-3)
  boot         before the run loop"""

    def __init__(self):
        super().__init__("hv-pcpus", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError("usage: hv-pcpus")
        threads = pcpu_threads()
        with physical_memory():
            hyp = Hyp()
            vms = "" if hyp.nvms == 1 else " in %d VMs" % hyp.nvms
            lines = ["mode: %s; %d pCPUs, %d vCPUs%s" % (hyp.mode_text(), len(threads), hyp.all_vcpus, vms),
                     "pCPU thread  PSTATE                     loaded  runq        irqs  kicks  state"]
            for t in threads:
                p = t.index
                v = hyp.loaded(p)
                runq = " ".join(str(x) for x in hyp.runq(p)) or "-"
                pc = hyp.pcpus[p]
                lines.append("%4d %6d  %-25s  %-6s  %-8s %6d %6d  %s" % (
                    p, t.thread.num, pstate_str(t.regs["cpsr"]), "-" if v is None else "vCPU%s" % v, runq,
                    u(field(pc, "irqs")), u(field(pc, "kicks_received")), pcpu_state(hyp, p, t)))
        gdb.write("\n".join(lines) + "\n")
