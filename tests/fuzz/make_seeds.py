#!/usr/bin/env python3
"""Writes the seed corpora tests/fuzz/corpus/<target>/ (committed). Each
seed is a program in the target's input format (see the target's .cpp):
the encoders below mirror fuzz::Input (little-endian fields, below(n) as one
byte when n <= 256) and the order in which each target reads its fields.
Seeds walk the paths a fuzzer finds slowly: a full Linux-like bring-up, a
booted gdb session, QEMU's real DTB.

  tests/fuzz/make_seeds.py      (re)writes every corpus directory
"""
import os
import shutil
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
QEMU_DTB = os.path.join(ROOT, "tests", "unit", "data", "qemu-virt-gicv3-smp4.dtb")


def u8(v): return struct.pack("<B", v & 0xff)
def u16(v): return struct.pack("<H", v & 0xffff)
def u32(v): return struct.pack("<I", v & 0xffffffff)
def u64(v): return struct.pack("<Q", v & 0xffffffffffffffff)


def below(n, v):
    """fuzz::Input::below(n) returning v."""
    return u8(v) if n <= 256 else u32(v)


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- fdt_host / fdt_guest -------------------------------------------------------

def fdt_seeds():
    dtb = open(QEMU_DTB, "rb").read()
    write("fdt_host", "qemu-virt", dtb)

    def addr_hi16(v): return below(3, 0) + u16(v >> 16)
    def addr32(v): return below(3, 1) + u32(v)
    for name, nv, virtio, args in (("qemu-virt-4cpu", 4, True, b"console=ttyAMA0 earlycon"),
                                   ("qemu-virt-1cpu-nodisk", 1, False, b"")):
        cfg = addr32(0x40000000) + addr32(0x40000000) + below(6, nv)
        for i in range(5):
            cfg += u8(1) + u8(i)  # flag, then the MPIDR as one byte
        cfg += below(16, 1)  # vcpu_mpidr present
        cfg += addr_hi16(0x08000000) + u32(0x10000) + addr_hi16(0x080a0000) + u32(0x80000)
        cfg += addr_hi16(0x09000000) + addr32(0x48000000) + u8(1) + u32(0x100000)
        cfg += u8(len(args)) + args + below(8, 1)
        if virtio:
            cfg += u8(1) + addr_hi16(0x0a000000) + u16(0x200) + below(4, 1) + below(988, 16)
        else:
            cfg += u8(0)
        cfg += below(4, 1) + u16(0x8000)
        write("fdt_guest", name, cfg + dtb)


# ---- mmio ------------------------------------------------------------------------

def mmio_seeds():
    # Three ranges (result, fill, base as u16, size as u16), then loads and
    # stores of each width at their edges.
    def rng(base, size):
        return u8(1) + u64(0x1122334455667788) + below(4, 0) + u16(base) + u8(1) + u16(size)
    prog = below(20, 3) + rng(0x1000, 0x100) + rng(0x2000, 0x1000) + rng(0x1100, 0x10)
    for sas, wnr, sse, delta, edge in ((2, 0, 0, 0, 1), (3, 1, 0, 8, 0), (0, 0, 1, 1, 0), (1, 0, 1, 2, 1)):
        esr = (0x24 << 26) | (1 << 25) | (sas << 22) | (sse << 21) | (3 << 16) | (1 << 15) | (wnr << 6)
        prog += u32(esr) + u8(0) + below(8, 1) + below(4, 1) + below(3, 0) + u8(delta) + u8(edge)
        prog += below(4, 1) + u64(0xfedcba9876543210)
    write("mmio", "three-ranges", prog)


# ---- psci ------------------------------------------------------------------------

FIDS = {"version": 0, "cpu_off": 3, "cpu_on64": 5, "affinity64": 7, "features": 15, "reset": 14}


