"""gdb helpers for the hypervisor, loaded by scripts/gdb/hyp.py."""
import gdb


def register():
    from . import console, log, pcpus, target, vcpus, vgic, vms
    gdb.execute("set pagination off")
    pcpus.HvPcpus()
    vcpus.HvVcpus()
    vms.HvVms()
    vgic.HvVgic()
    log.HvLog()
    target.HvMemory()
    console.HvContinueUntil()
    console.start_bridge()
