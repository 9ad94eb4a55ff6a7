#!/usr/bin/env python3
"""The machine a boot runs: which VMs, their vCPUs and pCPUs, memory, images,
disks and consoles. Turns make run's variables (MODE, VMS, MEM, KERNEL,
INITRD, APPEND, DISK) or a VM description file (VMCONF) into

  * the machine description the hypervisor reads (hyp/core/machine_desc.h),
    which QEMU's loader puts at MACHINE_DESC_PA, and
  * the QEMU arguments that go with it: -m, a loader for every image, a
    virtio-blk device per disk, a virtio-serial console port per VM but the
    first.

scripts/run-qemu.sh calls it; errors are one line on stderr, exit status 2.

    machine.py --desc OUT [--env-only]        prints QEMU arguments, one per line

VM description file (VMCONF=path), one section per VM, in order:

    # two VMs, each on its own pCPUs
    [vm0]
    vcpus    = 2
    pcpus    = 0 1
    memory   = 512M
    kernel   = build/guest/Image
    initrd   = build/guest/initramfs.cpio.gz
    bootargs = console=ttyAMA0
    disk     = build/disk.img
    [vm1]
    vcpus    = 2
    pcpus    = 2 3

Keys: vcpus (1-4, default 1), pcpus (one pCPU 0-3 per vCPU; default: MODE's
preset), memory (MiB, or with an M/G suffix; default 512M), kernel, initrd
(a path, or none; default: make's KERNEL/INITRD), bootargs (default:
console=ttyAMA0), disk (a raw image, or none; default none), share (yes/no,
default no). A pCPU may carry several vCPUs, of one VM or of several, but
two VMs may only share pCPUs when both say share = yes: by default the
description partitions the machine.
"""
import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

NPCPUS = 4
MAX_VMS = 4
MAX_VCPUS = 4
RAM_BASE = 0x4000_0000
HYP_RESERVED = 64 << 20          # hyp/include/config.h kHypReserved
MACHINE_DESC_PA = 0x4010_0000    # hyp/core/machine_desc.h kMachineDescPa
# The hypervisor maps host RAM below 4 GiB only (mmu.cpp): 3 GiB in all.
HOST_RAM_LIMIT = 0x1_0000_0000 - RAM_BASE
ALIGN = 2 << 20
MIN_VM_MIB = 256                 # the initrd sits 128 MiB into guest RAM
DTB_OFFSET = 0x07e0_0000         # kGuestLayout.dtb_offset: the kernel must end below it
CONSOLE_PORT_BASE = 5550         # VM n's console: TCP port CONSOLE_PORT_BASE + n

KEYS = ("vcpus", "pcpus", "memory", "kernel", "initrd", "bootargs", "disk", "share")


class ConfigError(Exception):
    pass


def align_up(v, a):
    return (v + a - 1) // a * a


def parse_mib(text):
    m = re.fullmatch(r"\s*(\d+)\s*([MG]?)\s*", text)
    if not m:
        return None
    n = int(m.group(1))
    return n * 1024 if m.group(2) == "G" else n


class Vm:
    def __init__(self, index, line):
        self.index = index
        self.line = line          # where it was defined (VMCONF line), for errors
        self.lines = {}           # key -> line number
        self.vcpus = 1
        self.pcpus = None
        self.memory = 512
        self.kernel = None
        self.initrd = None
        self.bootargs = "console=ttyAMA0"
        self.disk = None
        self.share = False


