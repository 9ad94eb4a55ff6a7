#!/usr/bin/env python3
"""The machine a boot asks for, before anything boots: scripts/machine.py
(through run-qemu.sh, as make run calls it) turns MODE/VMS/MEM or a VMCONF
file into the hypervisor's machine description and QEMU's arguments, and
refuses a bad VM description with one line that names the line and the fix.
No QEMU runs here: every case either fails first or is only laid out.

    tests/system/test_machine.py --build build
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checks import Checks  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MACHINE = os.path.join(ROOT, "scripts", "machine.py")
RUN_QEMU = os.path.join(ROOT, "scripts", "run-qemu.sh")


def machine(build, **env):
    """(status, stderr, description, QEMU args) of machine.py for make run's variables."""
    e = dict(os.environ, KERNEL=os.path.join(build, "guest", "Image"),
             INITRD=os.path.join(build, "guest", "initramfs.cpio.gz"), MODE="multi", MEM="", APPEND="console=ttyAMA0",
             DISK="none", VMS="", VMCONF="")
    e.update(env)
    with tempfile.NamedTemporaryFile("r", suffix=".desc") as desc:
        p = subprocess.run([sys.executable, MACHINE, "--desc", desc.name], env=e, capture_output=True, text=True)
        return p.returncode, p.stderr, desc.read(), p.stdout.splitlines()


def vms_of(desc):
    """{vm index: {key: value}} of a machine description."""
    out, cur = {}, None
    for line in desc.splitlines():
        w = line.split(None, 1)
        if not w or w[0].startswith("#"):
            continue
        if w[0] == "vm":
            cur = out.setdefault(int(w[1]), {})
        elif cur is not None and w[0] != "end":
            cur[w[0]] = w[1] if len(w) > 1 else ""
    return out


