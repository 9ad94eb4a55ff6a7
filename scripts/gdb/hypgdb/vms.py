"""hv-vms: one block per VM: its vCPUs and their pCPUs, RAM, life-cycle
state, console, and whether the guest debugger holds it."""
import gdb

from .structs import ShapeError, boolean, cstring, elements, enum_names, field, path, u, value
from .target import physical_memory

VM_STATES = ("Running", "Stopping", "Resetting", "Stopped")  # VmState, vm/lifecycle.h
RUN_STATES = ("Off", "Runnable", "Blocked")                  # RunState, vm/vcpu.h


def debugger_state(m):
    """The guest gdb stub's hold on VM m (hyp/arch/aarch64/debug.cpp), as text."""
    try:
        ctl = value("'(anonymous namespace)::g_ctl'")
    except ShapeError:
        return "?"
    attached = boolean(field(ctl, "attached"))
    h = elements(field(ctl, "vm"))[m]
    state = u(field(h, "state"))
    if state & 1:
        what = "stopped by gdb (stop %d, thread %d)" % (state >> 1, u(path(h, "event.thread")) + 1)
    elif attached:
        what = "running, gdb attached"
    else:
        what = "running"
    return what


def vm_lines(m, vm, pcpus):
    life_names = enum_names("VmState", VM_STATES)
    run_names = enum_names("RunState", RUN_STATES)
    n = u(field(vm, "nvcpus"))
    vcpus = elements(field(vm, "vcpus"), n)
    placed = [u(field(v, "pcpu")) for v in vcpus]
    ram_ipa, ram_pa, size = u(field(vm, "ram_ipa")), u(field(vm, "ram_pa")), u(field(vm, "ram_size"))
    life = life_names.get(u(field(vm, "life")), "?")
    resets = u(field(vm, "resets"))
    console = "port 127.0.0.1:%d (hyp.vm%d)" % (5550 + m, m) if boolean(field(vm, "console_port")) else "uart (stdio)"
    lines = ["VM %d: %d vCPU%s on pCPUs %s; RAM IPA %#x-%#x (%d MiB) -> PA %#x; %s%s; console %s; debugger: %s"
             % (m, n, "" if n == 1 else "s", " ".join(str(p) for p in placed), ram_ipa, ram_ipa + size,
                size >> 20, ram_pa, life, ", %d resets" % resets if resets else "", console, debugger_state(m)),
             "  bootargs: %s" % cstring(field(vm, "cmdline"))]
    base = u(field(vm, "vcpus").address)
    step = vcpus[0].type.sizeof if n else 1
    for i, v in enumerate(vcpus):
        me = base + i * step
        loaded = [p for p, pc in enumerate(pcpus) if u(field(pc, "vcpu")) == me]
        lines.append("  vCPU %d: pCPU %d, %s%s%s, PC %#x" % (
            i, placed[i], run_names.get(u(field(v, "state")), "?"),
            ", held by the debugger" if boolean(field(v, "held")) else "",
            ", loaded" if loaded else ", not loaded", u(path(v, "regs.elr"))))
    return lines


class HvVms(gdb.Command):
    """Each VM: vCPUs and the pCPUs they are placed on, RAM, state, console, debugger hold.

Usage: hv-vms

Per VM (g_vms[0..g_nvms-1]): its vCPUs and their pCPUs (Vcpu::pcpu), its
RAM as the guest sees it (IPA) and where it is in host memory (PA), its
life-cycle state (VmState: Running, Stopping for SYSTEM_OFF, Resetting for
SYSTEM_RESET, Stopped) with the resets so far, where its console is, and
whether the guest gdb stub (make run GDB=1) has it stopped. Then a line per
vCPU: scheduler state (RunState), held by the debugger (a stopped VM's
vCPUs, or one gdb left stopped), loaded on its pCPU or not, and the PC of its
register frame (its last exit; hv-vcpus says which PC is live)."""

    def __init__(self):
        super().__init__("hv-vms", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        if arg.strip():
            raise gdb.GdbError("usage: hv-vms")
        with physical_memory():
            nvms = u(value("g_nvms"))
            if nvms == 0:
                raise gdb.GdbError("hv-vms: no VMs yet (g_nvms = 0): continue past the machine set-up")
            # One VM at a time: the whole array is larger than gdb's max-value-size.
            cap = value("sizeof(g_vms) / sizeof(g_vms[0])")
            if nvms > u(cap):
                raise ShapeError("g_nvms is %d but g_vms has %d elements" % (nvms, u(cap)))
            vms = [value("g_vms[%d]" % m) for m in range(nvms)]
            pcpus = elements(value("g_pcpus"))
            lines = ["%d VM%s" % (nvms, "" if nvms == 1 else "s")]
            for m in range(nvms):
                lines += vm_lines(m, vms[m], pcpus)
        gdb.write("\n".join(lines) + "\n")