def psci_call(caller, fid, target=0, entry_ok=True, x3=0):
    b = below(4, 0) + below(4, caller) + below(4, 1) + below(20, FIDS[fid]) + below(4, 1) + below(2, 0)
    b += below(3, 0) + below(4, target)
    b += (below(4, 1) + u32(0x1000 + 0x800)) if entry_ok else (below(4, 0) + u64(0x10))
    return b + u64(x3)


def psci_seeds():
    head = below(4, 3)
    for i in range(4):
        head += u8(1) + u8(0x80 >> 7 << 7) + u8(0)  # MPIDR = i, U bit clear, RES1 set, nothing above Aff3
    prog = head
    for t in (1, 2, 3):
        prog += psci_call(0, "cpu_on64", t, x3=0x100 + t) + psci_call(0, "cpu_on64", t)  # the second: ALREADY_ON
        prog += below(4, 2) + below(4, t)  # the target takes it
    prog += psci_call(2, "affinity64", 2) + psci_call(2, "cpu_off") + psci_call(1, "cpu_on64", 2, entry_ok=False)
    prog += psci_call(1, "cpu_on64", 2) + psci_call(3, "cpu_on64", 2) + below(4, 2) + below(4, 2)
    prog += psci_call(0, "features") + psci_call(0, "reset")
    write("psci", "boot-and-hotplug", prog)


# ---- pl011 -----------------------------------------------------------------------

PL011_OFFSETS = [0x000, 0x004, 0x018, 0x020, 0x024, 0x028, 0x02c, 0x030, 0x034, 0x038, 0x03c,
                 0x040, 0x044, 0x048, 0x04c, 0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc]


def pl011_access(off, write, value=0, width_index=0):
    return below(8, 0) + below(0x1000, 0) + below(4, 1) + below(len(PL011_OFFSETS), PL011_OFFSETS.index(off)) + \
        below(4, 1) + below(7, width_index) + u8(1 if write else 0) + (u32(value) if write else b"") + below(4, 0)


def pl011_seeds():
    prog = pl011_access(0x030, True, 0x301) + pl011_access(0x038, True, 0x70)  # enable, unmask RX/TX/RT
    prog += below(8, 5) + below(40, 35) + b"hello, guest: more than thirty-two bytes"[:36]
    for _ in range(3):
        prog += pl011_access(0x000, False) + pl011_access(0x018, False) + pl011_access(0x040, False)
    prog += pl011_access(0x000, True, ord("x")) + pl011_access(0xfe0, False) + below(8, 7) + below(4, 0)
    write("pl011", "linux-console", prog)


# ---- gdb -------------------------------------------------------------------------

def gdb_cmd(case, args=b""):
    return below(8, 2) + u8(1) + below(24, case) + args


def gdb_stop(reason, thread):
    return below(8, 6) + below(5, reason) + below(5, thread)


def gdb_text(off):  # fuzz_gdb.cpp address(): kText + below(264) - 4
    return below(4, 0) + below(264, off + 4)


def gdb_seeds():
    head = below(8, 3) + below(4, 2)  # 4 threads, 2 hardware breakpoint slots
    attach = gdb_cmd(19, u8(0)) + gdb_stop(4, 0)  # qSupported, then the target stops
    session = attach + gdb_cmd(0) + gdb_cmd(1) + gdb_cmd(17, u8(1)) + gdb_cmd(13, u8(1) + below(5, 3) + u8(1))
    session += gdb_cmd(5, gdb_text(16) + u8(1) + below(16, 8))                          # m
    session += gdb_cmd(8, u8(1) + below(3, 0) + gdb_text(16) + u8(1))                    # Z0
    session += gdb_cmd(8, u8(1) + below(3, 1) + gdb_text(32) + u8(1))                    # Z1
    session += gdb_cmd(5, gdb_text(16) + u8(1) + below(16, 8))                           # m over the BRK
    session += gdb_cmd(10, below(4, 0) + u8(0)) + gdb_stop(0, 1)                          # c, breakpoint
    session += gdb_cmd(11, below(3, 0) + below(6, 1) + u8(0) + u8(1) + below(5, 3)) + gdb_stop(2, 1)  # vCont;s:1
    session += gdb_cmd(6, below(12, 4) + gdb_text(20) + u8(1) + bytes(4))                 # M
    session += gdb_cmd(15, u16(0) + u16(0x200)) + gdb_cmd(4, below(72, 32) + below(4, 1) + bytes(8))  # qXfer, P
    write("gdb", "session", head + session + gdb_cmd(20, u8(1)))                         # D
    write("gdb", "ctrl-c-and-disconnect", head + attach + gdb_cmd(10, below(4, 0) + u8(0)) + below(8, 5) +
          gdb_stop(3, 2) + gdb_cmd(8, u8(1) + below(3, 0) + gdb_text(8) + u8(1)) + gdb_cmd(10, below(4, 0) + u8(0)) +
          below(8, 7) + below(4, 0) + gdb_stop(4, 0))


