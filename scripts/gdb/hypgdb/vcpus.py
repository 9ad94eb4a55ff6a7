"""hv-vcpus: each vCPU's state, and where each value comes from."""
import gdb

from .args import optional_int, split_vm
from .model import Hyp, check_vm
from .structs import elements, field, path, u
from .target import pcpu_threads, physical_memory, pstate_str
from .vgic import check_lr_file, decode_lr, private_irqs, spis, vgic_state


def pc_lines(hyp, v, threads):
    """PC/PSTATE of vCPU v, from the one place that holds its current value."""
    regs = field(hyp.vcpus[v], "regs")
    elr, spsr = u(field(regs, "elr")), u(field(regs, "spsr"))
    p = hyp.loaded_on(v)
    t = threads.get(p)
    if t is not None and t.in_guest:
        lines = ["  PC %#018x  PSTATE %s   [live: $pc/$cpsr of thread %d, pCPU %d is in the guest]"
                 % (t.regs["pc"], pstate_str(t.regs["cpsr"]), t.thread.num, p),
                 "     frame at its last exit: ELR %#x SPSR %#x" % (elr, spsr)]
    elif t is not None:
        lines = ["  PC %#018x  PSTATE %s   [frame: saved at its last exit; pCPU %d is in the hypervisor]"
                 % (elr, pstate_str(spsr), p)]
        if (t.regs["ELR_EL2"], t.regs["SPSR_EL2"]) != (elr, spsr):
            # The handler advanced the PC (or changed PSTATE) in the frame;
            # guest_enter will ERET to the frame's values.
            lines.append("     ELR_EL2 %#x SPSR_EL2 %#x on pCPU %d (the exit as taken; the frame is what "
                         "guest_enter resumes)" % (t.regs["ELR_EL2"], t.regs["SPSR_EL2"], p))
    else:
        lines = ["  PC %#018x  PSTATE %s   [frame: saved at its last exit; not loaded on any pCPU]"
                 % (elr, pstate_str(spsr))]
    return lines


def irq_lines(s, v, nvcpus):
    priv = private_irqs(s, v)
    mine = [i for i in spis(s) if (i.resident and i.res_vcpu == v) or (not i.resident and i.target == v)]
    every = priv + mine
    pending = [i.short() for i in every if i.pending]
    active = [str(i.intid) for i in every if i.active]
    resident = ["%d@LR%d" % (i.intid, i.res_lr) for i in every if i.resident and i.res_vcpu == v]
    return ["  virtual IRQs (vGIC model): pending %s; active %s; in LRs %s" % (
        " ".join(pending) or "-", " ".join(active) or "-", " ".join(resident) or "-")]


def lr_lines(hyp, v, threads):
    num, lrs, hcr = check_lr_file(field(hyp.vcpus[v], "lrs"))
    p = hyp.loaded_on(v)
    if p in threads and threads[p].in_guest:
        when = "as written at its last entry; the live ICH_LR<n>_EL2 are not visible through QEMU's stub"
    else:
        when = "saved at its last exit, or as flushed for its next entry"
    lines = ["  LRs (Vcpu::lrs, %s): ICH_HCR %#x" % (when, hcr)]
    for n, lr in enumerate(lrs):
        lines.append("     LR%d %#018x %s" % (n, lr, decode_lr(lr)))
    return lines


def stats_lines(hyp, v):
    st = field(hyp.vcpus[v], "stats")
    names = hyp.mmio_ranges()
    parts = []
    for f in st.type.strip_typedefs().fields():
        x = st[f.name]
        if x.type.strip_typedefs().code == gdb.TYPE_CODE_ARRAY:
            if f.name == "mmio":
                vals = elements(x, len(names))
                parts.append("mmio[%s]" % " ".join("%s=%d" % (nm, u(c)) for nm, c in zip(names, vals)))
            else:
                parts.append("%s=[%s]" % (f.name, " ".join(str(u(c)) for c in elements(x))))
        else:
            parts.append("%s=%d" % (f.name, u(x)))
    vs = elements(path(hyp.vm, "vgic.s_.vcpu"), v + 1)[v]
    parts.append("sgi_sent=%d sgi_received=%d" % (u(field(vs, "sgi_sent")), u(field(vs, "sgi_received"))))
    # Two lines of about 100 columns.
    half = (len(parts) + 1) // 2
    return ["  stats: " + " ".join(parts[:half]), "         " + " ".join(parts[half:])]