def read_vmconf(path, defaults):
    """Parses a VM description file into a list of Vm."""
    if not os.path.isfile(path):
        raise ConfigError("VMCONF=%s: no such file; give the path of a VM description "
                          "(docs/multi-vm.md has the format)" % path)
    vms = []
    where = os.path.relpath(path) if not os.path.isabs(path) else path

    def err(lineno, msg):
        return ConfigError("%s:%d: %s" % (where, lineno, msg))

    with open(path) as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("bootargs") else raw.strip()
            if not line or line.startswith("#"):
                continue
            m = re.fullmatch(r"\[\s*vm(\d+)\s*\]", line)
            if m:
                n = int(m.group(1))
                if n != len(vms):
                    raise err(lineno, "section [vm%d] out of order: name the sections [vm0], [vm1], ... in order"
                              % n)
                if n >= MAX_VMS:
                    raise err(lineno, "too many VMs: at most %d" % MAX_VMS)
                vm = Vm(n, lineno)
                vm.memory = defaults["memory"]
                vm.kernel = defaults["kernel"]
                vm.initrd = defaults["initrd"]
                vms.append(vm)
                continue
            if line.startswith("["):
                raise err(lineno, "bad section %r: sections are [vm0], [vm1], ..." % line)
            m = re.fullmatch(r"([A-Za-z_]\w*)\s*=\s*(.*)", line)
            if not m:
                raise err(lineno, "expected 'key = value' or a [vmN] section, got %r" % line)
            if not vms:
                raise err(lineno, "'%s' before the first [vm0] section" % m.group(1))
            key, value = m.group(1), m.group(2).strip()
            vm = vms[-1]
            if key not in KEYS:
                raise err(lineno, "unknown key '%s': the keys are %s" % (key, ", ".join(KEYS)))
            if key in vm.lines:
                raise err(lineno, "'%s' given twice for vm%d (first on line %d)" % (key, vm.index, vm.lines[key]))
            vm.lines[key] = lineno
            if key == "vcpus":
                if not re.fullmatch(r"\d+", value) or not 1 <= int(value) <= MAX_VCPUS:
                    raise err(lineno, "vcpus = %s: give 1 to %d" % (value, MAX_VCPUS))
                vm.vcpus = int(value)
            elif key == "pcpus":
                items = [x for x in re.split(r"[\s,]+", value) if x]
                if not items or not all(re.fullmatch(r"\d+", x) and int(x) < NPCPUS for x in items):
                    raise err(lineno, "pcpus = %s: give one pCPU (0-%d) per vCPU, e.g. pcpus = 0 1"
                              % (value, NPCPUS - 1))
                vm.pcpus = [int(x) for x in items]
            elif key == "memory":
                mib = parse_mib(value)
                if mib is None:
                    raise err(lineno, "memory = %s: give MiB, e.g. memory = 512M or 1G" % value)
                vm.memory = mib
            elif key in ("kernel", "initrd", "disk"):
                setattr(vm, key, None if value == "none" and key != "kernel" else value)
            elif key == "bootargs":
                vm.bootargs = value
            elif key == "share":
                if value not in ("yes", "no"):
                    raise err(lineno, "share = %s: give yes or no" % value)
                vm.share = value == "yes"
    if not vms:
        raise ConfigError("%s: no VM: add a [vm0] section" % where)
    return vms


def preset(mode, vms):
    """MODE's placement for the VMs that give no pcpus: multi deals their
    vCPUs out over the pCPUs in order, single puts them all on pCPU 0."""
    nxt = 0
    for vm in vms:
        if vm.pcpus is None:
            if mode == "single":
                vm.pcpus = [0] * vm.vcpus
                vm.share = True
            else:
                vm.pcpus = [(nxt + i) % NPCPUS for i in range(vm.vcpus)]
                nxt += vm.vcpus
                if nxt > NPCPUS:
                    vm.share = True