def vmconf(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    f.write(text)
    f.close()
    return f.name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    image = os.path.join(build, "guest", "Image")
    t = Checks("machine")

    # make run with nothing new: one VM of 4 vCPUs, vCPU n on pCPU n.
    rc, err, desc, qemu = machine(build)
    vms = vms_of(desc)
    t.check("the default is one VM, 4 vCPUs on pCPUs 0-3, 1024 MiB",
            rc == 0 and list(vms) == [0] and vms[0]["pcpus"] == "0 1 2 3" and vms[0]["ram"].endswith("0x40000000"),
            desc + err)
    t.check("QEMU gets the description, the kernel and the initrd through its loader",
            sum("loader,file=" in a for a in qemu) == 3 and "-m" in qemu, " ".join(qemu))

    rc, err, desc, qemu = machine(build, VMS="2")
    vms = vms_of(desc)
    t.check("VMS=2 (multi): two VMs of 2 vCPUs, VM0 on pCPUs 0-1, VM1 on 2-3",
            rc == 0 and [vms[0]["pcpus"], vms[1]["pcpus"]] == ["0 1", "2 3"], desc + err)
    t.check("VMS=2: each VM 512 MiB of its own RAM, no overlap",
            all(v["ram"].split()[1] == "0x20000000" for v in vms.values())
            and vms[0]["ram"].split()[0] != vms[1]["ram"].split()[0], desc)
    t.check("VMS=2: VM1's console is a port (TCP 5551)",
            vms[1]["console"] == "port" and any("port=5551" in a for a in qemu), " ".join(qemu))
    # QEMU puts a port without bus= on the first virtio-serial bus with
    # room, where port 1 is already taken once there are two such devices.
    rc, err, desc, qemu = machine(build, VMS="4", MEM="256")
    devices = re.findall(r"^virtio-serial-device,.*\bid=([\w-]+)", "\n".join(qemu), re.M)
    buses = re.findall(r"^virtserialport,.*\bbus=([\w-]+)\.0\b", "\n".join(qemu), re.M)
    t.check("VMS=4: each console port sits on its own virtio-serial device's bus",
            rc == 0 and len(buses) == 3 and sorted(buses) == sorted(devices) and len(set(buses)) == 3,
            " ".join(qemu) + err)
    rc, err, desc, _ = machine(build, VMS="2", MODE="single")
    vms = vms_of(desc)
    t.check("VMS=2 MODE=single: every vCPU on pCPU 0",
            rc == 0 and [vms[0]["pcpus"], vms[1]["pcpus"]] == ["0 0", "0 0"], desc + err)
    # A disk of its own: on a fresh clone no boot has made build/disk.img yet.
    disk_dir = tempfile.TemporaryDirectory()
    disk = os.path.join(disk_dir.name, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(64 << 20)
    rc, err, desc, _ = machine(build, DISK=disk)
    t.check("DISK= is VM 0's disk, found by its serial", rc == 0 and vms_of(desc)[0]["disk"] == "vm0", desc + err)

    good = vmconf("""# two VMs sharing pCPU 1 on purpose
[vm0]
vcpus = 2
pcpus = 0 1
memory = 768M
share = yes
bootargs = console=ttyAMA0 quiet # not a comment: the rest of the line
[vm1]
vcpus = 3
pcpus = 1, 2, 3
memory = 1G
initrd = none
share = yes
""")
    rc, err, desc, _ = machine(build, VMCONF=good)
    vms = vms_of(desc)
    t.check("a VMCONF file gives each VM its vCPUs, pCPUs, memory, initrd and bootargs",
            rc == 0 and vms[0]["pcpus"] == "0 1" and vms[1]["pcpus"] == "1 2 3"
            and vms[0]["ram"].split()[1] == "0x30000000" and vms[1]["ram"].split()[1] == "0x40000000"
            and vms[1]["initrd"] == "0x0 0" and vms[0]["bootargs"] == "console=ttyAMA0 quiet # not a comment: the rest of the line",
            desc + err)

    # Every mistake fails before anything boots, with one line naming the
    # line of the file and the fix; run-qemu.sh (make run) passes it on.
    bad = [
        ("an unknown key", "[vm0]\nvcpus = 2\ncolour = red\n", r":3: unknown key 'colour': the keys are"),
        ("pCPU lists that overlap without share = yes", "[vm0]\nvcpus = 2\npcpus = 0 1\n[vm1]\nvcpus = 2\npcpus = 1 2\n",
         r":6: vm1's pCPUs 1 are also vm0's: give each VM its own pCPUs, or set share = yes in both"),
        ("a missing kernel", "[vm0]\nkernel = /nonexistent/Image\n",
         r":2: vm0 kernel /nonexistent/Image: no such file: run 'make'"),
        ("more memory than the machine has", "[vm0]\nmemory = 2G\n[vm1]\nmemory = 2G\n",
         r"the VMs need \d+ MiB of host memory .* but the machine has 3072 MiB .* lower"),
        ("pcpus that do not match vcpus", "[vm0]\nvcpus = 2\npcpus = 0\n", r":3: vm0 has 2 vCPUs but pcpus names 1"),
        ("a pCPU that does not exist", "[vm0]\npcpus = 4\n", r":2: pcpus = 4: give one pCPU \(0-3\)"),
        ("sections out of order", "[vm1]\n", r":1: section \[vm1\] out of order"),
        ("too little memory", "[vm0]\nmemory = 64M\n", r":2: vm0 memory = 64M: a VM needs at least 256 MiB"),
        ("two VMs on one disk", "[vm0]\ndisk = %s\n[vm1]\ndisk = %s\n" % ((disk,) * 2),
         r"vm0 and vm1 use the same disk"),
    ]
    for what, text, want in bad:
        path = vmconf(text)
        env = dict(os.environ, HYP=os.path.join(build, "hyp.elf"), KERNEL=image,
                   INITRD=os.path.join(build, "guest", "initramfs.cpio.gz"), VMCONF=path)
        p = subprocess.run([RUN_QEMU], env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        t.check("VMCONF with %s: one-line error before boot" % what,
                p.returncode == 2 and len(lines) == 1 and re.search(want, lines[0]) is not None
                and lines[0].startswith("machine: " + path),
                "status %d, stderr %r" % (p.returncode, p.stderr))
        os.unlink(path)
    rc, err, _, _ = machine(build, VMCONF="/nonexistent.conf")
    t.check("a VMCONF that does not exist is named", rc == 2 and "VMCONF=/nonexistent.conf: no such file" in err, err)
    rc, err, _, _ = machine(build, VMS="5")
    t.check("VMS=5 is refused", rc == 2 and "VMS=5: give 1 to 4 VMs" in err, err)
    os.unlink(good)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main())