def vcpu_block(hyp, v, threads, s):
    run = hyp.run_state(v)
    psci, entry, ctx = hyp.psci(v)
    home = hyp.home(v)
    loaded = hyp.loaded_on(v)
    head = "vCPU %d: MPIDR %#x  sched %s  PSCI %s" % (v, u(field(hyp.vcpus[v], "mpidr")), run, psci)
    if psci in ("OnPending", "Claiming"):
        head += " (CPU_ON entry %#x context %#x)" % (entry, ctx)
    head += "  home pCPU %s" % ("-" if home is None else home)
    if loaded is not None:
        head += ", loaded on pCPU %d" % loaded
    elif run != "Off":
        head += ", descheduled (last ran on pCPU %d)" % u(field(hyp.vcpus[v], "pcpu"))
    lines = [head]
    if run == "Off" and psci in ("OnPending", "Claiming"):
        lines.append("  starting: CPU_ON accepted; its pCPU resets it to the entry point in its next schedule()")
    elif run == "Off":
        lines.append("  powered off: it has no PC until a PSCI CPU_ON starts it")
    else:
        lines += pc_lines(hyp, v, threads)
    lines += lr_lines(hyp, v, threads)
    lines += irq_lines(s, v, hyp.nvcpus)
    lines += stats_lines(hyp, v)
    return lines


class HvVcpus(gdb.Command):
    """Each vCPU: scheduler and PSCI state, PC and PSTATE, list registers, pending and active virtual interrupts, exit counts.

Usage: hv-vcpus [N] [vm=M]     (N: only vCPU N; M: that VM's vCPUs, VM 0's without it)

Every value says where it comes from. For a vCPU loaded on a pCPU that is
running the guest, PC/PSTATE are live: the $pc/$cpsr of that pCPU's gdb
thread (the frame then holds its last exit). Otherwise they come from the
vCPU's register frame (Vcpu::regs, saved by the exit vector): for a vCPU
whose pCPU is in the hypervisor, that is the exit being handled, and ELR_EL2
is shown too if the handler has moved the PC since. List registers are
Vcpu::lrs, the copy the hypervisor keeps: QEMU's stub does not expose
ICH_LR<n>_EL2, so a running vCPU's live LRs cannot be read. Pending/active
interrupts come from the vGIC model (vgic::IrqState): the vCPU's SGIs/PPIs
and the SPIs routed to or resident on it; "latch"/"line"/"lr" say where the
pending state is (see hv-vgic). Exit counts are Vcpu::stats."""

    def __init__(self):
        super().__init__("hv-vcpus", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        usage = "hv-vcpus [N] [vm=M]"
        vm, rest = split_vm(arg, usage)
        n = optional_int(rest, usage)
        threads = {t.index: t for t in pcpu_threads()}
        with physical_memory():
            check_vm(vm, "hv-vcpus")
            hyp = Hyp(vm)
            if hyp.nvcpus == 0:
                raise gdb.GdbError("hv-vcpus: no vCPUs yet (g_vms[%d].nvcpus = 0): continue past setup_vm" % vm)
            which = range(hyp.nvcpus)
            if n is not None:
                if not 0 <= n < hyp.nvcpus:
                    raise gdb.GdbError("hv-vcpus: VM %d has no vCPU %d (it has %d)" % (vm, n, hyp.nvcpus))
                which = [n]
            s = vgic_state(vm)
            lines = ["%d vCPUs, mode %s" % (hyp.nvcpus, hyp.mode_text())]
            if hyp.nvms > 1:
                # Other VMs' vCPUs appear as m:n where a pCPU has them.
                lines[0] = "VM %d of %d: " % (vm, hyp.nvms) + lines[0]
            for v in which:
                lines += vcpu_block(hyp, v, threads, s)
        gdb.write("\n".join(lines) + "\n")