# ---- virtio ----------------------------------------------------------------------

def virtio_request(kind, sector, data=(), status=True):
    """One fuzz_virtio.cpp request(): header, data buffers (len code, slot), status."""
    types = {"in": 0, "out": 1, "flush": 2, "getid": 3, "bad": 4}
    b = below(16, 3) + below(5, types[kind]) + below(4, 1) + below(66, sector) + below(256, sector + 1)
    b += below(8, 1) + below(16, 1)  # 16-byte header, device-readable
    b += below(5, len(data))
    for i, n512 in enumerate(data):
        b += below(4, 1) + below(2, n512 - 1) + below(2, 0)  # 512 or 1024 bytes
        b += below(8, 1) + u16(0x200 * i + 0x40 * sector) + below(16, 1)
    b += (below(8, 1) + below(256, sector) + below(8, 1)) if status else below(8, 0)
    return b + b"".join(below(32, 1) for _ in range(len(data) + 1 + (1 if status else 0)))


def virtio_seeds():
    for name, asyn in (("sync", 0), ("async", 1)):
        head = below(64, 31) + below(4, 1) + u8(asyn) + below(8, 2) + below(8, 3)
        bring = below(16, 1) + below(4, 1) + below(9, 1) + below(4, 1) + below(64, 0) + below(8, 1) + below(8, 1)
        prog = head + bring
        prog += virtio_request("out", 3, (1, 2)) + virtio_request("in", 3, (2, 1)) + virtio_request("getid", 0, (1,))
        prog += virtio_request("flush", 0) + virtio_request("bad", 1, (1,)) + virtio_request("in", 40, (1,))
        prog += below(16, 7) + below(8, 1)  # notify queue 0
        prog += below(16, 10) + below(4, 3) + u8(1)  # the backend finishes (out of order), service()
        prog += below(16, 11) + below(4, 1)  # ack the interrupt
        prog += virtio_request("out", 2, (1,), status=False) + below(16, 8) + below(8, 1)
        prog += below(16, 10) + below(4, 3) + u8(0) + below(16, 11) + below(4, 1)
        write("virtio", name, prog)


# ---- vgic ------------------------------------------------------------------------