def check(vms, from_file):
    def where(vm, key):
        ln = vm.lines.get(key, vm.line)
        return "%s:%d: " % (from_file, ln) if from_file else ""

    total_vcpus = 0
    for vm in vms:
        if len(vm.pcpus) != vm.vcpus:
            raise ConfigError("%svm%d has %d vCPUs but pcpus names %d: give one pCPU per vCPU"
                              % (where(vm, "pcpus"), vm.index, vm.vcpus, len(vm.pcpus)))
        if vm.memory < MIN_VM_MIB:
            raise ConfigError("%svm%d memory = %dM: a VM needs at least %d MiB (its initrd sits 128 MiB in)"
                              % (where(vm, "memory"), vm.index, vm.memory, MIN_VM_MIB))
        for key in ("kernel", "initrd", "disk"):
            path = getattr(vm, key)
            if path is not None and not os.path.isfile(path):
                hint = "run 'make' (or fix the path)" if key != "disk" else \
                    "create it (truncate -s 64M %s) or use none" % path
                raise ConfigError("%svm%d %s %s: no such file: %s" % (where(vm, key), vm.index, key, path, hint))
        if os.path.getsize(vm.kernel) == 0:
            raise ConfigError("%svm%d kernel %s is empty (0 bytes): give an arm64 Image (KERNEL= or kernel =)"
                              % (where(vm, "kernel"), vm.index, vm.kernel))
        if os.path.getsize(vm.kernel) >= DTB_OFFSET:
            raise ConfigError("%svm%d kernel %s is too large (%d bytes): at most %d"
                              % (where(vm, "kernel"), vm.index, vm.kernel, os.path.getsize(vm.kernel), DTB_OFFSET))
        total_vcpus += vm.vcpus
    for a in vms:
        for b in vms[a.index + 1:]:
            common = sorted(set(a.pcpus) & set(b.pcpus))
            if common and not (a.share and b.share):
                raise ConfigError("%svm%d's pCPUs %s are also vm%d's: give each VM its own pCPUs, or set "
                                  "share = yes in both" % (where(b, "pcpus"), b.index,
                                                           " ".join(map(str, common)), a.index))
            if a.disk and b.disk and os.path.realpath(a.disk) == os.path.realpath(b.disk):
                raise ConfigError("%svm%d and vm%d use the same disk %s: give each VM its own image"
                                  % (where(b, "disk"), a.index, b.index, b.disk))


def layout(vms, vmconf=None):
    """Host memory: the hypervisor's reserve, then every pristine image, then
    every VM's RAM. Returns the QEMU -m size in MiB."""
    where = ""
    if vmconf:
        lines = ["%d" % vm.lines["memory"] for vm in vms if "memory" in vm.lines]
        where = "%s:%s: " % (vmconf, ",".join(lines) or "%d" % vms[-1].line)
    pa = RAM_BASE + HYP_RESERVED
    for vm in vms:
        vm.kernel_pa, vm.kernel_size = pa, os.path.getsize(vm.kernel)
        pa = align_up(pa + vm.kernel_size, ALIGN)
        if vm.initrd:
            vm.initrd_pa, vm.initrd_size = pa, os.path.getsize(vm.initrd)
            if vm.initrd_size + (128 << 20) > vm.memory << 20:
                raise ConfigError("%svm%d: its initrd (%d bytes) does not fit in %d MiB of RAM above 128 MiB: "
                                  "raise its memory" % (where, vm.index, vm.initrd_size, vm.memory))
            pa = align_up(pa + vm.initrd_size, ALIGN)
        else:
            vm.initrd_pa, vm.initrd_size = 0, 0
    for vm in vms:
        vm.ram_pa = pa
        pa += vm.memory << 20
    total = pa - RAM_BASE
    if total > HOST_RAM_LIMIT:
        raise ConfigError("%sthe VMs need %d MiB of host memory (%s MiB of RAM, %d MiB of images, %d MiB for the "
                          "hypervisor) but the machine has %d MiB (host RAM must end below 4 GiB): lower "
                          "MEM= or the VMs' memory" % (where, total >> 20, "+".join(str(v.memory) for v in vms),
                                                         (vms[0].ram_pa - RAM_BASE - HYP_RESERVED) >> 20,
                                                         HYP_RESERVED >> 20, HOST_RAM_LIMIT >> 20))
    return total >> 20


