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


SEEDS = [fdt_seeds]


def main():
    for target in os.listdir(CORPUS) if os.path.isdir(CORPUS) else []:
        shutil.rmtree(os.path.join(CORPUS, target))
    for make in SEEDS:
        make()


if __name__ == "__main__":
    main()