def vgic_seeds():
    head = below(4, 3) + below(7, 0) + below(4, 0) + below(4, 1) + u8(1)  # 4 vCPUs, 96 SPIs, flat, 4 LRs, Linux setup

    def op(v, code, args=b""):
        return below(4, v) + below(16, code) + args

    def take(v):  # enter, acknowledge and deactivate LR 0 and 1, exit
        return op(v, 6) + op(v, 8, below(4, 0)) + op(v, 8, below(4, 1)) + op(v, 10, below(4, 0)) + \
            op(v, 10, below(4, 1)) + op(v, 11)

    def sgi(sender, target, intid):
        return op(sender, 5, below(16, intid) + below(8, 1) + below(4, target) + u16(1 << target) + below(8, 1))

    prog = head
    for v in range(4):
        prog += sgi(v, (v + 1) % 4, 1 + v) + sgi(v, (v + 2) % 4, 2)
    for v in range(4):
        prog += take(v)
    prog += op(0, 3, below(98, 1)) + op(0, 3, below(98, 1)) + take(0)  # SPI 33 twice: one delivery
    prog += op(0, 2, below(98, 16) + u8(1)) + take(0) + op(0, 2, below(98, 16) + u8(0))  # a level line
    prog += op(2, 4, u8(0) + u8(1) + u8(1)) + op(2, 6) + op(2, 12) + op(2, 13) + take(2)  # the vtimer's line (HW), WFI
    prog += op(1, 12) + op(3, 5, below(16, 0) + below(8, 1) + below(4, 1) + u16(2) + below(8, 1)) + op(1, 13) + take(1)
    write("vgic", "linux-ipis-spis-timer", prog)


# ---- virtio_driver -----------------------------------------------------------------

def virtio_driver_seeds():
    prog = below(9, 0)  # 8 entries
    for n in (3, 2, 3):  # header, data, status: readable, then writable
        prog += below(6, 0) + below(6, n) + b"".join(below(8, 1) + below(2, 0) + below(4, 1) for _ in range(n))
    for _ in range(3):  # the device answers each once, the driver reaps
        prog += below(6, 2) + below(4, 1) + below(3, 0) + below(4, 1) + below(4, 1) + below(2048, 513)
        prog += below(6, 4)
    prog += below(6, 5) + below(4, 1) + below(2, 1) + below(6, 5) + below(4, 2)
    write("virtio_driver", "three-requests", prog)


# ---- machine_desc / options ------------------------------------------------------

def machine_desc_seeds():
    """What scripts/machine.py writes for VMS=1 and VMS=2 (multi), and an
    error or two; the first byte is the pCPU count minus one."""
    vm = ("vm {i}\nvcpus {n}\npcpus {p}\nram {ram:#x} 0x20000000\nkernel {k:#x} 27303872\n"
          "initrd {r:#x} 1468469\ndisk {disk}\nconsole {con}\nbootargs console=ttyAMA0 quiet\nend\n")
    one = "hyp-machine 1\n# one VM\n" + vm.format(i=0, n=4, p="0 1 2 3", ram=0x50000000, k=0x44000000,
                                                   r=0x45c00000, disk="vm0", con="uart")
    two = ("hyp-machine 1\n" +
           vm.format(i=0, n=2, p="0 1", ram=0x50000000, k=0x44000000, r=0x45c00000, disk="vm0", con="uart") +
           vm.format(i=1, n=2, p="2 3", ram=0x70000000, k=0x46000000, r=0x47c00000, disk="none", con="port"))
    write("machine_desc", "one-vm", u8(3) + one.encode())
    write("machine_desc", "two-vms", u8(3) + two.encode())
    write("machine_desc", "overlap", u8(3) + two.replace("0x70000000", "0x50000000").encode())
    write("machine_desc", "no-end", u8(0) + one[:-4].encode())


def options_seeds():
    for name, line in (("multi", "mode=multi initrd_size=0x166835 -- console=ttyAMA0"),
                       ("single", "mode=single timeslice_ms=5 gdb=1 debug=0 -- console=ttyAMA0 nokaslr"),
                       ("trace", "mode=multi trace=1 trace_events=SwitchIn,SgiSend,IrqDeliver --"),
                       ("bad", "mode=dual timeslice_ms=0")):
        write("options", name, line.encode())


SEEDS = [fdt_seeds, mmio_seeds, psci_seeds, pl011_seeds, gdb_seeds, virtio_seeds, vgic_seeds, virtio_driver_seeds, machine_desc_seeds,
         options_seeds]


def main():
    for target in os.listdir(CORPUS) if os.path.isdir(CORPUS) else []:
        shutil.rmtree(os.path.join(CORPUS, target))
    for make in SEEDS:
        make()


if __name__ == "__main__":
    main()