def description(vms):
    out = ["hyp-machine 1", "# written by scripts/machine.py"]
    for vm in vms:
        out += ["vm %d" % vm.index,
                "vcpus %d" % vm.vcpus,
                "pcpus %s" % " ".join(map(str, vm.pcpus)),
                "ram %#x %#x" % (vm.ram_pa, vm.memory << 20),
                "kernel %#x %d" % (vm.kernel_pa, vm.kernel_size),
                "initrd %#x %d" % (vm.initrd_pa, vm.initrd_size),
                "disk %s" % ("vm%d" % vm.index if vm.disk else "none"),
                "console %s" % ("uart" if vm.index == 0 else "port"),
                "bootargs %s" % vm.bootargs,
                "end"]
    return "\n".join(out) + "\n"


def qemu_args(vms, mem_mib, desc_path):
    args = ["-m", "%dM" % mem_mib,
            "-device", "loader,file=%s,addr=%#x,force-raw=on" % (desc_path, MACHINE_DESC_PA)]
    for vm in vms:
        args += ["-device", "loader,file=%s,addr=%#x,force-raw=on" % (vm.kernel, vm.kernel_pa)]
        if vm.initrd:
            args += ["-device", "loader,file=%s,addr=%#x,force-raw=on" % (vm.initrd, vm.initrd_pa)]
    for vm in vms:
        if vm.disk:
            args += ["-drive", "file=%s,if=none,format=raw,cache=writeback,id=disk%d"
                     % (vm.disk.replace(",", ",,"), vm.index),
                     "-device", "virtio-blk-device,drive=disk%d,serial=vm%d" % (vm.index, vm.index)]
    for vm in vms[1:]:
        port = CONSOLE_PORT_BASE + vm.index
        # Each port on its own device's bus (bus=): without it QEMU puts a
        # port on the first virtio-serial bus with room, where port 1 is taken.
        args += ["-device", "virtio-serial-device,max_ports=2,id=vmcon%d" % vm.index,
                 "-chardev", "socket,id=con%d,host=127.0.0.1,port=%d,server=on,wait=off" % (vm.index, port),
                 "-device", "virtserialport,bus=vmcon%d.0,chardev=con%d,nr=1,name=hyp.vm%d"
                 % (vm.index, vm.index, vm.index)]
    return args


def machine_from_env(env):
    """The VMs make run's variables ask for."""
    mode = env.get("MODE", "multi")
    defaults = {"kernel": env["KERNEL"], "initrd": env.get("INITRD") or None}
    vmconf = env.get("VMCONF", "")
    if vmconf:
        defaults["memory"] = parse_mib(env["MEM"]) if env.get("MEM") else 512
        vms = read_vmconf(vmconf, defaults)
        preset(mode, vms)
        check(vms, vmconf)
        return vms
    nvms = env.get("VMS", "1") or "1"
    if not re.fullmatch(r"[1-4]", nvms):
        raise ConfigError("VMS=%s: give 1 to %d VMs (or VMCONF=file for full control)" % (nvms, MAX_VMS))
    nvms = int(nvms)
    mem = env.get("MEM", "")
    mib = parse_mib(mem) if mem else (1024 if nvms == 1 else 512)
    if mib is None:
        raise ConfigError("MEM=%s is not a size: use MiB (MEM=1024) or a suffix (MEM=512M, MEM=2G)" % mem)
    vms = []
    for i in range(nvms):
        vm = Vm(i, 0)
        vm.vcpus = max(1, MAX_VCPUS // nvms)
        vm.memory = mib
        vm.kernel = defaults["kernel"]
        vm.initrd = defaults["initrd"]
        vm.bootargs = env.get("APPEND", "console=ttyAMA0")
        vm.disk = env.get("DISK") if i == 0 and env.get("DISK", "none") not in ("", "none") else None
        vms.append(vm)
    preset(mode, vms)
    check(vms, None)
    return vms


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--desc", required=True, help="where to write the machine description")
    args = ap.parse_args()
    try:
        vms = machine_from_env(os.environ)
        mem = layout(vms, os.environ.get("VMCONF") or None)
    except ConfigError as e:
        print("machine: %s" % e, file=sys.stderr)
        return 2
    with open(args.desc, "w") as f:
        f.write(description(vms))
    for a in qemu_args(vms, mem, args.desc):
        print(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
